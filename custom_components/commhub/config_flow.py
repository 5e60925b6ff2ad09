"""Config flow: choose a provider, then sign in to one account of it.

The provider's own steps come from its `ProviderFlow`; sign-in, reauth,
reconfigure, options and the entry (with its webhook) are the same for all.
"""

from collections.abc import Awaitable, Callable, Mapping
from functools import partial
import logging
from typing import Any

from homeassistant.components.webhook import async_generate_id
from homeassistant.config_entries import (
    SOURCE_REAUTH,
    SOURCE_RECONFIGURE,
    ConfigEntry,
    ConfigFlowResult,
    OptionsFlowWithReload,
)
from homeassistant.const import CONF_SCAN_INTERVAL, CONF_WEBHOOK_ID
from homeassistant.core import callback
from homeassistant.helpers.config_entry_oauth2_flow import AbstractOAuth2FlowHandler
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
)
import voluptuous as vol

from .actions import clean_list
from .api import CommHubApiError, CommHubAuthError, CommHubPaymentRequiredError
from .const import (
    CONF_ADVANCED,
    CONF_BASE_URL,
    CONF_CLOUDHOOK,
    CONF_SERVICE,
    DOMAIN,
    LOGGER,
)
from .coordinator import CommHubConfigEntry
from .forms import PASSWORD, URL_ERRORS, advanced_section, base_url, list_fields
from .provider import (
    Account,
    FlowError,
    OAuthSpec,
    Provider,
    account_unique_id,
    entry_account_id,
)
from .providers import PROVIDERS, oauth_provider, provider_of
from .webhooks import async_webhook_url, kind_urls

# An entry signed in with Application Credentials keeps its implementation here.
CONF_AUTH_IMPLEMENTATION = "auth_implementation"

type SignedIn = Callable[[Account, dict[str, Any]], Awaitable[ConfigFlowResult]]


def _oauth() -> tuple[Provider[Any], OAuthSpec]:
    provider = oauth_provider()
    assert provider.flow.oauth is not None
    return provider, provider.flow.oauth


def _uses_oauth(entry: ConfigEntry) -> bool:
    return CONF_AUTH_IMPLEMENTATION in entry.data


def _form_errors(err: FlowError) -> dict[str, str]:
    return {err.field: err.key}


