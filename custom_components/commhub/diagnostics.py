"""Diagnostics with everything secret or personal redacted."""

from dataclasses import asdict
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_API_KEY
from homeassistant.core import HomeAssistant

from .const import CONF_ACCOUNT, CONF_USERS
from .coordinator import HipmobConfigEntry

TO_REDACT = {
    CONF_API_KEY,
    CONF_ACCOUNT,
    CONF_USERS,
    "username",
    "first_name",
    "last_name",
    "email",
    "name",
    "userdata",
    "title",
    "unique_id",
}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: HipmobConfigEntry
) -> dict[str, Any]:
    """Entry settings and the latest poll, without secrets or names."""
    coordinator = entry.runtime_data
    data = coordinator.data
    return {
        "entry": async_redact_data(entry.as_dict(), TO_REDACT),
        "last_update_success": coordinator.last_update_success,
        "devices": {
            device_id: async_redact_data(asdict(tracked), TO_REDACT)
            for device_id, tracked in data.devices.items()
        },
        "users": [
            async_redact_data(asdict(user), TO_REDACT) if user else None
            for user in data.users.values()
        ],
    }
