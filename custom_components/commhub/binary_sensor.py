"""Binary sensors: whatever the entry's provider describes."""

from typing import Any

from homeassistant.components.binary_sensor import BinarySensorEntity
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import CommHubConfigEntry
from .descriptions import CommHubBinarySensorDescription
from .entity import CommHubEntity, async_add_entity_groups
from .providers import provider_of

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: CommHubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """The binary sensors of the entry's provider."""
    async_add_entity_groups(
        entry,
        provider_of(entry).entities[Platform.BINARY_SENSOR],
        CommHubBinarySensor,
        async_add_entities,
    )


class CommHubBinarySensor(CommHubEntity[Any], BinarySensorEntity):
    """A binary sensor whose state its description computes."""

    entity_description: CommHubBinarySensorDescription

    @property
    def is_on(self) -> bool | None:
        """Whether it is on, from the latest data."""
        return self.entity_description.is_on_fn(self.coordinator, self.item)
