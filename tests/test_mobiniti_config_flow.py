"""Mobiniti sign-in: Application Credentials (OAuth2) or a personal access token."""

import hashlib
import time
from typing import Any

from homeassistant.components.application_credentials import (
    ClientCredential,
    async_import_client_credential,
)
from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import config_entry_oauth2_flow
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.test_util.aiohttp import (
    AiohttpClientMocker,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.commhub.api.mobiniti import (
    OAUTH_AUTHORIZE_URL,
    OAUTH_TOKEN_URL,
)
from custom_components.commhub.const import DOMAIN
from sandbox import Fault, Sandbox

from .conftest import MOBINITI_TOKEN, SetupEntry, mobiniti_entry
from .helpers import call

CLIENT_ID = "commhub-client"
CLIENT_SECRET = "commhub-secret"
REDIRECT = "https://example.com/auth/external/callback"
API = "https://api.mobiniti.com"
KINDS = (
    "unsubscribe",
    "inbound_message",
    "delivery_report",
    "contact_status",
    "bounce",
    "rejection",
)
EMPTY_LIST = {"data": [], "meta": {"pagination": {"total": 0, "links": {}}}}
# The id of the (mocked) public API account's oldest message.
FIRST_MESSAGE = "8b1e4c3a-5f0d-4e52-9c1a-2d7f6b0e9a41"


def account_id(identity: str) -> str:
    """A Mobiniti account id: sha256 of `message:<oldest id>` or `token:<token>`."""
    return hashlib.sha256(identity.encode()).hexdigest()


ACCOUNT = account_id(f"message:{FIRST_MESSAGE}")


def oldest_message(sandbox: Sandbox) -> str:
    """The id of the sandbox account's oldest message (seeded: there are some)."""
    messages = sandbox.mobiniti.messages.values()
    assert messages
    return min(messages, key=lambda m: (m.created_at, m.seq)).id


def mock_api(aioclient_mock: AiohttpClientMocker) -> None:
    """The public API, answering the token checks (flow: messages, setup: contacts).

    The account's oldest message is `FIRST_MESSAGE`.
    """
    messages = {
        "data": [{"id": FIRST_MESSAGE, "message": "Hello"}],
        "meta": {"pagination": {"total": 7, "links": {}}},
    }
    aioclient_mock.get(f"{API}/v1/messages", json=messages)
    aioclient_mock.get(f"{API}/v1/contacts", json=EMPTY_LIST)


def oauth_entry() -> MockConfigEntry:
    """An entry signed in with Application Credentials to the mocked account."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=f"Mobiniti ({ACCOUNT[:6]})",
        unique_id=f"mobiniti:{ACCOUNT}",
        minor_version=2,
        data={
            "service": "mobiniti",
            "auth_implementation": "mobiniti",
            "token": {"access_token": "old", "expires_at": 0, "expires_in": 0},
            "webhook_id": "hook",
            "cloudhook": False,
        },
        options={"scan_interval": 60, "polling": False},
    )


def placeholders(result: dict[str, Any]) -> dict[str, str]:
    """The placeholders CommHub gives a reauth or reconfigure form.

    (Home Assistant adds the entry's title as `name` to those of a reauth.)
    """
    given = result["description_placeholders"]
    return {key: given[key] for key in given if key != "name"}


async def _menu(hass: HomeAssistant, choice: str) -> dict[str, Any]:
    """Start a user flow, pick Mobiniti, then the sign-in kind."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "mobiniti"}
    )
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["mobiniti_oauth", "mobiniti_token"]
    return await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": choice}
    )


@pytest.fixture
async def credentials(hass: HomeAssistant) -> None:
    """Application Credentials for Mobiniti."""
    assert await async_setup_component(hass, "application_credentials", {})
    await async_import_client_credential(
        hass, DOMAIN, ClientCredential(CLIENT_ID, CLIENT_SECRET), "mobiniti"
    )


