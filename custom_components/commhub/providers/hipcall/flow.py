"""Adding a Hipcall account: an API token."""

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigFlowResult
from homeassistant.const import CONF_API_TOKEN
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
import voluptuous as vol

from ...api.hipcall import HipcallClient, HipcallUser
from ...const import CONF_BASE_URL
from ...forms import PASSWORD
from ...provider import Account, FlowError, Provider

if TYPE_CHECKING:
    from ...config_flow import CommHubConfigFlow


def account_owner(users: list[HipcallUser]) -> HipcallUser:
    """The account's owner, or its first user when none is marked as owner."""
    return next((u for u in users if u.owner), min(users, key=lambda u: u.id))


async def check(hass: HomeAssistant, data: Mapping[str, Any]) -> Account:
    """List the users: the account is its owner's."""
    client = HipcallClient(
        async_get_clientsession(hass), data[CONF_API_TOKEN], data[CONF_BASE_URL]
    )
    users = (await client.list_users()).items
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
