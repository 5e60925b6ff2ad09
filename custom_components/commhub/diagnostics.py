"""Diagnostics with everything secret or personal redacted."""

from dataclasses import asdict
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import (
    CONF_ACCESS_TOKEN,
    CONF_API_KEY,
    CONF_API_TOKEN,
    CONF_WEBHOOK_ID,
)
from homeassistant.core import HomeAssistant

from .const import CONF_ACCOUNT, CONF_PARTICIPANTS, CONF_SENDER, CONF_USERS
from .coordinator import HipmobCoordinator
from .data import CommHubConfigEntry, CommHubCoordinator
from .hipcall_coordinator import HipcallCoordinator
from .ip1_coordinator import WEBHOOK_KINDS, Ip1Coordinator
from .mobiniti_coordinator import (
    WEBHOOK_KINDS as MOBINITI_WEBHOOK_KINDS,
    MobinitiCoordinator,
)
from .webhooks import async_entry_webhook_urls, redact_webhook_urls

TO_REDACT = {
    CONF_API_KEY,
    CONF_API_TOKEN,
    CONF_ACCESS_TOKEN,
    "token",
    "refresh_token",
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
    CONF_WEBHOOK_ID,
    CONF_PARTICIPANTS,
    CONF_SENDER,
}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: CommHubConfigEntry
) -> dict[str, Any]:
    """Entry settings and the latest poll, without secrets or names."""
    coordinator = entry.runtime_data
    return {
        "entry": async_redact_data(entry.as_dict(), TO_REDACT),
        "last_update_success": coordinator.last_update_success,
        **await _service_diagnostics(hass, coordinator),
    }


async def _service_diagnostics(
    hass: HomeAssistant, coordinator: CommHubCoordinator
) -> dict[str, Any]:
    if isinstance(coordinator, HipcallCoordinator):
        return _hipcall(coordinator)
    if isinstance(coordinator, Ip1Coordinator):
        return await _ip1(hass, coordinator)
    if isinstance(coordinator, MobinitiCoordinator):
        return await _mobiniti(hass, coordinator)
    return _hipmob(coordinator)


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


async def _ip1(hass: HomeAssistant, coordinator: Ip1Coordinator) -> dict[str, Any]:
    """Counts and times only: participants and message texts are personal data."""
    entry = coordinator.config_entry
    data = coordinator.data
    ledger = coordinator.ledger
    urls = await async_entry_webhook_urls(hass, entry, WEBHOOK_KINDS)
    return {
        "webhook_urls": redact_webhook_urls(urls, entry.data[CONF_WEBHOOK_ID]),
        "participants": len(coordinator.participants),
        "invalid_participants": len(data.invalid),
        "conversations": [
            {
                "status": message.status,
                "created": message.created,
                "length": len(message.body),
            }
            if message
            else None
            for message in data.newest.values()
        ],
        "history": {
            "baseline_at": ledger.baseline_at,
            "messages_remembered": len(ledger.seen),
            "reports_remembered": len(ledger.reports),
        }
        if ledger
        else None,
    }


async def _mobiniti(
    hass: HomeAssistant, coordinator: MobinitiCoordinator
) -> dict[str, Any]:
    """How the entry receives events, and counts; no contacts or messages."""
    entry = coordinator.config_entry
    ledger = coordinator.ledger
    urls = await async_entry_webhook_urls(hass, entry, MOBINITI_WEBHOOK_KINDS)
    return {
        "auth": "oauth2" if "auth_implementation" in entry.data else "token",
        "webhook_urls": redact_webhook_urls(urls, entry.data[CONF_WEBHOOK_ID]),
        "polling": coordinator.polling,
        "unsubscribes_today": coordinator.unsubscribes_today(),
        "history": {
            "baseline_at": ledger.baseline_at,
            "last_poll_at": ledger.last_poll_at,
            "events_remembered": len(ledger.keys),
        }
        if ledger
        else None,
    }
