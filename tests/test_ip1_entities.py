"""IP1 conversations: a device and a last_message sensor per followed participant."""

import json
import logging

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import device_registry as dr, issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.commhub import async_remove_config_entry_device
from custom_components.commhub.actions import TargetResult
from custom_components.commhub.api.ip1 import Ip1SentMessage
from custom_components.commhub.const import DOMAIN
from custom_components.commhub.providers.ip1.actions import recipient_result
from custom_components.commhub.webhooks import redact_webhook_urls
from sandbox import Fault, Sandbox

from .conftest import (
    IP1_KEY,
    IP1_NAME,
    IP1_PARTICIPANT,
    IP1_WEBHOOK_ID,
    SetupEntry,
    ledger_files,
)
from .helpers import next_poll, state_of


def last_message(hass: HomeAssistant, entry_id: str, participant: str) -> State:
    """The last_message sensor state of a followed participant."""
    return state_of(
        hass, "sensor", f"ip1_participant_{entry_id}_{participant}_last_message"
    )


async def test_last_message_per_participant(
    hass: HomeAssistant, sandbox: Sandbox, setup_ip1: SetupEntry
) -> None:
    """The newest message with each participant, and who sent it to whom."""
    entry = await setup_ip1()
    assert entry.state is ConfigEntryState.LOADED
    state = last_message(hass, entry.entry_id, IP1_PARTICIPANT)
    assert state.state == "Great, see you then"
    assert state.attributes["direction"] == "inbound"
    assert state.attributes["sender"] == IP1_PARTICIPANT
    assert state.attributes["recipient"] == "46700000000"
    assert state.attributes["status"] == 201
    pharmacy = last_message(hass, entry.entry_id, IP1_NAME)
    assert pharmacy.state == "Your prescription is ready for pickup."
    assert pharmacy.attributes["direction"] == "inbound"


