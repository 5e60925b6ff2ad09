"""Config flow: one entry per account of one service."""

from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
import hashlib
import logging
from typing import Any

from homeassistant.components.webhook import async_generate_id
from homeassistant.config_entries import (
    SOURCE_REAUTH,
    SOURCE_RECONFIGURE,
    ConfigFlowResult,
    OptionsFlowWithReload,
)
from homeassistant.const import (
    CONF_ACCESS_TOKEN,
    CONF_API_KEY,
    CONF_API_TOKEN,
    CONF_SCAN_INTERVAL,
    CONF_WEBHOOK_ID,
)
from homeassistant.core import callback
from homeassistant.data_entry_flow import section
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.config_entry_oauth2_flow import AbstractOAuth2FlowHandler
from homeassistant.helpers.selector import (
    BooleanSelector,
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
from homeassistant.helpers.typing import UNDEFINED, UndefinedType
import voluptuous as vol

from .api import (
    CommHubApiError,
    CommHubAuthError,
    CommHubPaymentRequiredError,
    CommHubRequestError,
)
from .api.hipcall import HIPCALL_API_URL, HipcallClient, HipcallUser
from .api.hipmob import HIPMOB_API_URL, HipmobApp, HipmobClient
from .api.ip1 import IP1_API_URL, SENDER_RE, Ip1Client, normalise_participant
from .api.mobiniti import (
    MOBINITI_API_URL,
    SCOPES as MOBINITI_SCOPES,
    MobinitiClient,
)
from .const import (
    CONF_ACCOUNT,
    CONF_ADVANCED,
    CONF_APP,
    CONF_BASE_URL,
    CONF_CLOUDHOOK,
    CONF_DELIVERY_REPORTS,
    CONF_DEVICES,
    CONF_PARTICIPANTS,
    CONF_POLLING,
    CONF_SENDER,
    CONF_SERVICE,
    CONF_USERS,
    DEFAULT_HIPCALL_SCAN_INTERVAL,
    DEFAULT_HIPMOB_SCAN_INTERVAL,
    DEFAULT_IP1_SCAN_INTERVAL,
    DEFAULT_MOBINITI_SCAN_INTERVAL,
    DOMAIN,
    HIPCALL_SCAN_INTERVAL_RANGE,
    HIPMOB_SCAN_INTERVAL_RANGE,
    IP1_SCAN_INTERVAL_RANGE,
    LOGGER,
    MOBINITI_SCAN_INTERVAL_RANGE,
    SERVICE_HIPCALL,
    SERVICE_HIPMOB,
    SERVICE_IP1,
    SERVICE_MOBINITI,
)
from .data import CommHubConfigEntry
from .ip1_coordinator import WEBHOOK_KINDS
from .mobiniti_coordinator import WEBHOOK_KINDS as MOBINITI_WEBHOOK_KINDS
from .webhooks import async_webhook_url, kind_urls

PASSWORD = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
LIST_OF_TEXT = TextSelector(TextSelectorConfig(multiple=True))
SERVICE_NAMES = {
    SERVICE_HIPMOB: "Hipmob",
    SERVICE_HIPCALL: "Hipcall",
    SERVICE_IP1: "IP1 SMS",
    SERVICE_MOBINITI: "Mobiniti",
}
# A number to ask about when no participant is followed yet: any answer but 401
# proves the key (a 404 "no messages" included).
IP1_PROBE_PARTICIPANT = "46700000000"


def _advanced_section(base_url: str) -> section:
    """The collapsed section holding the API base URL."""
    return section(
        vol.Schema({vol.Required(CONF_BASE_URL, default=base_url): str}),
        {"collapsed": True},
    )


def _base_url(user_input: Mapping[str, Any]) -> str:
    return str(user_input[CONF_ADVANCED][CONF_BASE_URL]).strip().rstrip("/")


def _hipcall_owner(users: list[HipcallUser]) -> HipcallUser:
    """The account's owner, or its first user when none is marked as owner."""
    return next((u for u in users if u.owner), min(users, key=lambda u: u.id))


def hipcall_account_id(users: list[HipcallUser]) -> str:
    """A stable identity for a Hipcall account: its owner's user id."""
    return str(_hipcall_owner(users).id)


def _secret_key(entry: CommHubConfigEntry) -> str:
    """The entry's credential field."""
    return {
        SERVICE_HIPCALL: CONF_API_TOKEN,
        SERVICE_MOBINITI: CONF_ACCESS_TOKEN,
    }.get(entry.data[CONF_SERVICE], CONF_API_KEY)


def _uses_oauth(entry: CommHubConfigEntry) -> bool:
    """A Mobiniti entry signed in with Application Credentials."""
    return "auth_implementation" in entry.data


def _placeholders(entry: CommHubConfigEntry) -> dict[str, str]:
    """Which account of which service a reauth or reconfigure form is about."""
    service = entry.data[CONF_SERVICE]
    return {
        "service": SERVICE_NAMES.get(service, service),
        "account": entry.data.get(CONF_ACCOUNT, entry.title),
    }


def hashed_account_id(secret: str) -> str:
    """An entry's identity where the API has no account id to ask: a hash of its
    credential (IP1's key, Mobiniti's token), never the credential itself."""
    return hashlib.sha256(secret.encode()).hexdigest()


def _unique_id(entry: CommHubConfigEntry, secret: str) -> str | UndefinedType:
    """The unique id new credentials give the entry, where it derives from them."""
    if entry.data[CONF_SERVICE] in (SERVICE_IP1, SERVICE_MOBINITI):
        return hashed_account_id(secret)
    return UNDEFINED


def _participants(values: Any) -> tuple[list[str], str | None]:
    """Participants as IP1 wants them, and the first that is not valid."""
    participants: list[str] = []
    for value in _clean_list(values):
        participant = normalise_participant(value)
        if participant is None:
            return [], value
        participants.append(participant)
    return list(dict.fromkeys(participants)), None


def _clean_list(values: Any) -> list[str]:
    """Trimmed, non-empty, de-duplicated items in the order given."""
    return list(dict.fromkeys(v.strip() for v in values or [] if v and v.strip()))


def _tracking_schema(
    defaults: Mapping[str, Any], keys: tuple[str, ...] = (CONF_DEVICES, CONF_USERS)
) -> dict[vol.Marker, Any]:
    """The lists of things to follow (devices, users, ...)."""
    return {
        vol.Optional(key, default=defaults.get(key, [])): LIST_OF_TEXT for key in keys
    }


class CommHubConfigFlow(AbstractOAuth2FlowHandler, domain=DOMAIN):
    """Choose a service, then sign in to one account of it."""

    DOMAIN = DOMAIN
    VERSION = 1

    def __init__(self) -> None:
        """Start with nothing validated."""
        super().__init__()
        self._credentials: dict[str, str] = {}
        self._apps: list[HipmobApp] = []
        self._invalid_participant = ""

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: CommHubConfigEntry) -> CommHubOptionsFlow:
        """Options: poll interval and what to follow."""
        return CommHubOptionsFlow()

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Which service this account belongs to."""
        return self.async_show_menu(
            step_id="user",
            menu_options=[
                SERVICE_HIPMOB,
                SERVICE_HIPCALL,
                SERVICE_MOBINITI,
                SERVICE_IP1,
            ],
        )

    async def _checked[T](
        self, base_url: str, request: Callable[[], Awaitable[list[T]]]
    ) -> tuple[list[T], dict[str, str]]:
        """Run a validating request; errors for the form if it fails."""
        if not base_url.startswith(("http://", "https://")):
            return [], {"base": "invalid_url"}
        try:
            return await request(), {}
        except CommHubAuthError:
            return [], {"base": "invalid_auth"}
        except CommHubPaymentRequiredError:
            return [], {"base": "payment_required"}
        except CommHubApiError:
            return [], {"base": "cannot_connect"}
        except Exception:
            LOGGER.exception("Unexpected error while validating credentials")
            return [], {"base": "unknown"}

    async def _validate(
        self, account: str, api_key: str, base_url: str
    ) -> tuple[list[HipmobApp], dict[str, str]]:
        """List the Hipmob apps with these credentials."""
        session = async_get_clientsession(self.hass)
        return await self._checked(
            base_url, HipmobClient(session, account, api_key, base_url).list_apps
        )

    async def _validate_hipcall(
        self, api_token: str, base_url: str, expected_account: str | None = None
    ) -> tuple[list[HipcallUser], dict[str, str]]:
        """List the Hipcall users with this token (of the expected account, if any)."""
        client = HipcallClient(async_get_clientsession(self.hass), api_token, base_url)

        async def list_users() -> list[HipcallUser]:
            return (await client.list_users()).items

        users, errors = await self._checked(base_url, list_users)
        if not errors and not users:
            errors = {"base": "no_users"}
        elif users and expected_account not in (None, hipcall_account_id(users)):
            errors = {"base": "wrong_account"}
        return users, errors

    async def _validate_ip1(
        self, api_key: str, base_url: str, participants: list[str]
    ) -> dict[str, str]:
        """Errors of an IP1 key: each followed conversation must be readable."""
        client = Ip1Client(async_get_clientsession(self.hass), api_key, base_url)

        async def read_conversations() -> list[str]:
            for participant in participants or [IP1_PROBE_PARTICIPANT]:
                try:
                    await client.conversation_page(participant, limit=1)
                except CommHubRequestError as err:
                    if err.status != 400:
                        raise
                    self._invalid_participant = participant
                    return []
            return participants

        self._invalid_participant = ""
        _, errors = await self._checked(base_url, read_conversations)
        if not errors and self._invalid_participant:
            errors = {CONF_PARTICIPANTS: "invalid_participant"}
        return errors

    async def async_step_hipmob(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Hipmob account name and API key."""
        errors: dict[str, str] = {}
        if user_input is not None:
            account = user_input[CONF_ACCOUNT].strip()
            base_url = _base_url(user_input)
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

    async def async_step_hipcall(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Hipcall API token."""
        errors: dict[str, str] = {}
        if user_input is not None:
            base_url = _base_url(user_input)
            users, errors = await self._validate_hipcall(
                user_input[CONF_API_TOKEN], base_url
            )
            if not errors:
                await self.async_set_unique_id(hipcall_account_id(users))
                self._abort_if_unique_id_configured()
                return self.async_create_entry(
                    title=f"Hipcall ({_hipcall_owner(users).name})",
                    data={
                        CONF_SERVICE: SERVICE_HIPCALL,
                        CONF_API_TOKEN: user_input[CONF_API_TOKEN],
                        CONF_BASE_URL: base_url,
                    },
                    options={CONF_SCAN_INTERVAL: DEFAULT_HIPCALL_SCAN_INTERVAL.seconds},
                )
        return self.async_show_form(
            step_id="hipcall",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema(
                    {
                        vol.Required(CONF_API_TOKEN): PASSWORD,
                        vol.Required(CONF_ADVANCED): _advanced_section(HIPCALL_API_URL),
                    }
                ),
                user_input,
            ),
            errors=errors,
        )

    async def async_step_ip1(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """IP1 API key and the conversations to follow."""
        errors: dict[str, str] = {}
        if user_input is not None:
            base_url = _base_url(user_input)
            api_key = user_input[CONF_API_KEY].strip()
            participants, invalid = _participants(user_input.get(CONF_PARTICIPANTS))
            if invalid is not None:
                self._invalid_participant = invalid
                errors = {CONF_PARTICIPANTS: "invalid_participant"}
            else:
                await self.async_set_unique_id(hashed_account_id(api_key))
                self._abort_if_unique_id_configured()
                errors = await self._validate_ip1(api_key, base_url, participants)
            if not errors:
                return await self._create_webhook_entry(
                    SERVICE_IP1,
                    WEBHOOK_KINDS,
                    {CONF_API_KEY: api_key, CONF_BASE_URL: base_url},
                    {
                        CONF_SCAN_INTERVAL: DEFAULT_IP1_SCAN_INTERVAL.seconds,
                        CONF_PARTICIPANTS: participants,
                        CONF_DELIVERY_REPORTS: False,
                    },
                )
        return self.async_show_form(
            step_id="ip1",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema(
                    {
                        vol.Required(CONF_API_KEY): PASSWORD,
                        **_tracking_schema({}, (CONF_PARTICIPANTS,)),
                        vol.Required(CONF_ADVANCED): _advanced_section(IP1_API_URL),
                    }
                ),
                user_input,
            ),
            description_placeholders={"participant": self._invalid_participant},
            errors=errors,
        )

    @property
    def logger(self) -> logging.Logger:
        """The logger of the OAuth2 steps."""
        return LOGGER

    @property
    def extra_authorize_data(self) -> dict[str, Any]:
        """Only the scopes CommHub's features need."""
        return {"scope": " ".join(MOBINITI_SCOPES)}

    async def async_step_mobiniti(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Sign in with Application Credentials (OAuth2) or a personal token."""
        return self.async_show_menu(
            step_id="mobiniti", menu_options=["mobiniti_oauth", "mobiniti_token"]
        )

    async def async_step_mobiniti_oauth(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Mobiniti's authorization code flow."""
        return await self.async_step_pick_implementation()

    async def _validate_mobiniti(self, token: str, base_url: str) -> dict[str, str]:
        """Errors of a Mobiniti token: a cheap GET its scopes allow."""
        client = MobinitiClient(async_get_clientsession(self.hass), token, base_url)

        async def check() -> list[str]:
            await client.check_token()
            return []

        _, errors = await self._checked(base_url, check)
        return errors

    async def async_oauth_create_entry(self, data: dict[str, Any]) -> ConfigFlowResult:
        """The authorization succeeded: check the token, then create or update."""
        token = data["token"]["access_token"]
        errors = await self._validate_mobiniti(token, MOBINITI_API_URL)
        if errors:
            return self.async_abort(reason=errors["base"])
        unique_id = hashed_account_id(token)
        if self.source in (SOURCE_REAUTH, SOURCE_RECONFIGURE):
            entry = (
                self._get_reauth_entry()
                if self.source == SOURCE_REAUTH
                else self._get_reconfigure_entry()
            )
            return self.async_update_reload_and_abort(
                entry, unique_id=unique_id, data_updates=data
            )
        await self.async_set_unique_id(unique_id)
        self._abort_if_unique_id_configured()
        return await self._create_mobiniti_entry(data)

    async def async_step_mobiniti_token(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """A personal access token (Settings → Integrations in Mobiniti)."""
        errors: dict[str, str] = {}
        if user_input is not None:
            base_url = _base_url(user_input)
            token = user_input[CONF_ACCESS_TOKEN].strip()
            await self.async_set_unique_id(hashed_account_id(token))
            self._abort_if_unique_id_configured()
            errors = await self._validate_mobiniti(token, base_url)
            if not errors:
                return await self._create_mobiniti_entry(
                    {CONF_ACCESS_TOKEN: token, CONF_BASE_URL: base_url}
                )
        return self.async_show_form(
            step_id="mobiniti_token",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema(
                    {
                        vol.Required(CONF_ACCESS_TOKEN): PASSWORD,
                        vol.Required(CONF_ADVANCED): _advanced_section(
                            MOBINITI_API_URL
                        ),
                    }
                ),
                user_input,
            ),
            errors=errors,
        )

    async def _create_mobiniti_entry(
        self, credentials: dict[str, Any]
    ) -> ConfigFlowResult:
        return await self._create_webhook_entry(
            SERVICE_MOBINITI,
            MOBINITI_WEBHOOK_KINDS,
            credentials,
            {
                CONF_SCAN_INTERVAL: DEFAULT_MOBINITI_SCAN_INTERVAL.seconds,
                CONF_POLLING: False,
            },
        )

    async def _create_webhook_entry(
        self,
        service: str,
        kinds: tuple[str, ...],
        credentials: dict[str, Any],
        options: dict[str, Any],
    ) -> ConfigFlowResult:
        """The entry, with its webhook; the last step shows a URL per kind."""
        webhook_id = async_generate_id()
        url, cloudhook = await async_webhook_url(self.hass, webhook_id)
        urls = kind_urls(url, kinds)
        return self.async_create_entry(
            title=SERVICE_NAMES[service],
            data={
                CONF_SERVICE: service,
                **credentials,
                CONF_WEBHOOK_ID: webhook_id,
                CONF_CLOUDHOOK: cloudhook,
            },
            options=options,
            description=service if urls else f"{service}_no_url",
            description_placeholders={
                f"{kind}_url": urls.get(kind, "") for kind in kinds
            },
        )

    async def _oauth_again(self, entry: CommHubConfigEntry) -> ConfigFlowResult:
        """Authorize again with the entry's Application Credentials."""
        return await self.async_step_pick_implementation(
            {"implementation": entry.data["auth_implementation"]}
        )

    async def async_step_reauth(
        self, entry_data: Mapping[str, Any]
    ) -> ConfigFlowResult:
        """The service refused the stored credentials."""
        return await self.async_step_reauth_confirm()

    async def _revalidate(
        self, entry: CommHubConfigEntry, secret: str, base_url: str
    ) -> dict[str, str]:
        """Errors of new credentials for an existing entry (same account, same app)."""
        if entry.data[CONF_SERVICE] == SERVICE_HIPCALL:
            _, errors = await self._validate_hipcall(secret, base_url, entry.unique_id)
            return errors
        if entry.data[CONF_SERVICE] in (SERVICE_IP1, SERVICE_MOBINITI):
            other = self.hass.config_entries.async_entry_for_domain_unique_id(
                DOMAIN, hashed_account_id(secret)
            )
            if other is not None and other.entry_id != entry.entry_id:
                return {"base": "already_configured"}
            if entry.data[CONF_SERVICE] == SERVICE_MOBINITI:
                return await self._validate_mobiniti(secret, base_url)
            return await self._validate_ip1(secret, base_url, [])
        apps, errors = await self._validate(entry.data[CONF_ACCOUNT], secret, base_url)
        if not errors and entry.data[CONF_APP] not in {a.id for a in apps}:
            errors = {"base": "app_not_found"}
        return errors

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for new credentials for the same account."""
        entry = self._get_reauth_entry()
        if _uses_oauth(entry):
            if user_input is None:
                return self.async_show_form(
                    step_id="reauth_confirm",
                    description_placeholders=_placeholders(entry),
                )
            return await self._oauth_again(entry)
        secret_key = _secret_key(entry)
        errors: dict[str, str] = {}
        if user_input is not None:
            secret = user_input[secret_key]
            errors = await self._revalidate(entry, secret, entry.data[CONF_BASE_URL])
            if not errors:
                return self.async_update_reload_and_abort(
                    entry,
                    data_updates={secret_key: secret},
                    unique_id=_unique_id(entry, secret),
                )
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=vol.Schema({vol.Required(secret_key): PASSWORD}),
            description_placeholders=_placeholders(entry),
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the credentials or the base URL of the same account."""
        entry = self._get_reconfigure_entry()
        if _uses_oauth(entry):
            return await self._oauth_again(entry)
        secret_key = _secret_key(entry)
        errors: dict[str, str] = {}
        if user_input is not None:
            base_url = _base_url(user_input)
            errors = await self._revalidate(entry, user_input[secret_key], base_url)
            if not errors:
                return self.async_update_reload_and_abort(
                    entry,
                    data_updates={
                        secret_key: user_input[secret_key],
                        CONF_BASE_URL: base_url,
                    },
                    unique_id=_unique_id(entry, user_input[secret_key]),
                )
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=vol.Schema(
                {
                    vol.Required(secret_key): PASSWORD,
                    vol.Required(CONF_ADVANCED): _advanced_section(
                        entry.data[CONF_BASE_URL]
                    ),
                }
            ),
            description_placeholders=_placeholders(entry),
            errors=errors,
        )


# Per service: (min, max) of the poll interval, its default, and the lists to follow.
OPTIONS: dict[str, tuple[tuple[int, int], timedelta, tuple[str, ...]]] = {
    SERVICE_HIPMOB: (
        HIPMOB_SCAN_INTERVAL_RANGE,
        DEFAULT_HIPMOB_SCAN_INTERVAL,
        (CONF_DEVICES, CONF_USERS),
    ),
    SERVICE_HIPCALL: (HIPCALL_SCAN_INTERVAL_RANGE, DEFAULT_HIPCALL_SCAN_INTERVAL, ()),
    SERVICE_IP1: (
        IP1_SCAN_INTERVAL_RANGE,
        DEFAULT_IP1_SCAN_INTERVAL,
        (CONF_PARTICIPANTS,),
    ),
    SERVICE_MOBINITI: (
        MOBINITI_SCAN_INTERVAL_RANGE,
        DEFAULT_MOBINITI_SCAN_INTERVAL,
        (),
    ),
}


def _ip1_options(
    user_input: Mapping[str, Any],
) -> tuple[dict[str, Any], dict[str, str], str]:
    """IP1's own options (normalised), form errors, and the participant at fault."""
    participants, invalid = _participants(user_input.get(CONF_PARTICIPANTS))
    if invalid is not None:
        return {}, {CONF_PARTICIPANTS: "invalid_participant"}, invalid
    sender = str(user_input.get(CONF_SENDER) or "").strip()
    if sender and not SENDER_RE.fullmatch(sender):
        return {}, {CONF_SENDER: "invalid_sender"}, ""
    return (
        {
            CONF_PARTICIPANTS: participants,
            CONF_SENDER: sender,
            CONF_DELIVERY_REPORTS: bool(user_input.get(CONF_DELIVERY_REPORTS)),
        },
        {},
        "",
    )


class CommHubOptionsFlow(OptionsFlowWithReload):
    """Poll interval and, where the service has them, what to follow."""

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """One form for all options."""
        service = self.config_entry.data[CONF_SERVICE]
        (low, high), default, lists = OPTIONS[service]
        errors: dict[str, str] = {}
        invalid = ""
        if user_input is not None:
            options = {
                CONF_SCAN_INTERVAL: int(user_input[CONF_SCAN_INTERVAL]),
                **{key: _clean_list(user_input.get(key)) for key in lists},
            }
            if service == SERVICE_IP1:
                ip1_options, errors, invalid = _ip1_options(user_input)
                options.update(ip1_options)
            elif service == SERVICE_MOBINITI:
                options[CONF_POLLING] = bool(user_input.get(CONF_POLLING))
            if not errors:
                return self.async_create_entry(data=options)
        current = self.config_entry.options
        schema: dict[vol.Marker, Any] = {
            vol.Required(
                CONF_SCAN_INTERVAL,
                default=current.get(CONF_SCAN_INTERVAL, default.seconds),
            ): NumberSelector(
                NumberSelectorConfig(
                    min=low,
                    max=high,
                    step=1,
                    unit_of_measurement="s",
                    mode=NumberSelectorMode.BOX,
                )
            ),
            **_tracking_schema(current, lists),
        }
        if service == SERVICE_MOBINITI:
            schema[
                vol.Required(CONF_POLLING, default=current.get(CONF_POLLING, False))
            ] = BooleanSelector()
        if service == SERVICE_IP1:
            schema[
                vol.Optional(
                    CONF_SENDER,
                    description={"suggested_value": current.get(CONF_SENDER)},
                )
            ] = str
            schema[
                vol.Required(
                    CONF_DELIVERY_REPORTS,
                    default=current.get(CONF_DELIVERY_REPORTS, False),
                )
            ] = BooleanSelector()
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema(schema), user_input
            ),
            description_placeholders={"participant": invalid},
            errors=errors,
        )
