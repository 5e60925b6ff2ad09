"""Config flow, reauth, reconfigure and options of a Hipcall entry, against the sandbox."""

from typing import Any

from aiohttp.test_utils import unused_port
from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
import pytest
import voluptuous as vol

from custom_components.commhub.const import DOMAIN
from sandbox import Fault, Sandbox

from .conftest import HIPCALL_OWNER, HIPCALL_TOKEN, SetupEntry, hipcall_entry

NEW_TOKEN = "rotated-hipcall-token"
API_PATH = "/hipcall/api/v20211124"
HOME = "https://ha.example.com"


def _input(base_url: str, token: str = HIPCALL_TOKEN) -> dict[str, Any]:
    return {"api_token": token, "advanced": {"base_url": base_url}}


async def _hipcall_form(hass: HomeAssistant) -> dict[str, Any]:
    """Start a user flow and choose Hipcall in the menu."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    return await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "hipcall"}
    )


async def test_full_flow_creates_an_entry_that_loads(
    hass: HomeAssistant, sandbox: Sandbox, sandbox_url: str
) -> None:
    """The token is checked with GET /users; the owner names the entry."""
    hass.config.external_url = HOME
    form = await _hipcall_form(hass)
    assert form["type"] is FlowResultType.FORM
    assert form["step_id"] == "hipcall"
    fields = {str(k): k for k in form["data_schema"].schema}
    assert list(fields) == ["api_token", "advanced"]
    advanced = form["data_schema"].schema[fields["advanced"]]
    base_url = {str(k): k for k in advanced.schema.schema}["base_url"]
    # Left empty, the flow finds the account's host.
    assert isinstance(base_url, vol.Optional)

    result = await hass.config_entries.flow.async_configure(
        form["flow_id"], _input(f"{sandbox_url}{API_PATH}/")
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    owner = next(u for u in sandbox.hipcall.users if u["id"] == int(HIPCALL_OWNER))
    assert result["title"] == f"Hipcall ({owner['full_name']})"
    assert result["data"] == {
        "service": "hipcall",
        "api_token": HIPCALL_TOKEN,
        "base_url": f"{sandbox_url}{API_PATH}",
        "webhook_id": result["data"]["webhook_id"],
        "cloudhook": False,
    }
    # The last step names the host and the webhook URL for Hipcall's call events.
    assert result["description_placeholders"] == {
        "api_url": f"{sandbox_url}{API_PATH}",
        "call_url": f"{HOME}/api/webhook/{result['data']['webhook_id']}?kind=call",
    }
    assert result["options"] == {"scan_interval": 30}
    entry = result["result"]
    assert entry.unique_id == f"hipcall:{HIPCALL_OWNER}"
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    first = sandbox.hipcall.requests[0]
    assert first.path == "/api/v20211124/users"
    assert first.headers["Authorization"] == f"Bearer {HIPCALL_TOKEN}"


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault("error", status=500), "cannot_connect"),
        (Fault("malformed"), "cannot_connect"),
        (Fault("rate_limit", retry_after=1), "cannot_connect"),
    ],
)
async def test_service_trouble_is_cannot_connect(
    hass: HomeAssistant, sandbox: Sandbox, sandbox_url: str, fault: Fault, error: str
) -> None:
    """Errors show on the form; a later good try creates the entry."""
    sandbox.hipcall.add_fault(fault)
    form = await _hipcall_form(hass)
    result = await hass.config_entries.flow.async_configure(
        form["flow_id"], _input(f"{sandbox_url}{API_PATH}")
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": error}


@pytest.mark.parametrize(
    ("user_input", "error"),
    [
        (lambda url: _input(url, "wrong-token"), "invalid_auth"),
        (
            lambda url: _input(f"http://127.0.0.1:{unused_port()}{API_PATH}"),
            "cannot_connect",
        ),
        (lambda url: _input(url.replace("http://", "ftp://")), "invalid_url"),
    ],
)
async def test_bad_input_shows_an_error(
    hass: HomeAssistant, sandbox_url: str, user_input: Any, error: str
) -> None:
    """A wrong token, nothing listening, a URL that is not http(s)."""
    form = await _hipcall_form(hass)
    result = await hass.config_entries.flow.async_configure(
        form["flow_id"], user_input(f"{sandbox_url}{API_PATH}")
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": error}
    assert hass.config_entries.async_entries(DOMAIN) == []


async def test_same_account_twice_aborts(hass: HomeAssistant, sandbox_url: str) -> None:
    """One entry per account, whatever token is used."""
    hipcall_entry(sandbox_url).add_to_hass(hass)
    form = await _hipcall_form(hass)
    result = await hass.config_entries.flow.async_configure(
        form["flow_id"], _input(f"{sandbox_url}{API_PATH}")
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_reauth_with_a_new_token(
    hass: HomeAssistant, sandbox: Sandbox, setup_hipcall: SetupEntry
) -> None:
    """The revoked token is replaced; the entry reloads with the new one."""
    entry = await setup_hipcall()
    sandbox.hipcall.token = NEW_TOKEN
    result = await entry.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_hipcall"
    placeholders = result["description_placeholders"]
    assert (placeholders["service"], placeholders["account"]) == (
        "Hipcall",
        entry.title,
    )
    assert [str(k) for k in result["data_schema"].schema] == ["api_token"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"api_token": "still-wrong"}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"api_token": NEW_TOKEN}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert entry.data["api_token"] == NEW_TOKEN
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED


async def test_reauth_refuses_a_token_of_another_account(
    hass: HomeAssistant, sandbox: Sandbox, setup_hipcall: SetupEntry
) -> None:
    """A token whose users have another owner is not this entry's account."""
    entry = await setup_hipcall()
    for user in sandbox.hipcall.users:
        user["owner"] = user["id"] == 3
    result = await entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"api_token": HIPCALL_TOKEN}
    )
    assert result["errors"] == {"base": "wrong_account"}