async def test_newest_is_the_last_created_whatever_its_status(
    hass: HomeAssistant,
    sandbox: Sandbox,
    setup_ip1: SetupEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A late status on an old message does not make it the newest; a new one does."""
    entry = await setup_ip1()
    old_id = next(
        m.id for m in sandbox.ip1.conversation(IP1_PARTICIPANT) if not m.inbound
    )
    sandbox.ip1.set_status(old_id, 402)
    await next_poll(hass, freezer)
    assert last_message(hass, entry.entry_id, IP1_PARTICIPANT).state == (
        "Great, see you then"
    )
    sandbox.ip1.add_outbound(IP1_PARTICIPANT, "See you!", status=(101, 102))
    await next_poll(hass, freezer)
    state = last_message(hass, entry.entry_id, IP1_PARTICIPANT)
    assert state.state == "See you!"
    assert state.attributes["direction"] == "outbound"
    assert state.attributes["status"] == 102
    assert state.attributes["sender"] == "46700000000"
    assert state.attributes["recipient"] == IP1_PARTICIPANT


async def test_long_message_is_cut_to_a_state(
    hass: HomeAssistant,
    sandbox: Sandbox,
    setup_ip1: SetupEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Home Assistant states hold 255 characters; the sensor shows the start."""
    entry = await setup_ip1()
    sandbox.ip1.add_inbound(IP1_PARTICIPANT, "x" * 600)
    await next_poll(hass, freezer)
    assert last_message(hass, entry.entry_id, IP1_PARTICIPANT).state == "x" * 255


async def test_participant_without_messages_is_unknown(
    hass: HomeAssistant, setup_ip1: SetupEntry
) -> None:
    """IP1 answers 404 for a conversation with no messages: unknown, not an error."""
    entry = await setup_ip1(participants=["46705550000"])
    state = last_message(hass, entry.entry_id, "46705550000")
    assert state.state == "unknown"
    assert "direction" not in state.attributes


async def test_devices_per_participant_under_the_account(
    hass: HomeAssistant, setup_ip1: SetupEntry
) -> None:
    """Each followed participant is a device linked to the account's device."""
    entry = await setup_ip1()
    registry = dr.async_get(hass)
    account = registry.async_get_device_by_identifier(
        (DOMAIN, entry.entry_id), entry.entry_id
    )
    assert account is not None
    assert account.model == "IP1 SMS account"
    # A number in international format; a sender name as it is.
    for participant, name in (
        (IP1_PARTICIPANT, f"+{IP1_PARTICIPANT}"),
        (IP1_NAME, IP1_NAME),
    ):
        device = registry.async_get_device_by_identifier(
            (DOMAIN, f"ip1_participant_{entry.entry_id}_{participant}"),
            entry.entry_id,
        )
        assert device is not None
        assert device.name == name
        assert device.via_device_id == account.id


async def test_removed_participant_loses_its_device(
    hass: HomeAssistant, setup_ip1: SetupEntry
) -> None:
    """Removing a participant from the options removes its device."""
    entry = await setup_ip1()
    result = await hass.config_entries.options.async_init(entry.entry_id)
    await hass.config_entries.options.async_configure(
        result["flow_id"],
        {"scan_interval": 60, "participants": [IP1_PARTICIPANT]},
    )
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    registry = dr.async_get(hass)
    assert (
        registry.async_get_device_by_identifier(
            (DOMAIN, f"ip1_participant_{entry.entry_id}_{IP1_NAME}"), entry.entry_id
        )
        is None
    )
    assert len(dr.async_entries_for_config_entry(registry, entry.entry_id)) == 2


async def test_remove_participant_device_from_ui(
    hass: HomeAssistant, setup_ip1: SetupEntry
) -> None:
    """Deleting a participant's device in the UI stops following it."""
    entry = await setup_ip1()
    registry = dr.async_get(hass)
    device = registry.async_get_device_by_identifier(
        (DOMAIN, f"ip1_participant_{entry.entry_id}_{IP1_NAME}"), entry.entry_id
    )
    assert device is not None
    assert await async_remove_config_entry_device(hass, entry, device)
    await hass.async_block_till_done()
    assert entry.options["participants"] == [IP1_PARTICIPANT]


async def test_invalid_participant_is_a_repair_issue_not_a_crash(
    hass: HomeAssistant,
    setup_ip1: SetupEntry,
    sandbox: Sandbox,
    freezer: FrozenDateTimeFactory,
) -> None:
    """IP1 refusing one participant (400) leaves the others working."""
    entry = await setup_ip1(participants=[IP1_PARTICIPANT, "+4670"])
    assert entry.state is ConfigEntryState.LOADED
    assert last_message(hass, entry.entry_id, "+4670").state == STATE_UNAVAILABLE
    assert last_message(hass, entry.entry_id, IP1_PARTICIPANT).state != (
        STATE_UNAVAILABLE
    )
    issue_id = f"invalid_participant_{entry.entry_id}_+4670"
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_placeholders == {
        "participant": "+4670",
        "entry": entry.title,
    }
    result = await hass.config_entries.options.async_init(entry.entry_id)
    await hass.config_entries.options.async_configure(
        result["flow_id"], {"scan_interval": 60, "participants": [IP1_PARTICIPANT]}
    )
    await hass.async_block_till_done()
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None


async def test_outage_unavailable_logged_once_then_recovers(
    hass: HomeAssistant,
    setup_ip1: SetupEntry,
    sandbox: Sandbox,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """5xx: sensors unavailable, one log line, back when IP1 answers again."""
    entry = await setup_ip1()
    sandbox.ip1.add_fault(Fault("error", status=503, count=None))
    caplog.clear()
    for _ in range(3):
        await next_poll(hass, freezer)
        assert last_message(hass, entry.entry_id, IP1_PARTICIPANT).state == (
            STATE_UNAVAILABLE
        )
    failures = [
        r
        for r in caplog.records
        if "Error fetching" in r.getMessage() and r.levelno >= logging.ERROR
    ]
    assert len(failures) == 1
    sandbox.ip1.clear_faults()
    await next_poll(hass, freezer)
    assert last_message(hass, entry.entry_id, IP1_PARTICIPANT).state == (
        "Great, see you then"
    )


async def test_revoked_key_starts_reauth(
    hass: HomeAssistant,
    setup_ip1: SetupEntry,
    sandbox: Sandbox,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A 401 while polling opens the reauth flow."""
    entry = await setup_ip1()
    sandbox.ip1.api_keys.clear()
    await next_poll(hass, freezer)
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [f["context"]["source"] for f in flows] == ["reauth"]
    assert flows[0]["context"]["entry_id"] == entry.entry_id


async def test_unload_and_remove_forget_the_position(
    hass: HomeAssistant, setup_ip1: SetupEntry, hass_storage: dict[str, object]
) -> None:
    """Unloading snapshots the journal; removing the entry deletes both."""
    entry = await setup_ip1()
    key = f"commhub.ip1_messages.{entry.entry_id}"
    await hass.async_block_till_done()
    assert ledger_files(hass, entry) == [f"{key}.journal.0"]
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert key in hass_storage
    assert ledger_files(hass, entry) == []
    assert await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert key not in hass_storage
    assert ledger_files(hass, entry) == []


async def test_diagnostics_hide_key_webhook_and_people(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    sandbox: Sandbox,
    setup_ip1: SetupEntry,
) -> None:
    """No key, webhook id, numbers or texts; counts and the redacted URLs."""
    hass.config.external_url = "https://ha.example.com"
    sandbox.ip1.add_inbound(IP1_PARTICIPANT, "Just now")
    entry = await setup_ip1()
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    text = json.dumps(diagnostics)
    for secret in (IP1_KEY, IP1_WEBHOOK_ID, IP1_PARTICIPANT, IP1_NAME, "Just now"):
        assert secret not in text
    assert diagnostics["webhook_urls"] == {
        "inbound_message": "https://ha.example.com/api/webhook/**REDACTED**?kind=inbound_message",
        "delivery_report": "https://ha.example.com/api/webhook/**REDACTED**?kind=delivery_report",
    }
    assert diagnostics["participants"] == 2
    assert diagnostics["conversations"][0]["status"] == 201
    # The four listed at the baseline and the new one.
    assert diagnostics["history"]["remembered"] == 5


def test_cloudhook_urls_are_redacted_whole() -> None:
    """A cloudhook URL is a secret of its own, not only the webhook id in it."""
    urls = {"inbound_message": "https://hooks.nabu.casa/abc123?kind=inbound_message"}
    assert redact_webhook_urls(urls, "webhook-id") == {
        "inbound_message": "https://**REDACTED**?kind=inbound_message"
    }


@pytest.mark.parametrize(
    ("code", "status", "error"),
    [
        (None, "queued", None),
        (101, "queued", None),
        (201, "sent", None),
        (402, "failed", "IP1 status 402"),
    ],
)
def test_send_result_per_recipient_status(
    code: int | None, status: str, error: str | None
) -> None:
    """IP1 queues (1xx), sends (2xx) or refuses (4xx) each recipient's message."""
    result = recipient_result(Ip1SentMessage("m1", "46701234567", code))
    assert result == TargetResult("46701234567", status, "m1", error)
