"""Repair flows: stop following an item the service does not know."""

from typing import Any

from homeassistant.components.repairs import RepairsFlow, RepairsFlowResult
from homeassistant.core import HomeAssistant
import voluptuous as vol

from .issues import issue_data
from .provider import Followed
from .providers import PROVIDERS


class StopFollowingFlow(RepairsFlow):
    """Remove an unknown item from the entry's followed list, then reload."""

    def __init__(self, followed: Followed, entry_id: str, item: str) -> None:
        """Remember which list, entry and item the issue is about."""
        self._followed = followed
        self._entry_id = entry_id
        self._item = item

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> RepairsFlowResult:
        """Start with the confirmation."""
        return await self.async_step_confirm()

    async def async_step_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> RepairsFlowResult:
        """Confirm, then drop the item from the options and reload."""
        entry = self.hass.config_entries.async_get_entry(self._entry_id)
        option = self._followed.option
        if user_input is not None:
            if entry is not None:
                items = [i for i in entry.options.get(option, []) if i != self._item]
                self.hass.config_entries.async_update_entry(
                    entry, options={**entry.options, option: items}
                )
                self.hass.config_entries.async_schedule_reload(entry.entry_id)
            return self.async_create_entry(data={})
        assert self._followed.issue is not None
        return self.async_show_form(
            step_id="confirm",
            data_schema=vol.Schema({}),
            description_placeholders={
                self._followed.issue.item_placeholder: self._item,
                "entry": entry.title if entry else "",
            },
        )


async def async_create_fix_flow(
    hass: HomeAssistant, issue_id: str, data: dict[str, str | int | float | None] | None
) -> RepairsFlow:
    """The fix flow of a fixable item issue."""
    entry_id, item = issue_data(data)
    for provider in PROVIDERS.values():
        for followed in provider.followed:
            issue = followed.issue
            if issue and issue.fixable and issue_id == issue.issue_id(entry_id, item):
                return StopFollowingFlow(followed, entry_id, item)
    raise ValueError(f"no fix flow for {issue_id}")