async def _authorize(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    aioclient_mock: AiohttpClientMocker,
    result: dict[str, Any],
    access_token: str = "oauth-access-token",
) -> dict[str, Any]:
    """Follow the external step as the user's browser would; finish the flow."""
    assert result["type"] is FlowResultType.EXTERNAL_STEP
    state = config_entry_oauth2_flow._encode_jwt(
        hass, {"flow_id": result["flow_id"], "redirect_uri": REDIRECT}
    )
    assert result["url"].startswith(f"{OAUTH_AUTHORIZE_URL}?")
    assert f"client_id={CLIENT_ID}" in result["url"]
    assert (
        "scope=messages.view+messages.create+message.schedule.create+"
        "contacts.view+contacts.update+phone-numbers.lookup" in result["url"]
    )
    client = await hass_client_no_auth()
    response = await client.get(f"/auth/external/callback?code=abcd&state={state}")
    assert response.status == 200
    aioclient_mock.post(
        OAUTH_TOKEN_URL,
        json={
            "token_type": "Bearer",
            "expires_in": 315359999,
            "access_token": access_token,
            "refresh_token": "oauth-refresh-token",
        },
    )
    return await hass.config_entries.flow.async_configure(result["flow_id"])


@pytest.mark.usefixtures("current_request_with_host", "credentials")
async def test_oauth_flow_creates_an_entry(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """Authorization code flow against Mobiniti's public endpoints."""
    hass.config.external_url = "https://ha.example.com"
    mock_api(aioclient_mock)
    result = await _menu(hass, "mobiniti_oauth")
    result = await _authorize(hass, hass_client_no_auth, aioclient_mock, result)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    data = result["data"]
    assert data["service"] == "mobiniti"
    assert data["auth_implementation"] == "mobiniti"
    assert data["token"]["access_token"] == "oauth-access-token"
    assert "base_url" not in data
    entry = result["result"]
    # Known by its oldest message, which every token of the account sees alike.
    assert entry.unique_id == f"mobiniti:{ACCOUNT}"
    assert entry.title == f"Mobiniti ({ACCOUNT[:6]})"
    lookups = [c for c in aioclient_mock.mock_calls if c[1].path == "/v1/messages"]
    assert [dict(c[1].query) for c in lookups] == [{"sort": "created_at", "limit": "1"}]
    assert lookups[0][3]["Authorization"] == "Bearer oauth-access-token"
    base = f"https://ha.example.com/api/webhook/{data['webhook_id']}"
    assert result["description_placeholders"] == {
        "api_url": API,
        **{f"{kind}_url": f"{base}?kind={kind}" for kind in KINDS},
    }
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    checks = [c for c in aioclient_mock.mock_calls if str(c[1]).startswith(API)]
    assert checks
    assert checks[-1][3]["Authorization"] == "Bearer oauth-access-token"


@pytest.mark.usefixtures("current_request_with_host", "credentials")
async def test_oauth_token_refused_by_the_api_aborts(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """A token the API refuses (401) ends the flow with invalid_auth."""
    aioclient_mock.get(f"{API}/v1/messages", status=401, json={"status": 401})
    result = await _menu(hass, "mobiniti_oauth")
    result = await _authorize(hass, hass_client_no_auth, aioclient_mock, result)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "invalid_auth"


async def test_oauth_without_credentials_asks_for_them(hass: HomeAssistant) -> None:
    """No Application Credentials yet: the flow says so."""
    assert await async_setup_component(hass, "application_credentials", {})
    result = await _menu(hass, "mobiniti_oauth")
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "missing_credentials"


@pytest.mark.usefixtures("current_request_with_host", "credentials")
async def test_oauth_reauth_and_reconfigure_sign_in_again(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """Both go through Mobiniti's sign-in again and keep the entry (and its id)."""
    mock_api(aioclient_mock)
    entry = oauth_entry()
    entry.add_to_hass(hass)
    result = await entry.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_mobiniti_oauth"
    assert placeholders(result) == {"service": "Mobiniti", "account": entry.title}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    result = await _authorize(
        hass, hass_client_no_auth, aioclient_mock, result, "renewed"
    )
    assert result["reason"] == "reauth_successful"
    assert entry.data["token"]["access_token"] == "renewed"
    assert entry.data["webhook_id"] == "hook"
    assert entry.unique_id == f"mobiniti:{ACCOUNT}"
    await hass.async_block_till_done()
    aioclient_mock.clear_requests()
    mock_api(aioclient_mock)
    result = await entry.start_reconfigure_flow(hass)
    result = await _authorize(
        hass, hass_client_no_auth, aioclient_mock, result, "again"
    )
    assert result["reason"] == "reconfigure_successful"
    assert entry.data["token"]["access_token"] == "again"
    # A new token of the same account: the same oldest message, the same id.
    assert entry.unique_id == f"mobiniti:{ACCOUNT}"


@pytest.mark.usefixtures("current_request_with_host", "credentials")
async def test_oauth_reauth_refuses_the_account_of_another_entry(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """Signing in again as an account another entry has: aborted, nothing moves."""
    other = account_id("message:0b7c9d1e-2f3a-4b5c-8d6e-7f8091a2b3c4")
    taken = oauth_entry()
    taken.add_to_hass(hass)
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=f"Mobiniti ({other[:6]})",
        unique_id=f"mobiniti:{other}",
        minor_version=2,
        data={**taken.data, "webhook_id": "hook-2"},
        options=dict(taken.options),
    )
    entry.add_to_hass(hass)
    mock_api(aioclient_mock)  # the new token reaches the account `taken` has
    result = await entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    result = await _authorize(
        hass, hass_client_no_auth, aioclient_mock, result, "taken-account"
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert entry.unique_id == f"mobiniti:{other}"
    assert entry.data["token"]["access_token"] == "old"


async def _token_sign_in(
    hass: HomeAssistant, sandbox: Sandbox, sandbox_url: str, token: str
) -> dict[str, Any]:
    """Add the sandbox account with a personal access token (the whole flow).

    The sandbox's 1 request/s per route is off: sign-ins follow each other.
    """
    sandbox.mobiniti.rate_limit_enabled = False
    result = await _menu(hass, "mobiniti_token")
    return await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"access_token": token, "advanced": {"base_url": f"{sandbox_url}/mobiniti"}},
    )


async def test_token_flow_creates_an_entry(
    hass: HomeAssistant, sandbox: Sandbox, sandbox_url: str
) -> None:
    """A personal access token, checked with its account's oldest message."""
    result = await _menu(hass, "mobiniti_token")
    assert result["step_id"] == "mobiniti_token"
    fields = {str(k): k for k in result["data_schema"].schema}
    assert list(fields) == ["access_token", "advanced"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            "access_token": MOBINITI_TOKEN,
            "advanced": {"base_url": f"{sandbox_url}/mobiniti/"},
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"]["access_token"] == MOBINITI_TOKEN
    assert result["data"]["base_url"] == f"{sandbox_url}/mobiniti"
    assert result["options"] == {"scan_interval": 60, "polling": False}
    account = account_id(f"message:{oldest_message(sandbox)}")
    assert result["result"].unique_id == f"mobiniti:{account}"
    assert result["title"] == f"Mobiniti ({account[:6]})"
    first = sandbox.mobiniti.requests[0]
    assert (first.method, first.path) == ("GET", "/v1/messages")
    assert dict(first.query) == {"sort": "created_at", "limit": "1"}
    assert first.headers["Authorization"] == f"Bearer {MOBINITI_TOKEN}"


async def test_an_account_without_messages_is_known_by_its_token(
    hass: HomeAssistant, sandbox: Sandbox, sandbox_url: str
) -> None:
    """No message yet: a hash of the token (never the token itself)."""
    sandbox.mobiniti.messages.clear()
    result = await _token_sign_in(hass, sandbox, sandbox_url, MOBINITI_TOKEN)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    account = account_id(f"token:{MOBINITI_TOKEN}")
    assert result["result"].unique_id == f"mobiniti:{account}"
    assert result["title"] == f"Mobiniti ({account[:6]})"
    assert MOBINITI_TOKEN not in result["result"].unique_id


@pytest.mark.parametrize("title", ["Mobiniti", "Shop texts"])
async def test_an_entry_keyed_on_its_token_is_found_by_a_new_sign_in(
    hass: HomeAssistant, sandbox: Sandbox, sandbox_url: str, title: str
) -> None:
    """Entries of earlier releases are keyed on their token; a new token is the same account.

    The sign-in asks with the old entry's token too, and keys that entry on its
    account: the account is not added twice.
    """
    old = mobiniti_entry(sandbox_url)
    old.add_to_hass(hass)
    hass.config_entries.async_update_entry(old, title=title)
    second = "another-token-of-the-same-account"
    sandbox.mobiniti.tokens.add(second)
    result = await _token_sign_in(hass, sandbox, sandbox_url, second)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    account = account_id(f"message:{oldest_message(sandbox)}")
    assert old.unique_id == f"mobiniti:{account}"
    assert old.title == (f"Mobiniti ({account[:6]})" if title == "Mobiniti" else title)
    assert old.data["access_token"] == MOBINITI_TOKEN
    assert len(hass.config_entries.async_entries(DOMAIN)) == 1


async def test_a_token_keyed_entry_that_no_longer_answers_is_left_alone(
    hass: HomeAssistant, sandbox: Sandbox, sandbox_url: str
) -> None:
    """Its token revoked, the old entry cannot be matched: the new sign-in is added."""
    old = mobiniti_entry(sandbox_url)
    old.add_to_hass(hass)
    old_unique_id = old.unique_id
    second = "another-token-of-the-same-account"
    sandbox.mobiniti.tokens = {second}
    result = await _token_sign_in(hass, sandbox, sandbox_url, second)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert old.unique_id == old_unique_id


@pytest.mark.parametrize(
    ("token", "fault", "error"),
    [
        ("not-a-token", None, "invalid_auth"),
        (MOBINITI_TOKEN, Fault("error", status=503), "cannot_connect"),
        (MOBINITI_TOKEN, Fault("error", status=402), "payment_required"),
    ],
)
async def test_token_flow_errors(
    hass: HomeAssistant,
    sandbox: Sandbox,
    sandbox_url: str,
    token: str,
    fault: Fault | None,
    error: str,
) -> None:
    """Errors show on the form; nothing is created."""
    if fault:
        sandbox.mobiniti.add_fault(fault)
    result = await _menu(hass, "mobiniti_token")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"access_token": token, "advanced": {"base_url": f"{sandbox_url}/mobiniti"}},
    )
    assert result["errors"] == {"base": error}
    assert hass.config_entries.async_entries(DOMAIN) == []


async def test_same_token_twice_aborts(
    hass: HomeAssistant, sandbox: Sandbox, sandbox_url: str
) -> None:
    """One entry per account: the same token again is the same account."""
    result = await _token_sign_in(hass, sandbox, sandbox_url, MOBINITI_TOKEN)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    result = await _token_sign_in(hass, sandbox, sandbox_url, MOBINITI_TOKEN)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert len(hass.config_entries.async_entries(DOMAIN)) == 1


async def test_a_second_sign_in_of_the_account_aborts_with_a_new_token(
    hass: HomeAssistant, sandbox: Sandbox, sandbox_url: str
) -> None:
    """Each sign-in mints a new token; the account is still added only once."""
    result = await _token_sign_in(hass, sandbox, sandbox_url, MOBINITI_TOKEN)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    other = sandbox.mobiniti.issue_token()["access_token"]
    assert other != MOBINITI_TOKEN
    result = await _token_sign_in(hass, sandbox, sandbox_url, other)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert hass.config_entries.async_entries(DOMAIN) == [entry]
    assert entry.data["access_token"] == MOBINITI_TOKEN


@pytest.mark.usefixtures("current_request_with_host", "credentials")
async def test_a_second_oauth_sign_in_of_the_account_aborts(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """Authorizing the same account again (a new token) adds no second entry."""
    mock_api(aioclient_mock)
    result = await _menu(hass, "mobiniti_oauth")
    result = await _authorize(
        hass, hass_client_no_auth, aioclient_mock, result, "first-token"
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    await hass.async_block_till_done()
    result = await _menu(hass, "mobiniti_oauth")
    result = await _authorize(
        hass, hass_client_no_auth, aioclient_mock, result, "second-token"
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert hass.config_entries.async_entries(DOMAIN) == [entry]
    assert entry.data["token"]["access_token"] == "first-token"


async def test_token_reauth_and_reconfigure(
    hass: HomeAssistant, sandbox: Sandbox, sandbox_url: str, setup_mobiniti: SetupEntry
) -> None:
    """A new token replaces the revoked one; reconfigure can move the base URL."""
    entry = await setup_mobiniti()
    account = f"mobiniti:{account_id(f'message:{oldest_message(sandbox)}')}"
    new = sandbox.mobiniti.issue_token()["access_token"]
    sandbox.mobiniti.revoke_token(MOBINITI_TOKEN)
    result = await entry.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_mobiniti"
    assert placeholders(result) == {"service": "Mobiniti", "account": entry.title}
    assert [str(k) for k in result["data_schema"].schema] == ["access_token"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"access_token": MOBINITI_TOKEN}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"access_token": new}
    )
    assert result["reason"] == "reauth_successful"
    assert entry.data["access_token"] == new
    assert entry.unique_id == account
    await hass.async_block_till_done()
    newer = sandbox.mobiniti.issue_token()["access_token"]
    result = await entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure_mobiniti"
    assert placeholders(result) == {"service": "Mobiniti", "account": entry.title}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"access_token": newer, "advanced": {"base_url": f"{sandbox_url}/mobiniti"}},
    )
    assert result["reason"] == "reconfigure_successful"
    assert entry.data["access_token"] == newer
    # Another token of the same account keeps the entry's id.
    assert entry.unique_id == account


