"""Hipmob (mobile live chat): devices online, pending messages, user availability."""

from dataclasses import asdict
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_API_KEY
from homeassistant.core import HomeAssistant

from ...api.hipmob import HIPMOB_API_URL
from ...const import CONF_DEVICES, CONF_USERS
from ...provider import Followed, Provider, ProviderFlow, ProviderOptions
from ...redact import TO_REDACT
from .actions import ACTIONS
from .coordinator import APP_NOT_FOUND, DEVICE_NOT_FOUND, INTERVAL, HipmobCoordinator
from .entities import ENTITIES, device_identifier, user_identifier
from .flow import check, step_app, step_credentials


async def _diagnostics(
    hass: HomeAssistant, coordinator: HipmobCoordinator
) -> dict[str, Any]:
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


def _expected_devices(coordinator: HipmobCoordinator) -> set[str]:
    entry = coordinator.config_entry
    return {
        *(device_identifier(entry, d) for d in coordinator.device_ids),
        *(user_identifier(entry, u) for u in coordinator.polled_users),
    }


async def _remove_entry(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """A removed entry leaves no issue about its app behind."""
    APP_NOT_FOUND.delete(hass, entry)


PROVIDER = Provider[HipmobCoordinator](
    key="hipmob",
    name="Hipmob",
    model="Hipmob app",
    coordinator=HipmobCoordinator,
    entities=ENTITIES,
    flow=ProviderFlow(
        steps={"hipmob": step_credentials, "hipmob_app": step_app},
        secret_key=CONF_API_KEY,
        default_url=HIPMOB_API_URL,
        check=check,
    ),
    options=ProviderOptions(
        interval=INTERVAL,
        followed=(CONF_DEVICES, CONF_USERS),
    ),
    diagnostics=_diagnostics,
    expected_devices=_expected_devices,
    followed=(
        Followed(
            option=CONF_DEVICES, identifier=device_identifier, issue=DEVICE_NOT_FOUND
        ),
        Followed(option=CONF_USERS, identifier=user_identifier),
    ),
    actions=ACTIONS,
    remove_entry=_remove_entry,
)
