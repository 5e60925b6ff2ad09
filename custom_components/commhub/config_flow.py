"""Config flow: one entry per account of one service."""

from collections.abc import Mapping
from typing import Any

from homeassistant.config_entries import (
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlowWithReload,
)
from homeassistant.const import CONF_API_KEY, CONF_SCAN_INTERVAL
from homeassistant.core import callback
from homeassistant.data_entry_flow import section
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
import voluptuous as vol

from .api import CommHubApiError, CommHubAuthError, CommHubPaymentRequiredError
from .api.hipmob import HIPMOB_API_URL, HipmobApp, HipmobClient
from .const import (
    CONF_ACCOUNT,
    CONF_ADVANCED,
    CONF_APP,
    CONF_BASE_URL,
    CONF_DEVICES,
    CONF_SERVICE,
    CONF_USERS,
    DEFAULT_HIPMOB_SCAN_INTERVAL,
    DOMAIN,
    HIPMOB_SCAN_INTERVAL_RANGE,
    LOGGER,
    SERVICE_HIPMOB,
)
from .coordinator import HipmobConfigEntry

PASSWORD = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
LIST_OF_TEXT = TextSelector(TextSelectorConfig(multiple=True))


def _advanced_section(base_url: str) -> section:
    """The collapsed section holding the API base URL."""
    return section(
        vol.Schema({vol.Required(CONF_BASE_URL, default=base_url): str}),
        {"collapsed": True},
    )


def _clean_list(values: Any) -> list[str]:
    """Trimmed, non-empty, de-duplicated items in the order given."""
    return list(dict.fromkeys(v.strip() for v in values or [] if v and v.strip()))


def _tracking_schema(defaults: Mapping[str, Any]) -> dict[vol.Marker, Any]:
    """The lists of devices and users to follow."""
    return {
        vol.Optional(CONF_DEVICES, default=defaults.get(CONF_DEVICES, [])): (
            LIST_OF_TEXT
        ),
        vol.Optional(CONF_USERS, default=defaults.get(CONF_USERS, [])): LIST_OF_TEXT,
    }