async def test_reconfigure_moves_the_account_to_another_host(
    hass: HomeAssistant, sandbox: Sandbox, sandbox_url: str
) -> None:
    """Hipcall moved the account to a regional host: a new base URL and token."""
    entry = hipcall_entry(f"http://127.0.0.1:{unused_port()}")
    entry.add_to_hass(hass)
    sandbox.hipcall.token = NEW_TOKEN
    result = await entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure_hipcall"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _input(f"{sandbox_url}{API_PATH}", NEW_TOKEN)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data["base_url"] == f"{sandbox_url}{API_PATH}"
    assert entry.data["api_token"] == NEW_TOKEN


async def test_options_only_ask_for_the_interval(
    hass: HomeAssistant, setup_hipcall: SetupEntry
) -> None:
    """Hipcall has no lists to follow; the interval range is 10-3600 s."""
    entry = await setup_hipcall()
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert [str(k) for k in result["data_schema"].schema] == ["scan_interval"]
    with pytest.raises(InvalidData):
        await hass.config_entries.options.async_configure(
            result["flow_id"], {"scan_interval": 5}
        )
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"scan_interval": 15}
    )
    assert entry.options == {"scan_interval": 15}
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.update_interval.total_seconds() == 15


@pytest.mark.parametrize(
    ("generation", "pages"), [("v20211124", 11), ("v3", 2)], ids=["2021 API", "v3"]
)
async def test_a_large_account_is_read_once_from_sign_in_to_setup(
    hass: HomeAssistant,
    sandbox: Sandbox,
    sandbox_url: str,
    generation: str,
    pages: int,
) -> None:
    """105 users: the setup reuses the users the sign-in just read.

    The 2021 API pages by 10, the current one by 100; reading the users twice
    would spend most of a minute's budget of 30 requests, and the setup wait.
    """
    sandbox.hipcall.add_users(105 - len(sandbox.hipcall.users))
    form = await _hipcall_form(hass)
    result = await hass.config_entries.flow.async_configure(
        form["flow_id"], _input(f"{sandbox_url}/hipcall/api/{generation}")
    )
    await hass.async_block_till_done()
    assert result["result"].state is ConfigEntryState.LOADED
    user_pages = [r for r in sandbox.hipcall.requests if r.path.endswith("/users")]
    assert len(user_pages) == pages
    assert len(sandbox.hipcall.requests) < 30 - pages
