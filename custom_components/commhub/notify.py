"""Notify entities: `notify.send_message` to what the entry's provider describes."""

from typing import Any

from homeassistant.components.notify import NotifyEntity
from homeassistant.const import Platform

from .actions import invalid, results_response
from .api import CommHubApiError
from .descriptions import CommHubNotifyDescription
from .entity import CommHubEntity
from .errors import action_failed
from .platform import platform_setup

PARALLEL_UPDATES = 1


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


async_setup_entry = platform_setup(Platform.NOTIFY, CommHubNotify)
