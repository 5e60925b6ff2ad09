"""Repair flows: stop tracking a device Hipmob does not know."""

from typing import Any

from homeassistant.components.repairs import RepairsFlow, RepairsFlowResult
from homeassistant.core import HomeAssistant
import voluptuous as vol

from .const import CONF_DEVICES


class StopTrackingDeviceFlow(RepairsFlow):
    """Remove an unknown device from the entry's tracked devices."""

    def __init__(self, entry_id: str, device: str) -> None:
        """Remember which entry and device the issue is about."""
        self._entry_id = entry_id
        self._device = device

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> RepairsFlowResult:
        """Start with the confirmation."""
        return await self.async_step_confirm()

    async def async_step_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> RepairsFlowResult:
        """Confirm, then drop the device from the options and reload."""
        entry = self.hass.config_entries.async_get_entry(self._entry_id)
        if user_input is not None:
            if entry is not None:
                devices = [d for d in entry.options[CONF_DEVICES] if d != self._device]
                self.hass.config_entries.async_update_entry(
                    entry, options={**entry.options, CONF_DEVICES: devices}
                )
                self.hass.config_entries.async_schedule_reload(entry.entry_id)
            return self.async_create_entry(data={})
        return self.async_show_form(
            step_id="confirm",
            data_schema=vol.Schema({}),
            description_placeholders={
                "device": self._device,
                "entry": entry.title if entry else "",
            },
        )


async def async_create_fix_flow(
    hass: HomeAssistant, issue_id: str, data: dict[str, Any] | None
) -> RepairsFlow:
    """The fix flow for a `device_not_found` issue."""
    assert data is not None
    return StopTrackingDeviceFlow(str(data["entry_id"]), str(data["device"]))
