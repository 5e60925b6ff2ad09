"""Adding a Hipmob account: account name and API key, then the app to follow."""

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigFlowResult
from homeassistant.const import CONF_API_KEY
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import (
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
)
import voluptuous as vol

from ...actions import clean_list
from ...api.hipmob import HipmobApp, HipmobClient
from ...const import CONF_ACCOUNT, CONF_APP, CONF_BASE_URL, CONF_DEVICES, CONF_USERS
from ...forms import PASSWORD, list_fields
from ...provider import Account, FlowError, Provider

if TYPE_CHECKING:
    from ...config_flow import CommHubConfigFlow


async def check(hass: HomeAssistant, data: Mapping[str, Any]) -> Account:
    """List the account's apps; an existing entry's app must still be there."""
    client = HipmobClient(
        async_get_clientsession(hass),
        data[CONF_ACCOUNT],
        data[CONF_API_KEY],
        data[CONF_BASE_URL],
    )
    apps = await client.list_apps()
    if CONF_APP in data and data[CONF_APP] not in {app.id for app in apps}:
        raise FlowError("app_not_found")
    account: str = data[CONF_ACCOUNT]
    return Account(id=account.casefold(), title=account, extra=apps)


async def step_credentials(
    flow: CommHubConfigFlow,
    provider: Provider[Any],
    user_input: dict[str, Any] | None,
) -> ConfigFlowResult:
    """Account name and API key."""

    async def signed_in(
        account: Account, credentials: dict[str, Any]
    ) -> ConfigFlowResult:
        if not account.extra:
            return flow.async_abort(reason="no_apps")
        flow.carried.update(account=account, credentials=credentials)
        return await step_app(flow, provider, None)

    return await flow.async_credentials_form(
        provider,
        {vol.Required(CONF_ACCOUNT): str, vol.Required(CONF_API_KEY): PASSWORD},
        user_input,
        signed_in,
    )


async def step_app(
    flow: CommHubConfigFlow,
    provider: Provider[Any],
    user_input: dict[str, Any] | None,
) -> ConfigFlowResult:
    """Which app, and which of its devices and users to follow."""
    account: Account = flow.carried["account"]
    apps: list[HipmobApp] = account.extra
    if user_input is not None:
        app = next(a for a in apps if a.id == user_input[CONF_APP])
        return await flow.async_create_account_entry(
            provider,
            Account(account.id, f"{app.name} ({account.title})"),
            {**flow.carried["credentials"], CONF_APP: app.id},
            {
                CONF_DEVICES: clean_list(user_input.get(CONF_DEVICES) or []),
                CONF_USERS: clean_list(user_input.get(CONF_USERS) or []),
            },
        )
    app_options = [SelectOptionDict(value=a.id, label=a.name) for a in apps]
    return flow.async_show_form(
        step_id="hipmob_app",
        data_schema=vol.Schema(
            {
                vol.Required(CONF_APP, default=apps[0].id): SelectSelector(
                    SelectSelectorConfig(options=app_options)
                ),
                **list_fields(
                    {CONF_USERS: [account.title]}, (CONF_DEVICES, CONF_USERS)
                ),
            }
        ),
    )
