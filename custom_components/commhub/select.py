"""Selects: whatever the entry's provider describes (e.g. one's own availability)."""

from typing import Any

from homeassistant.components.select import SelectEntity
from homeassistant.const import Platform

from .api import CommHubApiError
from .descriptions import CommHubSelectDescription
from .entity import CommHubEntity
from .errors import action_failed
from .platform import platform_setup

PARALLEL_UPDATES = 1


class CommHubSelect(CommHubEntity[Any], SelectEntity):
    """A select whose option its description reads and sets."""

    entity_description: CommHubSelectDescription

    @property
    def current_option(self) -> str | None:
        """The option as last polled or set."""
        option = self.entity_description.current_fn(self.coordinator, self.item)
        return option if option in self.options else None

    async def async_select_option(self, option: str) -> None:
        """Send the choice to the service."""
        try:
            await self.entity_description.select_fn(self.coordinator, self.item, option)
        except CommHubApiError as err:
            entry = self.coordinator.config_entry
            assert entry is not None
            raise action_failed(self.hass, entry, err) from err


async_setup_entry = platform_setup(Platform.SELECT, CommHubSelect)