class CommHubConfigFlow(ConfigFlow, domain=DOMAIN):
    """Choose a service, then sign in to one account of it."""

    VERSION = 1

    def __init__(self) -> None:
        """Start with nothing validated."""
        self._credentials: dict[str, str] = {}
        self._apps: list[HipmobApp] = []

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: HipmobConfigEntry) -> CommHubOptionsFlow:
        """Options: poll interval and what to follow."""
        return CommHubOptionsFlow()

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Which service this account belongs to."""
        return self.async_show_menu(step_id="user", menu_options=[SERVICE_HIPMOB])

    async def _validate(
        self, account: str, api_key: str, base_url: str
    ) -> tuple[list[HipmobApp], dict[str, str]]:
        """List the apps with these credentials; errors for the form if that fails."""
        if not base_url.startswith(("http://", "https://")):
            return [], {"base": "invalid_url"}
        client = HipmobClient(
            async_get_clientsession(self.hass), account, api_key, base_url
        )
        try:
            return await client.list_apps(), {}
        except CommHubAuthError:
            return [], {"base": "invalid_auth"}
        except CommHubPaymentRequiredError:
            return [], {"base": "payment_required"}
        except CommHubApiError:
            return [], {"base": "cannot_connect"}
        except Exception:
            LOGGER.exception("Unexpected error while validating Hipmob credentials")
            return [], {"base": "unknown"}

    async def async_step_hipmob(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Hipmob account name and API key."""
        errors: dict[str, str] = {}
        if user_input is not None:
            account = user_input[CONF_ACCOUNT].strip()
            base_url = user_input[CONF_ADVANCED][CONF_BASE_URL].strip().rstrip("/")
            await self.async_set_unique_id(account.casefold())
            self._abort_if_unique_id_configured()
            self._apps, errors = await self._validate(
                account, user_input[CONF_API_KEY], base_url
            )
            if not errors:
                if not self._apps:
                    return self.async_abort(reason="no_apps")
                self._credentials = {
                    CONF_ACCOUNT: account,
                    CONF_API_KEY: user_input[CONF_API_KEY],
                    CONF_BASE_URL: base_url,
                }
                return await self.async_step_hipmob_app()
        return self.async_show_form(
            step_id="hipmob",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema(
                    {
                        vol.Required(CONF_ACCOUNT): str,
                        vol.Required(CONF_API_KEY): PASSWORD,
                        vol.Required(CONF_ADVANCED): _advanced_section(HIPMOB_API_URL),
                    }
                ),
                user_input,
            ),
            errors=errors,
        )

    async def async_step_hipmob_app(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Which app, and which of its devices and users to follow."""
        if user_input is not None:
            app = next(a for a in self._apps if a.id == user_input[CONF_APP])
            return self.async_create_entry(
                title=f"{app.name} ({self._credentials[CONF_ACCOUNT]})",
                data={
                    CONF_SERVICE: SERVICE_HIPMOB,
                    **self._credentials,
                    CONF_APP: app.id,
                },
                options={
                    CONF_SCAN_INTERVAL: DEFAULT_HIPMOB_SCAN_INTERVAL.seconds,
                    CONF_DEVICES: _clean_list(user_input.get(CONF_DEVICES)),
                    CONF_USERS: _clean_list(user_input.get(CONF_USERS)),
                },
            )
        app_options = [SelectOptionDict(value=a.id, label=a.name) for a in self._apps]
        return self.async_show_form(
            step_id="hipmob_app",
            data_schema=vol.Schema(
                {
                    vol.Required(CONF_APP, default=self._apps[0].id): SelectSelector(
                        SelectSelectorConfig(options=app_options)
                    ),
                    **_tracking_schema({CONF_USERS: [self._credentials[CONF_ACCOUNT]]}),
                }
            ),
        )

    async def async_step_reauth(
        self, entry_data: Mapping[str, Any]
    ) -> ConfigFlowResult:
        """The service refused the stored credentials."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for a new API key for the same account."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            _, errors = await self._validate(
                entry.data[CONF_ACCOUNT],
                user_input[CONF_API_KEY],
                entry.data[CONF_BASE_URL],
            )
            if not errors:
                return self.async_update_reload_and_abort(
                    entry, data_updates={CONF_API_KEY: user_input[CONF_API_KEY]}
                )
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=vol.Schema({vol.Required(CONF_API_KEY): PASSWORD}),
            description_placeholders={"account": entry.data[CONF_ACCOUNT]},
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the API key or the base URL of the same account and app."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            base_url = user_input[CONF_ADVANCED][CONF_BASE_URL].strip().rstrip("/")
            apps, errors = await self._validate(
                entry.data[CONF_ACCOUNT], user_input[CONF_API_KEY], base_url
            )
            if not errors and entry.data[CONF_APP] not in {a.id for a in apps}:
                errors = {"base": "app_not_found"}
            if not errors:
                return self.async_update_reload_and_abort(
                    entry,
                    data_updates={
                        CONF_API_KEY: user_input[CONF_API_KEY],
                        CONF_BASE_URL: base_url,
                    },
                )
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=vol.Schema(
                {
                    vol.Required(CONF_API_KEY): PASSWORD,
                    vol.Required(CONF_ADVANCED): _advanced_section(
                        entry.data[CONF_BASE_URL]
                    ),
                }
            ),
            description_placeholders={"account": entry.data[CONF_ACCOUNT]},
            errors=errors,
        )


class CommHubOptionsFlow(OptionsFlowWithReload):
    """Poll interval and the devices and users to follow."""

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """One form for all options."""
        if user_input is not None:
            return self.async_create_entry(
                data={
                    CONF_SCAN_INTERVAL: int(user_input[CONF_SCAN_INTERVAL]),
                    CONF_DEVICES: _clean_list(user_input.get(CONF_DEVICES)),
                    CONF_USERS: _clean_list(user_input.get(CONF_USERS)),
                }
            )
        options = self.config_entry.options
        low, high = HIPMOB_SCAN_INTERVAL_RANGE
        return self.async_show_form(
            step_id="init",
            data_schema=vol.Schema(
                {
                    vol.Required(
                        CONF_SCAN_INTERVAL,
                        default=options.get(
                            CONF_SCAN_INTERVAL, DEFAULT_HIPMOB_SCAN_INTERVAL.seconds
                        ),
                    ): NumberSelector(
                        NumberSelectorConfig(
                            min=low,
                            max=high,
                            step=1,
                            unit_of_measurement="s",
                            mode=NumberSelectorMode.BOX,
                        )
                    ),
                    **_tracking_schema(options),
                }
            ),
        )
