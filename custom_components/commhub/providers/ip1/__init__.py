"""IP1 SMS: followed conversations, inbound messages once, delivery reports."""

from typing import Any

from homeassistant.const import CONF_API_KEY
from homeassistant.core import HomeAssistant

from ...api.ip1 import IP1_API_URL
from ...const import CONF_DELIVERY_REPORTS, CONF_PARTICIPANTS
from ...provider import Followed, Provider, ProviderFlow, ProviderOptions, WebhookSpec
from .actions import ACTIONS
from .coordinator import (
    INTERVAL,
    INVALID_PARTICIPANT,
    WEBHOOK_KINDS,
    Ip1Coordinator,
    webhook_kind,
)
from .entities import ENTITIES, participant_identifier
from .flow import check, clean_options, option_fields, step_credentials


async def _diagnostics(
    hass: HomeAssistant, coordinator: Ip1Coordinator
) -> dict[str, Any]:
    """Counts and times only: participants and message texts are personal data."""
    data = coordinator.data
    return {
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
        "history": coordinator.history(),
    }


PROVIDER = Provider[Ip1Coordinator](
    key="ip1",
    name="IP1 SMS",
    model="IP1 SMS account",
    coordinator=Ip1Coordinator,
    entities=ENTITIES,
    flow=ProviderFlow(
        steps={"ip1": step_credentials},
        secret_key=CONF_API_KEY,
        default_url=IP1_API_URL,
        check=check,
    ),
    options=ProviderOptions(
        interval=INTERVAL,
        followed=(CONF_PARTICIPANTS,),
        defaults={CONF_DELIVERY_REPORTS: False},
        fields=option_fields,
        clean=clean_options,
    ),
    diagnostics=_diagnostics,
    expected_devices=lambda c: {
        participant_identifier(c.config_entry, p) for p in c.participants
    },
    followed=(
        Followed(
            option=CONF_PARTICIPANTS,
            identifier=participant_identifier,
            issue=INVALID_PARTICIPANT,
        ),
    ),
    webhook=WebhookSpec(
        kinds=WEBHOOK_KINDS,
        kind_of=webhook_kind,
        handlers=lambda c: {
            "inbound_message": c.async_handle_inbound,
            "delivery_report": c.async_handle_report,
        },
    ),
    actions=ACTIONS,
    remove_entry=Ip1Coordinator.async_remove_ledger,
)