async def test_token_reauth_refuses_the_account_of_another_entry(
    hass: HomeAssistant, sandbox: Sandbox, sandbox_url: str
) -> None:
    """A token whose account another entry has: an error on the form, no change."""
    result = await _token_sign_in(hass, sandbox, sandbox_url, MOBINITI_TOKEN)
    taken = result["result"]
    await hass.async_block_till_done()
    other = account_id("message:0b7c9d1e-2f3a-4b5c-8d6e-7f8091a2b3c4")
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=f"Mobiniti ({other[:6]})",
        unique_id=f"mobiniti:{other}",
        minor_version=2,
        data={**taken.data, "access_token": "revoked", "webhook_id": "hook-2"},
        options=dict(taken.options),
    )
    entry.add_to_hass(hass)
    new = sandbox.mobiniti.issue_token()["access_token"]
    for start in (entry.start_reauth_flow, entry.start_reconfigure_flow):
        result = await start(hass)
        user_input: dict[str, Any] = {"access_token": new}
        if result["step_id"] == "reconfigure_mobiniti":
            user_input["advanced"] = {"base_url": f"{sandbox_url}/mobiniti"}
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], user_input
        )
        assert result["type"] is FlowResultType.FORM
        assert result["errors"] == {"base": "already_configured"}
        assert entry.unique_id == f"mobiniti:{other}"
        assert entry.data["access_token"] == "revoked"
        hass.config_entries.flow.async_abort(result["flow_id"])


