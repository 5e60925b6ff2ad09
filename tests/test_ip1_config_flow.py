"""Config flow, reauth, reconfigure and options of an IP1 entry, against the sandbox."""

import hashlib
from typing import Any
from unittest.mock import patch

from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
from homeassistant.helpers.network import NoURLAvailableError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.commhub.const import DOMAIN
from sandbox import Fault, Sandbox

from .conftest import (
    IP1_ACCOUNT_ID,
    IP1_KEY,
    IP1_NAME,
    IP1_PARTICIPANT,
    IP1_WEBHOOK_ID,
    SetupEntry,
    ip1_entry,
)

NEW_KEY = "rotated-ip1-key"


def _input(
    base_url: str, key: str = IP1_KEY, participants: list[str] | None = None
) -> dict[str, Any]:
    return {
        "api_key": key,
        "participants": [] if participants is None else participants,
        "advanced": {"base_url": base_url},
    }


async def _ip1_form(hass: HomeAssistant) -> dict[str, Any]:
    """Start a user flow and choose IP1 in the menu."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    return await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "ip1"}
    )


async def test_full_flow_creates_an_entry_and_shows_the_webhook_urls(
    hass: HomeAssistant, sandbox: Sandbox, sandbox_url: str
) -> None:
    """Key and participants checked; unique id is the key's hash; URLs shown."""
    hass.config.external_url = "https://ha.example.com"
    form = await _ip1_form(hass)
    assert form["step_id"] == "ip1"
    fields = {str(k): k for k in form["data_schema"].schema}
    assert list(fields) == ["api_key", "participants", "advanced"]
    advanced = form["data_schema"].schema[fields["advanced"]]
    base_url = {str(k): k for k in advanced.schema.schema}["base_url"]
    assert base_url.default() == "https://api.ip1sms.com"

    result = await hass.config_entries.flow.async_configure(
        form["flow_id"],
        _input(f"{sandbox_url}/ip1/", participants=["+46 70 123 45 67", IP1_NAME]),
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    data = result["data"]
    webhook_id = data.pop("webhook_id")
    assert data == {
        "service": "ip1",
        "api_key": IP1_KEY,
        "base_url": f"{sandbox_url}/ip1",
        "cloudhook": False,
    }
    assert result["options"] == {
        "scan_interval": 60,
        "participants": [IP1_PARTICIPANT, IP1_NAME],
        "delivery_reports": False,
    }
    base = f"https://ha.example.com/api/webhook/{webhook_id}"
    assert result["description_placeholders"] == {
        "api_url": f"{sandbox_url}/ip1",
        "inbound_message_url": f"{base}?kind=inbound_message",
        "delivery_report_url": f"{base}?kind=delivery_report",
    }
    entry = result["result"]
    assert entry.unique_id == f"ip1:{hashlib.sha256(IP1_KEY.encode()).hexdigest()}"
    assert IP1_KEY not in entry.unique_id
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    first = sandbox.ip1.requests[0]
    assert first.path == f"/v2/conversations/{IP1_PARTICIPANT}"
    assert first.headers["Authorization"] == f"Bearer {IP1_KEY}"


async def test_no_participants_probes_the_key(
    hass: HomeAssistant, sandbox: Sandbox, sandbox_url: str
) -> None:
    """With nothing to follow, any answer but 401 proves the key (404 included)."""
    form = await _ip1_form(hass)
    result = await hass.config_entries.flow.async_configure(
        form["flow_id"], _input(f"{sandbox_url}/ip1")
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["options"]["participants"] == []


@pytest.mark.parametrize(
    ("user_input", "errors"),
    [
        (lambda url: _input(url, key="wrong"), {"base": "invalid_auth"}),
        (lambda url: _input("ftp://x"), {"base": "invalid_url"}),
        (
            lambda url: _input(url, participants=["a b"]),
            {"participants": "invalid_participant"},
        ),
        (
            lambda url: _input(url, participants=["46701234567", "12345678901234567"]),
            {"participants": "invalid_participant"},
        ),
    ],
)
async def test_bad_input_shows_an_error(
    hass: HomeAssistant, sandbox_url: str, user_input: Any, errors: dict[str, str]
) -> None:
    """A wrong key, a bad URL, a participant that is neither number nor name."""
    form = await _ip1_form(hass)
    result = await hass.config_entries.flow.async_configure(
        form["flow_id"], user_input(f"{sandbox_url}/ip1")
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == errors
    assert hass.config_entries.async_entries(DOMAIN) == []


async def test_participant_ip1_refuses_shows_an_error(
    hass: HomeAssistant, sandbox: Sandbox, sandbox_url: str
) -> None:
    """IP1's own 400 for a participant names it on the form."""
    sandbox.ip1.add_fault(Fault("error", status=400, path="/v2/conversations/"))
    form = await _ip1_form(hass)
    result = await hass.config_entries.flow.async_configure(
        form["flow_id"], _input(f"{sandbox_url}/ip1", participants=[IP1_NAME])
    )
    assert result["errors"] == {"participants": "invalid_participant"}
    assert result["description_placeholders"] == {"participant": IP1_NAME}


async def test_service_trouble_is_cannot_connect(
    hass: HomeAssistant, sandbox: Sandbox, sandbox_url: str
) -> None:
    """A 5xx shows cannot_connect; the next try creates the entry."""
    sandbox.ip1.add_fault(Fault("error", status=503))
    form = await _ip1_form(hass)
    result = await hass.config_entries.flow.async_configure(
        form["flow_id"], _input(f"{sandbox_url}/ip1")
    )
    assert result["errors"] == {"base": "cannot_connect"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _input(f"{sandbox_url}/ip1")
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_same_key_twice_aborts(hass: HomeAssistant, sandbox_url: str) -> None:
    """One entry per API key."""
    ip1_entry(sandbox_url).add_to_hass(hass)
    form = await _ip1_form(hass)
    result = await hass.config_entries.flow.async_configure(
        form["flow_id"], _input(f"{sandbox_url}/ip1")
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_reauth_with_a_new_key_updates_the_identity(
    hass: HomeAssistant, sandbox: Sandbox, setup_ip1: SetupEntry
) -> None:
    """The new key replaces the old; the unique id follows the key's hash."""
    entry = await setup_ip1()
    sandbox.ip1.api_keys = {NEW_KEY}
    result = await entry.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_ip1"
    assert result["description_placeholders"]["service"] == "IP1 SMS"
    assert [str(k) for k in result["data_schema"].schema] == ["api_key"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"api_key": "still-wrong"}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"api_key": NEW_KEY}
    )
    assert result["reason"] == "reauth_successful"
    assert entry.data["api_key"] == NEW_KEY
    assert entry.unique_id == f"ip1:{hashlib.sha256(NEW_KEY.encode()).hexdigest()}"
    assert entry.data["webhook_id"] == IP1_WEBHOOK_ID
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED


async def test_reauth_refuses_the_key_of_another_entry(
    hass: HomeAssistant, sandbox: Sandbox, setup_ip1: SetupEntry
) -> None:
    """Two entries may not end up with the same key."""
    entry = await setup_ip1()
    MockConfigEntry(
        domain=DOMAIN,
        unique_id=f"ip1:{hashlib.sha256(NEW_KEY.encode()).hexdigest()}",
        data={"service": "ip1"},
    ).add_to_hass(hass)
    sandbox.ip1.api_keys.add(NEW_KEY)
    result = await entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"api_key": NEW_KEY}
    )
    assert result["errors"] == {"base": "already_configured"}
    assert entry.unique_id == f"ip1:{IP1_ACCOUNT_ID}"


async def test_reconfigure_changes_key_and_host(
    hass: HomeAssistant, sandbox: Sandbox, sandbox_url: str
) -> None:
    """A new key and base URL in one step."""
    entry = ip1_entry("http://127.0.0.1:9")
    entry.add_to_hass(hass)
    sandbox.ip1.api_keys = {NEW_KEY}
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"api_key": NEW_KEY, "advanced": {"base_url": f"{sandbox_url}/ip1"}},
    )
    assert result["reason"] == "reconfigure_successful"
    assert entry.data["base_url"] == f"{sandbox_url}/ip1"
    assert entry.unique_id == f"ip1:{hashlib.sha256(NEW_KEY.encode()).hexdigest()}"


