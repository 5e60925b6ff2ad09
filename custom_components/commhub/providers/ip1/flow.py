"""Adding an IP1 account: an API key and the conversations to follow."""

from collections.abc import Iterable, Mapping
import hashlib
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigFlowResult
from homeassistant.const import CONF_API_KEY
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import BooleanSelector
import voluptuous as vol

from ...actions import clean_list
from ...api import CommHubRequestError
from ...api.ip1 import SENDER_RE, Ip1Client, normalise_participant
from ...const import (
    CONF_BASE_URL,
    CONF_DELIVERY_REPORTS,
    CONF_PARTICIPANTS,
    CONF_SENDER,
)
from ...forms import PASSWORD, list_fields
from ...provider import Account, FlowError, Provider

if TYPE_CHECKING:
    from ...config_flow import CommHubConfigFlow


def key_account(api_key: str) -> Account:
    """IP1 has no account to ask for: the key's hash stands for it (never the key).

    The title carries a short tag of that hash, so two entries read differently.
    """
    digest = hashlib.sha256(api_key.encode()).hexdigest()
    return Account(id=digest, title=f"IP1 SMS ({digest[:6]})", proven=False)


def participants(values: Iterable[str] | None) -> list[str]:
    """Participants as IP1 wants them; `FlowError` names the first invalid one."""
    normalised: list[str] = []
    for value in clean_list(values or []):
        participant = normalise_participant(value)
        if participant is None:
            raise FlowError(
                "invalid_participant", CONF_PARTICIPANTS, {"participant": value}
            )
        normalised.append(participant)
    return list(dict.fromkeys(normalised))


async def check(hass: HomeAssistant, data: Mapping[str, Any]) -> Account:
    """Each followed conversation must be readable (400: that participant)."""
    client = Ip1Client(
        async_get_clientsession(hass), data[CONF_API_KEY], data[CONF_BASE_URL]
    )
    if not data.get(CONF_PARTICIPANTS):
        await client.check_key()
    for participant in data.get(CONF_PARTICIPANTS) or []:
        try:
            await client.conversation_page(participant, limit=1)
        except CommHubRequestError as err:
            if err.status != 400:
                raise
            raise FlowError(
                "invalid_participant", CONF_PARTICIPANTS, {"participant": participant}
            ) from err
    return key_account(data[CONF_API_KEY])


def _prepare(credentials: dict[str, Any]) -> dict[str, Any]:
    return {
        **credentials,
        CONF_PARTICIPANTS: participants(credentials.get(CONF_PARTICIPANTS)),
    }


async def step_credentials(
    flow: CommHubConfigFlow,
    provider: Provider[Any],
    user_input: dict[str, Any] | None,
) -> ConfigFlowResult:
    """API key and the participants to follow."""

    async def signed_in(
        account: Account, credentials: dict[str, Any]
    ) -> ConfigFlowResult:
        followed = credentials.pop(CONF_PARTICIPANTS)
        return await flow.async_create_account_entry(
            provider, account, credentials, {CONF_PARTICIPANTS: followed}
        )

    return await flow.async_credentials_form(
        provider,
        {vol.Required(CONF_API_KEY): PASSWORD, **list_fields({}, (CONF_PARTICIPANTS,))},
        user_input,
        signed_in,
        prepare=_prepare,
    )


def option_fields(current: Mapping[str, Any]) -> dict[vol.Marker, Any]:
    """The default sender, and whether to ask for delivery reports."""
    return {
        vol.Optional(
            CONF_SENDER, description={"suggested_value": current.get(CONF_SENDER)}
        ): str,
        vol.Required(
            CONF_DELIVERY_REPORTS, default=current.get(CONF_DELIVERY_REPORTS, False)
        ): BooleanSelector(),
    }


def clean_options(user_input: Mapping[str, Any]) -> dict[str, Any]:
    """Participants normalised, a sender of 3-11 letters or a number."""
    followed = participants(user_input.get(CONF_PARTICIPANTS))
    sender = str(user_input.get(CONF_SENDER) or "").strip()
    if sender and not SENDER_RE.fullmatch(sender):
        raise FlowError("invalid_sender", CONF_SENDER)
    return {
        CONF_PARTICIPANTS: followed,
        CONF_SENDER: sender,
        CONF_DELIVERY_REPORTS: bool(user_input.get(CONF_DELIVERY_REPORTS)),
    }
