"""Diagnostics with everything secret or personal redacted."""

from dataclasses import asdict
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_API_KEY, CONF_API_TOKEN
from homeassistant.core import HomeAssistant

from .const import CONF_ACCOUNT, CONF_USERS
from .coordinator import HipmobCoordinator
from .data import CommHubConfigEntry
from .hipcall_coordinator import HipcallCoordinator

TO_REDACT = {
    CONF_API_KEY,
    CONF_API_TOKEN,
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
    hass: HomeAssistant, entry: CommHubConfigEntry
) -> dict[str, Any]:
    """Entry settings and the latest poll, without secrets or names."""
    coordinator = entry.runtime_data
    return {
        "entry": async_redact_data(entry.as_dict(), TO_REDACT),
        "last_update_success": coordinator.last_update_success,
        **(
            _hipcall(coordinator)
            if isinstance(coordinator, HipcallCoordinator)
            else _hipmob(coordinator)
        ),
    }


def _hipmob(coordinator: HipmobCoordinator) -> dict[str, Any]:
    data = coordinator.data
    return {
        "devices": {
            device_id: async_redact_data(asdict(tracked), TO_REDACT)
            for device_id, tracked in data.devices.items()
        },
        "users": [
            async_redact_data(asdict(user), TO_REDACT) if user else None
            for user in data.users.values()
        ],
    }


def _hipcall(coordinator: HipcallCoordinator) -> dict[str, Any]:
    data = coordinator.data
    ledger = coordinator.ledger
    return {
        "users": [
            async_redact_data(asdict(user), TO_REDACT) for user in data.users.values()
        ],
        "extensions": len(data.extensions),
        "missed_today": data.missed_today(),
        "last_missed_at": data.last_missed_at,
        "call_history": {
            "baseline_at": ledger.baseline_at,
            "last_poll_at": ledger.last_poll_at,
            "calls_remembered": len(ledger.seen),
            "resume_page": ledger.resume_page,
        }
        if ledger
        else None,
        "requests_in_rate_window": coordinator.client.budget.used
        if coordinator.client.budget
        else None,
    }
