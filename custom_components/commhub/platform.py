"""Each platform module's setup: the entities its provider describes for it."""

from collections.abc import Awaitable, Callable
from typing import Any

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import CommHubConfigEntry
from .entity import CommHubEntity, async_add_entity_groups
from .providers import provider_of

type SetupEntry = Callable[
    [HomeAssistant, CommHubConfigEntry, AddConfigEntryEntitiesCallback],
    Awaitable[None],
]


def platform_setup(
    platform: Platform, entity_class: type[CommHubEntity[Any]]
) -> SetupEntry:
    """The platform's `async_setup_entry`: the entry's provider's entities of it."""

    async def async_setup_entry(
        hass: HomeAssistant,
        entry: CommHubConfigEntry,
        async_add_entities: AddConfigEntryEntitiesCallback,
    ) -> None:
        async_add_entity_groups(
            entry,
            provider_of(entry).entities[platform],
            entity_class,
            async_add_entities,
        )

    return async_setup_entry
