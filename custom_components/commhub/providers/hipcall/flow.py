"""Adding a Hipcall account: an API token."""

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigFlowResult
from homeassistant.const import CONF_API_TOKEN
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
import voluptuous as vol

from ...api import CommHubApiError, CommHubAuthError, hipcall as api
from ...api.hipcall import HipcallUser
from ...const import CONF_BASE_URL
from ...forms import PASSWORD
from ...provider import Account, FlowError, Provider
from .coordinator import remember_signed_in

if TYPE_CHECKING:
    from ...config_flow import CommHubConfigFlow


def account_owner(users: list[HipcallUser]) -> HipcallUser:
    """The account's owner, or its first user when none is marked as owner."""
    return next((u for u in users if u.owner), min(users, key=lambda u: u.id))


async def check(hass: HomeAssistant, data: Mapping[str, Any]) -> Account:
    """List the users: the account is its owner's.

    Without a base URL, Hipcall's known API hosts are tried in turn and the
    first that accepts the token is kept.
    """
    if data[CONF_BASE_URL]:
        return await _sign_in(hass, data[CONF_API_TOKEN], data[CONF_BASE_URL])
    refused: CommHubApiError | None = None
    for url in api.KNOWN_API_URLS:
        try:
            account = await _sign_in(hass, data[CONF_API_TOKEN], url)
        except CommHubAuthError as err:
            refused = err
        except CommHubApiError as err:
            refused = refused or err
        else:
            return replace(account, base_url=url)
    assert refused is not None
    raise refused


async def _sign_in(hass: HomeAssistant, token: str, url: str) -> Account:
    client = api.HipcallClient(async_get_clientsession(hass), token, url)
    page = await client.list_users()
    users = page.items
    remember_signed_in(hass, client.base_url, token, page)
    if not users:
        raise FlowError("no_users")
    owner = account_owner(users)
    return Account(id=str(owner.id), title=f"Hipcall ({owner.name})")


async def step_credentials(
    flow: CommHubConfigFlow,
    provider: Provider[Any],
    user_input: dict[str, Any] | None,
) -> ConfigFlowResult:
    """The API token."""

    return await flow.async_credentials_form(
        provider, {vol.Required(CONF_API_TOKEN): PASSWORD}, user_input
    )
