"""Hipcall (cloud phone system): users' status and missed calls, each once."""

from dataclasses import asdict
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_API_TOKEN
from homeassistant.core import HomeAssistant

from ...provider import Provider, ProviderFlow, ProviderOptions, WebhookSpec
from ...redact import TO_REDACT
from .actions import ACTIONS
from .coordinator import (
    INTERVAL,
    WEBHOOK_KIND,
    HipcallCoordinator,
    user_identifier,
    webhook_kind,
)
from .entities import ENTITIES
from .flow import check, step_credentials


async def _diagnostics(
    hass: HomeAssistant, coordinator: HipcallCoordinator
) -> dict[str, Any]:
    data = coordinator.data
    return {
        "users": [
            async_redact_data(asdict(user), TO_REDACT) for user in data.users.values()
        ],
        "api_generation": coordinator.client.generation,
        "users_with_extension": len(data.extensions),
        "missed_today": data.missed_today(),
        "last_missed_at": data.last_missed_at,
        "call_history": {**coordinator.history(), **coordinator.ledger.position},
        "requests_in_rate_window": coordinator.client.budget.used
        if coordinator.client.budget
        else None,
    }


PROVIDER = Provider[HipcallCoordinator](
    key="hipcall",
    name="Hipcall",
    model="Hipcall account",
    coordinator=HipcallCoordinator,
    entities=ENTITIES,
    flow=ProviderFlow(
        steps={"hipcall": step_credentials},
        secret_key=CONF_API_TOKEN,
        default_url="",  # found by trying the known hosts
        check=check,
    ),
    options=ProviderOptions(interval=INTERVAL),
    diagnostics=_diagnostics,
    expected_devices=lambda c: {
        user_identifier(c.config_entry, user_id) for user_id in c.data.users
    },
    webhook=WebhookSpec(
        kinds=(WEBHOOK_KIND,),
        kind_of=webhook_kind,
        handlers=lambda c: {WEBHOOK_KIND: c.async_handle_webhook},
    ),
    actions=ACTIONS,
    remove_entry=HipcallCoordinator.async_remove_ledger,
)
