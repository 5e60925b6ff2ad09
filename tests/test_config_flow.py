"""Config flow, reauth, reconfigure and options of a Hipmob entry, against the sandbox."""

import base64
from datetime import timedelta
from functools import partial
from typing import Any
from unittest.mock import patch

from aiohttp.test_utils import unused_port
from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData, section
import pytest

from custom_components.commhub.api.hipmob import HipmobClient
from custom_components.commhub.const import DOMAIN
from sandbox import Fault, Sandbox

from .conftest import API_KEY, APP, FRIEND_1, FRIEND_2, JACK, SetupEntry, hipmob_entry

APP_2 = "1234567890abcdef1234567890abcdef"
NEW_KEY = "rotated-sandbox-key"


def _basic(account: str, key: str) -> str:
    return "Basic " + base64.b64encode(f"{account}:{key}".encode()).decode()


def _fields(result: dict[str, Any]) -> dict[str, Any]:
    """A form's fields by name: name -> (marker, validator)."""
    return {
        str(key): (key, value) for key, value in result["data_schema"].schema.items()
    }


def _default(result: dict[str, Any], name: str) -> Any:
    return _fields(result)[name][0].default()


def _credentials(
    base_url: str, account: str = "femi", api_key: str = API_KEY
) -> dict[str, Any]:
    return {"account": account, "api_key": api_key, "advanced": {"base_url": base_url}}


def _dead_url() -> str:
    """A URL on 127.0.0.1 where nothing listens: connection refused."""
    return f"http://127.0.0.1:{unused_port()}/hipmob"


async def _hipmob_form(hass: HomeAssistant) -> dict[str, Any]:
    """Start a user flow and choose Hipmob in the menu."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    return await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "hipmob"}
    )


async def _fail_then_recover(
    hass: HomeAssistant, bad: dict[str, Any], good: dict[str, Any], error: str
) -> dict[str, Any]:
    """Submit `bad` (form shown again with `error`), then `good` (next step).

    Returns the form shown with the error.
    """
    form = await _hipmob_form(hass)
    failed = await hass.config_entries.flow.async_configure(form["flow_id"], bad)
    assert failed["type"] is FlowResultType.FORM
    assert failed["step_id"] == "hipmob"
    assert failed["errors"] == {"base": error}
    result = await hass.config_entries.flow.async_configure(form["flow_id"], good)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "hipmob_app"
    assert result["errors"] is None
    return failed


async def test_user_step_is_a_menu_of_services(hass: HomeAssistant) -> None:
    """The first step offers the services built so far; Hipmob asks for its keys."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.MENU
    assert result["step_id"] == "user"
    assert result["menu_options"] == ["hipmob", "hipcall", "mobiniti", "ip1"]

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "hipmob"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "hipmob"
    assert result["errors"] == {}
    assert list(_fields(result)) == ["account", "api_key", "advanced"]
    advanced = _fields(result)["advanced"][1]
    assert isinstance(advanced, section)
    assert advanced.options["collapsed"] is True
    base_url = {str(k): k for k in advanced.schema.schema}["base_url"]
    assert base_url.default() == "https://api.hipmob.com"


