"""Binary sensors: whatever the entry's provider describes."""

from typing import Any

from homeassistant.components.binary_sensor import BinarySensorEntity
from homeassistant.const import Platform

from .descriptions import CommHubBinarySensorDescription
from .entity import CommHubEntity
from .platform import platform_setup

PARALLEL_UPDATES = 0


class CommHubBinarySensor(CommHubEntity[Any], BinarySensorEntity):
    """A binary sensor whose state its description computes."""

    entity_description: CommHubBinarySensorDescription

    @property
    def is_on(self) -> bool | None:
        """Whether it is on, from the latest data."""
        return self.entity_description.is_on_fn(self.coordinator, self.item)


async_setup_entry = platform_setup(Platform.BINARY_SENSOR, CommHubBinarySensor)
