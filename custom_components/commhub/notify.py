"""Notify entities: `notify.send_message` to what the entry's provider describes."""

from typing import Any

from homeassistant.components.notify import NotifyEntity
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .actions import invalid, results_response
from .api import CommHubApiError
from .coordinator import CommHubConfigEntry
from .descriptions import CommHubNotifyDescription
from .entity import CommHubEntity, async_add_entity_groups
from .errors import action_failed
from .providers import provider_of

PARALLEL_UPDATES = 1


async def async_setup_entry(
    hass: HomeAssistant,
    entry: CommHubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """The notify entities of the entry's provider."""
    async_add_entity_groups(
        entry,
        provider_of(entry).entities[Platform.NOTIFY],
        CommHubNotify,
        async_add_entities,
    )


class CommHubNotify(CommHubEntity[Any], NotifyEntity):
    """Sends a text to its item through the provider's send code."""

    entity_description: CommHubNotifyDescription

    async def async_send_message(self, message: str, title: str | None = None) -> None:
        """Send the text (the title, when given, on its first line)."""
        text = f"{title}\n{message}" if title else message
        if not text.strip():
            raise invalid("empty_message")
        entry = self.coordinator.config_entry
        assert entry is not None
        try:
            result = await self.entity_description.send_fn(
                self.coordinator, self.item, text
            )
            # A refused target is this call's error, translated.
            results_response([result])
        except CommHubApiError as err:
            raise action_failed(self.hass, entry, err) from err
