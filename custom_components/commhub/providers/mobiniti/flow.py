"""Adding a Mobiniti account: Application Credentials (OAuth2) or a token."""

from collections.abc import Mapping
import hashlib
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigEntry, ConfigFlowResult
from homeassistant.const import CONF_ACCESS_TOKEN
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
import voluptuous as vol

from ...api import CommHubApiError
from ...api.mobiniti import MOBINITI_API_URL, MobinitiClient
from ...const import CONF_BASE_URL, CONF_SERVICE, DOMAIN
from ...forms import PASSWORD
from ...provider import Account, Provider, account_unique_id, entry_account_id

if TYPE_CHECKING:
    from ...config_flow import CommHubConfigFlow


async def check(hass: HomeAssistant, data: Mapping[str, Any]) -> Account:
    """Prove the token; the account is known by its first message.

    Mobiniti names no account, and each sign-in mints a new token: the id of the
    account's oldest message is what every token of it sees alike. An account
    without messages falls back to a hash of the token (never the token).
    """
    token: str = data[CONF_ACCESS_TOKEN]
    session = async_get_clientsession(hass)
    first = await MobinitiClient(
        session, token, data[CONF_BASE_URL]
    ).oldest_message_id()
    if first is None:
        return _account(f"token:{token}")
    account = _account(f"message:{first}")
    for entry in _token_keyed_entries(hass):
        client = MobinitiClient(
            session, entry.data[CONF_ACCESS_TOKEN], entry.data[CONF_BASE_URL]
        )
        try:
            same = await client.oldest_message_id() == first
        except CommHubApiError:
            continue
        if same:
            _rekey(hass, entry, account)
    return account


def _account(identity: str) -> Account:
    digest = hashlib.sha256(identity.encode()).hexdigest()
    return Account(id=digest, title=f"Mobiniti ({digest[:6]})", proven=False)


def _token_keyed_entries(hass: HomeAssistant) -> list[ConfigEntry]:
    """Entries keyed on their token: by CommHub 0.4 and earlier, or still empty."""
    entries = []
    for entry in hass.config_entries.async_entries(DOMAIN):
        token = entry.data.get(CONF_ACCESS_TOKEN)
        if entry.data.get(CONF_SERVICE) != "mobiniti" or not token:
            continue
        keys = {
            hashlib.sha256(token.encode()).hexdigest(),
            _account(f"token:{token}").id,
        }
        if entry_account_id(entry) in keys:
            entries.append(entry)
    return entries


def _rekey(hass: HomeAssistant, entry: ConfigEntry, account: Account) -> None:
    """Key a token-keyed entry on its account, so that a sign-in finds it."""
    unique_id = account_unique_id("mobiniti", account.id)
    if hass.config_entries.async_entry_for_domain_unique_id(DOMAIN, unique_id):
        return
    # A title the user did not choose names the account, as new entries do.
    title = account.title if entry.title == "Mobiniti" else entry.title
    hass.config_entries.async_update_entry(entry, unique_id=unique_id, title=title)


def oauth_credentials(data: Mapping[str, Any]) -> dict[str, Any]:
    """What `check` takes from an authorization (always the public API)."""
    return {
        CONF_ACCESS_TOKEN: data["token"]["access_token"],
        CONF_BASE_URL: MOBINITI_API_URL,
    }


async def step_menu(
    flow: CommHubConfigFlow,
    provider: Provider[Any],
    user_input: dict[str, Any] | None,
) -> ConfigFlowResult:
    """Sign in with Application Credentials (OAuth2) or a personal token."""
    return flow.async_show_menu(
        step_id="mobiniti", menu_options=["mobiniti_oauth", "mobiniti_token"]
    )


async def step_oauth(
    flow: CommHubConfigFlow,
    provider: Provider[Any],
    user_input: dict[str, Any] | None,
) -> ConfigFlowResult:
    """Mobiniti's authorization code flow."""
    return await flow.async_step_pick_implementation()


async def step_token(
    flow: CommHubConfigFlow,
    provider: Provider[Any],
    user_input: dict[str, Any] | None,
) -> ConfigFlowResult:
    """A personal access token (Settings → Integrations in Mobiniti)."""

    return await flow.async_credentials_form(
        provider,
        {vol.Required(CONF_ACCESS_TOKEN): PASSWORD},
        user_input,
        step_id="mobiniti_token",
    )