async def test_options_turn_on_polling(
    hass: HomeAssistant, setup_mobiniti: SetupEntry
) -> None:
    """The polling fallback and its interval (60-3600 s)."""
    entry = await setup_mobiniti()
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["step_id"] == "mobiniti"
    assert [str(k) for k in result["data_schema"].schema] == [
        "scan_interval",
        "polling",
    ]
    with pytest.raises(InvalidData):
        await hass.config_entries.options.async_configure(
            result["flow_id"], {"scan_interval": 30, "polling": True}
        )
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"scan_interval": 120, "polling": True}
    )
    assert entry.options == {"scan_interval": 120, "polling": True}
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.polling is True


@pytest.mark.usefixtures("credentials")
async def test_a_refused_token_refresh_asks_for_reauth(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> None:
    """An expired OAuth token Mobiniti will not refresh: the action says so, reauth."""
    mock_api(aioclient_mock)
    aioclient_mock.post(OAUTH_TOKEN_URL, status=400, json={"error": "invalid_grant"})
    token = {
        "access_token": "old",
        "refresh_token": "r",
        "token_type": "Bearer",
        "expires_in": 3600,
        "expires_at": time.time() + 3600,
    }
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=f"Mobiniti ({ACCOUNT[:6]})",
        unique_id=f"mobiniti:{ACCOUNT}",
        minor_version=2,
        data={
            "service": "mobiniti",
            "auth_implementation": "mobiniti",
            "token": token,
            "webhook_id": "hook",
            "cloudhook": False,
        },
        options={"scan_interval": 60, "polling": False},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    hass.config_entries.async_update_entry(
        entry, data={**entry.data, "token": {**token, "expires_at": 0}}
    )
    with pytest.raises(HomeAssistantError) as err:
        await call(hass, "send_message", entry, to="+12025550101", message="Hi")
    assert err.value.translation_key == "auth_failed"
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [f["context"]["source"] for f in flows] == ["reauth"]