async def test_full_flow_creates_entry_that_loads(
    hass: HomeAssistant, sandbox: Sandbox, sandbox_url: str
) -> None:
    """Apps come from the account; lists are cleaned; the new entry loads."""
    sandbox.hipmob.add_device(APP_2, "front-desk", online=True)
    form = await _hipmob_form(hass)
    result = await hass.config_entries.flow.async_configure(
        form["flow_id"], _credentials(f" {sandbox_url}/hipmob/ ", account=" femi ")
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "hipmob_app"
    request = sandbox.hipmob.requests[-1]
    assert (request.method, request.path) == ("GET", "/apps")
    assert request.headers["Authorization"] == _basic("femi", API_KEY)

    app_field = _fields(result)["app"][1]
    assert app_field.config["options"] == [
        {"value": APP, "label": "Hipmob Testing"},
        {"value": APP_2, "label": "Testing 3"},
    ]
    assert _default(result, "app") == APP
    assert _default(result, "users") == ["femi"]
    assert _default(result, "devices") == []

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            "app": APP_2,
            "devices": [" front-desk ", "front-desk", "", "  ", "lobby"],
            "users": ["femi", " tolu", "tolu "],
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Testing 3 (femi)"
    assert result["data"] == {
        "service": "hipmob",
        "account": "femi",
        "api_key": API_KEY,
        "base_url": f"{sandbox_url}/hipmob",
        "app": APP_2,
    }
    assert result["options"] == {
        "scan_interval": 60,
        "devices": ["front-desk", "lobby"],
        "users": ["femi", "tolu"],
    }
    entry = result["result"]
    assert entry.unique_id == "hipmob:femi"
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    polled = {(r.path, r.status) for r in sandbox.hipmob.requests}
    assert (f"/apps/{APP_2}/devices/front-desk/status", 200) in polled


@pytest.mark.parametrize("account", ["femi", " femi "])
async def test_account_already_configured(
    hass: HomeAssistant, sandbox_url: str, account: str
) -> None:
    """A second entry for the same account (whatever its case) is refused."""
    hipmob_entry(sandbox_url).add_to_hass(hass)
    form = await _hipmob_form(hass)
    result = await hass.config_entries.flow.async_configure(
        form["flow_id"], _credentials(f"{sandbox_url}/hipmob", account=account)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert len(hass.config_entries.async_entries(DOMAIN)) == 1


async def test_account_without_apps_aborts(
    hass: HomeAssistant, sandbox_url: str
) -> None:
    """An account with no app has nothing to follow."""
    form = await _hipmob_form(hass)
    result = await hass.config_entries.flow.async_configure(
        form["flow_id"],
        _credentials(f"{sandbox_url}/hipmob", account="ade", api_key="ade-sandbox-key"),
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "no_apps"
    assert hass.config_entries.async_entries(DOMAIN) == []


async def test_wrong_key_is_invalid_auth(hass: HomeAssistant, sandbox_url: str) -> None:
    """A refused key shows invalid_auth, keeps what was typed, and can be fixed."""
    url = f"{sandbox_url}/hipmob"
    failed = await _fail_then_recover(
        hass, _credentials(url, api_key="wrong"), _credentials(url), "invalid_auth"
    )
    assert _fields(failed)["account"][0].description == {"suggested_value": "femi"}


async def test_server_error_is_cannot_connect(
    hass: HomeAssistant, sandbox: Sandbox, sandbox_url: str
) -> None:
    """A 500 from the service is cannot_connect; the next try goes through."""
    sandbox.hipmob.add_fault(Fault(kind="error", status=500, path="^/apps$"))
    url = f"{sandbox_url}/hipmob"
    await _fail_then_recover(
        hass, _credentials(url), _credentials(url), "cannot_connect"
    )
    assert [r.status for r in sandbox.hipmob.requests] == [500, 200]


async def test_timeout_is_cannot_connect(
    hass: HomeAssistant, sandbox: Sandbox, sandbox_url: str
) -> None:
    """A service that does not answer in time is cannot_connect."""
    sandbox.hipmob.add_fault(Fault(kind="timeout", delay=5, path="^/apps$"))
    url = f"{sandbox_url}/hipmob"
    with patch(
        "custom_components.commhub.providers.hipmob.flow.HipmobClient",
        partial(HipmobClient, timeout=0.2),
    ):
        await _fail_then_recover(
            hass, _credentials(url), _credentials(url), "cannot_connect"
        )
    sandbox.hipmob.release_held()


async def test_connection_refused_is_cannot_connect(
    hass: HomeAssistant, sandbox_url: str
) -> None:
    """Nothing listening at the base URL is cannot_connect; fixing the URL works."""
    await _fail_then_recover(
        hass,
        _credentials(_dead_url()),
        _credentials(f"{sandbox_url}/hipmob"),
        "cannot_connect",
    )


async def test_payment_required(
    hass: HomeAssistant, sandbox: Sandbox, sandbox_url: str
) -> None:
    """A 402 is not a bad key: it has its own error, until the account is paid."""
    sandbox.hipmob.set_payment_required("femi", True)
    url = f"{sandbox_url}/hipmob"
    form = await _hipmob_form(hass)
    result = await hass.config_entries.flow.async_configure(
        form["flow_id"], _credentials(url)
    )
    assert result["errors"] == {"base": "payment_required"}
    sandbox.hipmob.set_payment_required("femi", False)
    result = await hass.config_entries.flow.async_configure(
        form["flow_id"], _credentials(url)
    )
    assert result["step_id"] == "hipmob_app"


@pytest.mark.parametrize(
    "bad_url", ["api.hipmob.com", "ftp://api.hipmob.com", "", "   "]
)
async def test_base_url_must_be_http(
    hass: HomeAssistant, sandbox: Sandbox, sandbox_url: str, bad_url: str
) -> None:
    """A base URL without http(s):// is refused before anything is sent."""
    await _fail_then_recover(
        hass,
        _credentials(bad_url),
        _credentials(f"{sandbox_url}/hipmob"),
        "invalid_url",
    )
    assert len(sandbox.hipmob.requests) == 1  # only the successful retry


async def test_unexpected_exception_is_unknown(
    hass: HomeAssistant, sandbox_url: str
) -> None:
    """Anything unforeseen is `unknown`, not a crash of the flow."""
    url = f"{sandbox_url}/hipmob"
    form = await _hipmob_form(hass)
    with patch.object(HipmobClient, "list_apps", side_effect=RuntimeError("boom")):
        result = await hass.config_entries.flow.async_configure(
            form["flow_id"], _credentials(url)
        )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "unknown"}
    result = await hass.config_entries.flow.async_configure(
        form["flow_id"], _credentials(url)
    )
    assert result["step_id"] == "hipmob_app"


async def test_reauth(
    hass: HomeAssistant, sandbox: Sandbox, setup_hipmob: SetupEntry
) -> None:
    """A new key for the same account replaces the stored one; the entry reloads."""
    entry = await setup_hipmob()
    old_data = dict(entry.data)
    sandbox.hipmob.add_account("femi", NEW_KEY)  # the key was rotated on Hipmob

    result = await entry.start_reauth_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reauth_hipmob"
    assert result["description_placeholders"]["account"] == "Hipmob Testing (femi)"
    assert list(_fields(result)) == ["api_key"]

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"api_key": API_KEY}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "invalid_auth"}
    assert entry.data == old_data

    sandbox.hipmob.requests.clear()
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"api_key": NEW_KEY}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert entry.data == {**old_data, "api_key": NEW_KEY}
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert sandbox.hipmob.requests
    assert {r.headers["Authorization"] for r in sandbox.hipmob.requests} == {
        _basic("femi", NEW_KEY)
    }