async def test_options_normalise_and_validate(
    hass: HomeAssistant, setup_ip1: SetupEntry
) -> None:
    """Interval 30-3600 s, participants normalised, sender checked, reports toggle."""
    entry = await setup_ip1()
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert [str(k) for k in result["data_schema"].schema] == [
        "scan_interval",
        "participants",
        "sender",
        "delivery_reports",
    ]
    with pytest.raises(InvalidData):
        await hass.config_entries.options.async_configure(
            result["flow_id"], {"scan_interval": 20}
        )
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"scan_interval": 60, "participants": ["not valid!"]}
    )
    assert result["errors"] == {"participants": "invalid_participant"}
    assert result["description_placeholders"] == {"participant": "not valid!"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {"scan_interval": 60, "participants": [], "sender": "Far too long name"},
    )
    assert result["errors"] == {"sender": "invalid_sender"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            "scan_interval": 120,
            "participants": ["+46 70 987 65 43", "46709876543", IP1_NAME],
            "sender": " Shop ",
            "delivery_reports": True,
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == {
        "scan_interval": 120,
        "participants": ["46709876543", IP1_NAME],
        "sender": "Shop",
        "delivery_reports": True,
    }
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED


async def test_home_assistant_cloud_gives_a_cloudhook(
    hass: HomeAssistant, sandbox_url: str
) -> None:
    """With a Cloud subscription the URL shown is a cloudhook, deleted with the entry."""
    hass.config.components.add("cloud")
    hook = "https://hooks.nabu.casa/secret-hook"
    with (
        patch(
            "homeassistant.components.cloud.async_active_subscription",
            return_value=True,
        ),
        patch(
            "homeassistant.components.cloud.async_get_or_create_cloudhook",
            return_value=hook,
        ),
    ):
        form = await _ip1_form(hass)
        result = await hass.config_entries.flow.async_configure(
            form["flow_id"], _input(f"{sandbox_url}/ip1")
        )
        await hass.async_block_till_done()
    assert result["data"]["cloudhook"] is True
    assert result["description_placeholders"]["inbound_message_url"] == (
        f"{hook}?kind=inbound_message"
    )
    entry = result["result"]
    with patch(
        "homeassistant.components.cloud.async_delete_cloudhook"
    ) as delete_cloudhook:
        assert await hass.config_entries.async_remove(entry.entry_id)
    delete_cloudhook.assert_awaited_once_with(hass, entry.data["webhook_id"])


async def test_cloud_not_connected_falls_back_to_the_local_url(
    hass: HomeAssistant, sandbox_url: str
) -> None:
    """A subscription but no connection: the external URL, no cloudhook."""
    from homeassistant.components.cloud import CloudNotConnected  # noqa: PLC0415

    hass.config.components.add("cloud")
    hass.config.external_url = "https://ha.example.com"
    with (
        patch(
            "homeassistant.components.cloud.async_active_subscription",
            return_value=True,
        ),
        patch(
            "homeassistant.components.cloud.async_get_or_create_cloudhook",
            side_effect=CloudNotConnected,
        ),
    ):
        form = await _ip1_form(hass)
        result = await hass.config_entries.flow.async_configure(
            form["flow_id"], _input(f"{sandbox_url}/ip1")
        )
    assert result["data"]["cloudhook"] is False
    assert result["description_placeholders"]["inbound_message_url"].startswith(
        "https://ha.example.com/api/webhook/"
    )


async def test_no_url_at_all_says_messages_come_by_polling(
    hass: HomeAssistant, sandbox_url: str
) -> None:
    """Without any Home Assistant URL the entry is created with another note."""
    with patch(
        "homeassistant.components.webhook.get_url", side_effect=NoURLAvailableError
    ):
        form = await _ip1_form(hass)
        result = await hass.config_entries.flow.async_configure(
            form["flow_id"], _input(f"{sandbox_url}/ip1")
        )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["description"] == "ip1_no_url"
