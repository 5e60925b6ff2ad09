"""Mobiniti (SMS marketing): six webhook kinds fired once, unsubscribes today."""

from functools import partial
from typing import Any

from homeassistant.const import CONF_ACCESS_TOKEN
from homeassistant.core import HomeAssistant
from homeassistant.helpers.selector import BooleanSelector
import voluptuous as vol

from ...api.mobiniti import (
    MOBINITI_API_URL,
    OAUTH_AUTHORIZE_URL,
    OAUTH_TOKEN_URL,
    SCOPES,
)
from ...const import CONF_POLLING
from ...provider import OAuthSpec, Provider, ProviderFlow, ProviderOptions, WebhookSpec
from .actions import ACTIONS
from .coordinator import INTERVAL, MobinitiCoordinator
from .entities import ENTITIES
from .events import WEBHOOK_KINDS, webhook_kind
from .flow import check, oauth_credentials, step_menu, step_oauth, step_token


async def _diagnostics(
    hass: HomeAssistant, coordinator: MobinitiCoordinator
) -> dict[str, Any]:
    """How the entry receives events, and counts; no contacts or messages."""
    entry = coordinator.config_entry
    return {
        "auth": "oauth2" if "auth_implementation" in entry.data else "token",
        "polling": coordinator.polling,
        "unsubscribes_today": coordinator.unsubscribes_today(),
        "history": {
            **coordinator.history(),
            "last_poll_at": coordinator.ledger.position.get("last_poll_at"),
        },
    }


def _option_fields(current: Any) -> dict[vol.Marker, Any]:
    """The polling fallback for when webhooks cannot reach Home Assistant."""
    return {
        vol.Required(CONF_POLLING, default=current.get(CONF_POLLING, False)): (
            BooleanSelector()
        )
    }


PROVIDER = Provider[MobinitiCoordinator](
    key="mobiniti",
    name="Mobiniti",
    model="Mobiniti account",
    coordinator=MobinitiCoordinator,
    entities=ENTITIES,
    flow=ProviderFlow(
        steps={
            "mobiniti": step_menu,
            "mobiniti_oauth": step_oauth,
            "mobiniti_token": step_token,
        },
        secret_key=CONF_ACCESS_TOKEN,
        default_url=MOBINITI_API_URL,
        check=check,
        oauth=OAuthSpec(
            authorize_url=OAUTH_AUTHORIZE_URL,
            token_url=OAUTH_TOKEN_URL,
            more_info_url="https://app.mobiniti.com",
            scopes=tuple(SCOPES),
            credentials=oauth_credentials,
        ),
    ),
    options=ProviderOptions(
        interval=INTERVAL,
        defaults={CONF_POLLING: False},
        fields=_option_fields,
        clean=lambda user_input: {CONF_POLLING: bool(user_input.get(CONF_POLLING))},
    ),
    diagnostics=_diagnostics,
    expected_devices=lambda _: set(),
    webhook=WebhookSpec(
        kinds=WEBHOOK_KINDS,
        kind_of=webhook_kind,
        handlers=lambda c: {
            kind: partial(c.async_handle_webhook, kind) for kind in WEBHOOK_KINDS
        },
    ),
    actions=ACTIONS,
    remove_entry=MobinitiCoordinator.async_remove_ledger,
)