async def test_reconfigure_new_url_and_key(
    hass: HomeAssistant, sandbox: Sandbox, sandbox_url: str
) -> None:
    """Point an entry at a new address with a new key; a wrong key is refused."""
    # The entry still points at an address where the service no longer answers.
    entry = hipmob_entry(f"http://127.0.0.1:{unused_port()}")
    old_url = entry.data["base_url"]
    entry.add_to_hass(hass)
    sandbox.hipmob.add_account("femi", NEW_KEY)

    result = await entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure_hipmob"
    assert result["description_placeholders"] == {
        "service": "Hipmob",
        "account": "Hipmob Testing (femi)",
    }
    advanced = _fields(result)["advanced"][1]
    assert {str(k): k for k in advanced.schema.schema}["base_url"].default() == old_url

    new_url = f"{sandbox_url}/hipmob"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"api_key": API_KEY, "advanced": {"base_url": new_url}},
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "invalid_auth"}
    assert entry.data["base_url"] == old_url

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"api_key": NEW_KEY, "advanced": {"base_url": f"{new_url}/ "}},
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data == {
        "service": "hipmob",
        "account": "femi",
        "api_key": NEW_KEY,
        "base_url": new_url,
        "app": APP,
    }
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED


async def test_reconfigure_app_gone(
    hass: HomeAssistant, sandbox: Sandbox, sandbox_url: str
) -> None:
    """Credentials that no longer see the entry's app are refused."""
    entry = hipmob_entry(sandbox_url)
    entry.add_to_hass(hass)
    sandbox.hipmob.add_app("ade", APP, "Hipmob Testing")  # moved to another account
    data = {"api_key": API_KEY, "advanced": {"base_url": f"{sandbox_url}/hipmob"}}

    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], data)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "app_not_found"}

    sandbox.hipmob.add_app("femi", APP, "Hipmob Testing")
    result = await hass.config_entries.flow.async_configure(result["flow_id"], data)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"


async def test_options_flow(
    hass: HomeAssistant, sandbox: Sandbox, setup_hipmob: SetupEntry
) -> None:
    """Defaults are the current options; a valid submit is stored and reloads."""
    entry = await setup_hipmob(devices=[JACK], users=["tolu"], scan_interval=120)
    coordinator = entry.runtime_data

    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "hipmob"
    assert _default(result, "scan_interval") == 120
    assert _default(result, "devices") == [JACK]
    assert _default(result, "users") == ["tolu"]

    sandbox.hipmob.requests.clear()
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            "scan_interval": 300,
            "devices": [JACK, f" {FRIEND_2} ", JACK, ""],
            "users": ["tolu", "femi", "femi"],
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == {
        "scan_interval": 300,
        "devices": [JACK, FRIEND_2],
        "users": ["tolu", "femi"],
    }
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data is not coordinator
    assert entry.runtime_data.update_interval == timedelta(seconds=300)
    assert f"/apps/{APP}/devices/{FRIEND_2}/status" in {
        r.path for r in sandbox.hipmob.requests
    }


@pytest.mark.parametrize("scan_interval", [5, 9, 3601, 4000])
async def test_options_scan_interval_out_of_range(
    hass: HomeAssistant, setup_hipmob: SetupEntry, scan_interval: int
) -> None:
    """An interval outside 10-3600 s is rejected and nothing changes."""
    entry = await setup_hipmob()
    before = dict(entry.options)
    coordinator = entry.runtime_data
    result = await hass.config_entries.options.async_init(entry.entry_id)
    with pytest.raises(InvalidData) as err:
        await hass.config_entries.options.async_configure(
            result["flow_id"],
            {"scan_interval": scan_interval, "devices": [FRIEND_1], "users": []},
        )
    assert "scan_interval" in err.value.schema_errors
    await hass.async_block_till_done()
    assert entry.options == before
    assert entry.runtime_data is coordinator