class CommHubConfigFlow(AbstractOAuth2FlowHandler, domain=DOMAIN):
    """Choose a provider, then sign in to one account of it."""

    DOMAIN = DOMAIN
    VERSION = 1
    MINOR_VERSION = 3

    def __init__(self) -> None:
        """Start with nothing carried between steps."""
        super().__init__()
        # What a provider's steps carry from one step to the next.
        self.carried: dict[str, Any] = {}

    def __getattr__(self, name: str) -> Any:
        """A provider's own step, or its reauth and reconfigure forms."""
        step_id = name.removeprefix("async_step_")
        if step_id != name:
            for provider in PROVIDERS.values():
                if step_id in provider.flow.steps:
                    return partial(provider.flow.steps[step_id], self, provider)
            if step_id.startswith("reauth_"):
                return self.async_step_reauth_confirm
            if step_id.startswith("reconfigure_"):
                return self.async_step_reconfigure
        raise AttributeError(name)

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: CommHubConfigEntry) -> CommHubOptionsFlow:
        """Options: poll interval and what to follow."""
        return CommHubOptionsFlow()

    @property
    def logger(self) -> logging.Logger:
        """The logger of the OAuth2 steps."""
        return LOGGER

    @property
    def extra_authorize_data(self) -> dict[str, Any]:
        """Only the scopes CommHub's features need."""
        _, oauth = _oauth()
        return {"scope": " ".join(oauth.scopes)}

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Which service this account belongs to."""
        return self.async_show_menu(step_id="user", menu_options=list(PROVIDERS))

    async def async_sign_in(
        self, provider: Provider[Any], credentials: Mapping[str, Any]
    ) -> Account:
        """The account the credentials reach; `FlowError` with the form's error."""
        url = str(credentials.get(CONF_BASE_URL, ""))
        if not url.startswith(("http://", "https://")) and (
            url or provider.flow.default_url
        ):
            raise FlowError("invalid_url")
        try:
            return await provider.flow.check(self.hass, credentials)
        except CommHubAuthError as err:
            raise FlowError("invalid_auth") from err
        except CommHubPaymentRequiredError as err:
            raise FlowError("payment_required") from err
        except CommHubApiError as err:
            raise FlowError("cannot_connect") from err
        except FlowError:
            raise
        except Exception as err:
            LOGGER.exception("Unexpected error while validating credentials")
            raise FlowError("unknown") from err

    async def async_claim(self, provider: Provider[Any], account: Account) -> None:
        """Make the account this flow's; abort if an entry has it already.

        Claimed only once the credentials proved it, and never refused for a flow
        in progress: an abandoned flow must not block a retry.
        """
        await self.async_set_unique_id(
            account_unique_id(provider.key, account.id), raise_on_progress=False
        )
        self._abort_if_unique_id_configured()

    async def async_credentials_form(
        self,
        provider: Provider[Any],
        fields: dict[vol.Marker, Any],
        user_input: dict[str, Any] | None,
        signed_in: SignedIn | None = None,
        *,
        step_id: str | None = None,
        prepare: Callable[[dict[str, Any]], dict[str, Any]] = dict,
    ) -> ConfigFlowResult:
        """A provider's credentials form: sign in, claim the account, go on.

        `prepare` normalises the entered credentials (or raises `FlowError`);
        `signed_in` gets the account and the credentials to store (by default,
        the entry is created with them).
        """
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        if user_input is not None:
            try:
                credentials = prepare(
                    {
                        **{
                            key: value.strip() if isinstance(value, str) else value
                            for key, value in user_input.items()
                            if key != CONF_ADVANCED
                        },
                        CONF_BASE_URL: base_url(user_input),
                    }
                )
                account = await self.async_sign_in(provider, credentials)
            except FlowError as err:
                errors, placeholders = _form_errors(err), err.placeholders
            else:
                await self.async_claim(provider, account)
                if account.base_url:
                    credentials[CONF_BASE_URL] = account.base_url
                if signed_in is None:
                    return await self.async_create_account_entry(
                        provider, account, credentials
                    )
                return await signed_in(account, credentials)
        schema = vol.Schema(
            {
                **fields,
                vol.Required(CONF_ADVANCED): advanced_section(
                    provider.flow.default_url,
                    collapsed=not URL_ERRORS & set(errors.values()),
                ),
            }
        )
        return self.async_show_form(
            step_id=step_id or provider.key,
            data_schema=self.add_suggested_values_to_schema(schema, user_input),
            description_placeholders=placeholders,
            errors=errors,
        )

    async def async_create_account_entry(
        self,
        provider: Provider[Any],
        account: Account,
        credentials: Mapping[str, Any],
        options: Mapping[str, Any] | None = None,
    ) -> ConfigFlowResult:
        """The entry (with its webhook); the last step shows a URL per kind."""
        self._abort_if_unique_id_configured()
        data = {CONF_SERVICE: provider.key, **credentials}
        all_options = {
            CONF_SCAN_INTERVAL: provider.options.interval.default,
            **provider.options.defaults,
            **(options or {}),
        }
        if provider.webhook is None:
            return self.async_create_entry(
                title=account.title, data=data, options=all_options
            )
        kinds = provider.webhook.kinds
        webhook_id = async_generate_id()
        url, cloudhook = await async_webhook_url(self.hass, webhook_id)
        urls = kind_urls(url, kinds)
        return self.async_create_entry(
            title=account.title,
            data={**data, CONF_WEBHOOK_ID: webhook_id, CONF_CLOUDHOOK: cloudhook},
            options=all_options,
            description=provider.key if urls else f"{provider.key}_no_url",
            description_placeholders={
                # Where the account was found (a provider may search for it).
                "api_url": str(data.get(CONF_BASE_URL) or provider.flow.default_url),
                **{f"{kind}_url": urls.get(kind, "") for kind in kinds},
            },
        )

    async def async_oauth_create_entry(self, data: dict[str, Any]) -> ConfigFlowResult:
        """Application Credentials signed in: check the token, create or update."""
        provider, oauth = _oauth()
        try:
            account = await self.async_sign_in(provider, oauth.credentials(data))
        except FlowError as err:
            return self.async_abort(reason=err.key)
        if self.source == SOURCE_REAUTH:
            return await self._update_entry(
                self._get_reauth_entry(), provider, account, data
            )
        if self.source == SOURCE_RECONFIGURE:
            return await self._update_entry(
                self._get_reconfigure_entry(), provider, account, data
            )
        await self.async_claim(provider, account)
        return await self.async_create_account_entry(provider, account, data)

    async def _update_entry(
        self,
        entry: ConfigEntry,
        provider: Provider[Any],
        account: Account,
        data: Mapping[str, Any],
    ) -> ConfigFlowResult:
        try:
            unique_id = self._same_account(entry, provider, account)
        except FlowError as err:
            return self.async_abort(reason=err.key)
        return self.async_update_reload_and_abort(
            entry, unique_id=unique_id, data_updates=dict(data)
        )

    def _same_account(
        self, entry: ConfigEntry, provider: Provider[Any], account: Account
    ) -> str:
        """The entry's unique id for new credentials of the same account."""
        if account.proven and account.id != entry_account_id(entry):
            raise FlowError("wrong_account")
        unique_id = account_unique_id(provider.key, account.id)
        other = self.hass.config_entries.async_entry_for_domain_unique_id(
            DOMAIN, unique_id
        )
        if other is not None and other.entry_id != entry.entry_id:
            raise FlowError("already_configured")
        return unique_id

    async def _oauth_again(self, entry: ConfigEntry) -> ConfigFlowResult:
        """Authorize again with the entry's Application Credentials."""
        return await self.async_step_pick_implementation(
            {"implementation": entry.data[CONF_AUTH_IMPLEMENTATION]}
        )

    async def async_step_reauth(
        self, entry_data: Mapping[str, Any]
    ) -> ConfigFlowResult:
        """The service refused the stored credentials."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for new credentials of the same account (or to sign in again)."""
        entry = self._get_reauth_entry()
        provider = provider_of(entry)
        placeholders = {"service": provider.name, "account": entry.title}
        if _uses_oauth(entry):
            if user_input is None:
                return self.async_show_form(
                    step_id=f"reauth_{provider.key}_oauth",
                    description_placeholders=placeholders,
                )
            return await self._oauth_again(entry)
        secret_key = provider.flow.secret_key
        errors: dict[str, str] = {}
        if user_input is not None:
            secret = str(user_input[secret_key]).strip()
            try:
                unique_id, _ = await self._recheck(
                    entry, provider, {**entry.data, secret_key: secret}
                )
            except FlowError as err:
                errors = _form_errors(err)
            else:
                return self.async_update_reload_and_abort(
                    entry, data_updates={secret_key: secret}, unique_id=unique_id
                )
        return self.async_show_form(
            step_id=f"reauth_{provider.key}",
            data_schema=vol.Schema({vol.Required(secret_key): PASSWORD}),
            description_placeholders=placeholders,
            errors=errors,
        )

    async def _recheck(
        self, entry: ConfigEntry, provider: Provider[Any], credentials: dict[str, Any]
    ) -> tuple[str, str]:
        """Sign in with new credentials: the unique id (the same account's) and URL."""
        account = await self.async_sign_in(provider, credentials)
        url = account.base_url or credentials[CONF_BASE_URL]
        return self._same_account(entry, provider, account), url

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the credentials or the base URL of the same account."""
        entry = self._get_reconfigure_entry()
        provider = provider_of(entry)
        if _uses_oauth(entry):
            return await self._oauth_again(entry)
        secret_key = provider.flow.secret_key
        errors: dict[str, str] = {}
        url = entry.data[CONF_BASE_URL]
        if user_input is not None:
            secret = str(user_input[secret_key]).strip()
            url = base_url(user_input)
            try:
                unique_id, url = await self._recheck(
                    entry,
                    provider,
                    {**entry.data, secret_key: secret, CONF_BASE_URL: url},
                )
            except FlowError as err:
                errors = _form_errors(err)
            else:
                return self.async_update_reload_and_abort(
                    entry,
                    data_updates={secret_key: secret, CONF_BASE_URL: url},
                    unique_id=unique_id,
                )
        return self.async_show_form(
            step_id=f"reconfigure_{provider.key}",
            data_schema=vol.Schema(
                {
                    vol.Required(secret_key): PASSWORD,
                    vol.Required(CONF_ADVANCED): advanced_section(
                        url, collapsed=not URL_ERRORS & set(errors.values())
                    ),
                }
            ),
            description_placeholders={"service": provider.name, "account": entry.title},
            errors=errors,
        )


class CommHubOptionsFlow(OptionsFlowWithReload):
    """Poll interval and, where the provider has them, what to follow."""

    def __getattr__(self, name: str) -> Any:
        """The form's step is named after the provider (its own texts)."""
        if name.removeprefix("async_step_") in PROVIDERS:
            return self.async_step_init
        raise AttributeError(name)

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """One form for all options."""
        provider = provider_of(self.config_entry)
        spec = provider.options
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        if user_input is not None:
            try:
                options = {
                    CONF_SCAN_INTERVAL: int(user_input[CONF_SCAN_INTERVAL]),
                    **{
                        key: clean_list(user_input.get(key) or [])
                        for key in spec.followed
                    },
                    **spec.clean(user_input),
                }
            except FlowError as err:
                errors, placeholders = _form_errors(err), err.placeholders
            else:
                return self.async_create_entry(data=options)
        current = self.config_entry.options
        schema: dict[vol.Marker, Any] = {
            vol.Required(
                CONF_SCAN_INTERVAL,
                default=current.get(CONF_SCAN_INTERVAL, spec.interval.default),
            ): NumberSelector(
                NumberSelectorConfig(
                    min=spec.interval.minimum,
                    max=spec.interval.maximum,
                    step=1,
                    unit_of_measurement="s",
                    mode=NumberSelectorMode.BOX,
                )
            ),
            **list_fields(current, spec.followed),
            **spec.fields(current),
        }
        return self.async_show_form(
            step_id=provider.key,
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema(schema), user_input
            ),
            description_placeholders=placeholders,
            errors=errors,
        )
