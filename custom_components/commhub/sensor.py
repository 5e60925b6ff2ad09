"""Sensors: whatever the entry's provider describes."""

from datetime import datetime
from typing import Any, override

from homeassistant.components.sensor import SensorEntity
from homeassistant.const import Platform
from homeassistant.core import callback
from homeassistant.helpers.event import async_track_time_change
from homeassistant.helpers.typing import StateType

from .descriptions import CommHubSensorDescription
from .entity import CommHubEntity
from .platform import platform_setup

PARALLEL_UPDATES = 0


class CommHubSensor(CommHubEntity[Any], SensorEntity):
    """A sensor whose value its description computes."""

    entity_description: CommHubSensorDescription

    @override
    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        if self.entity_description.midnight:
            # A daily count starts again at midnight even when nothing changes.
            self.async_on_remove(
                async_track_time_change(
                    self.hass, self._midnight, hour=0, minute=0, second=0
                )
            )

    @callback
    def _midnight(self, _now: datetime) -> None:
        self.async_write_ha_state()

    @property
    def native_value(self) -> StateType | datetime:
        """The value from the latest data."""
        return self.entity_description.value_fn(self.coordinator, self.item)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Attributes from the latest data, where the description has some."""
        attributes_fn = self.entity_description.attributes_fn
        return (
            dict(attributes_fn(self.coordinator, self.item)) if attributes_fn else None
        )

    @property
    def available(self) -> bool:
        """A value the entry keeps itself stays known while polling fails."""
        if not self.entity_description.polled:
            return True
        return super().available


async_setup_entry = platform_setup(Platform.SENSOR, CommHubSensor)
