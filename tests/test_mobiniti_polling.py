"""Mobiniti's polling fallback: the same events, each once, with webhooks or without."""

from datetime import timedelta
import logging
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import async_capture_events
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.commhub.api.mobiniti import MobinitiMessage, parse_mobiniti_time
from custom_components.commhub.providers.mobiniti.events import (
    event_from_message,
    event_from_webhook,
)
from sandbox import Fault, Sandbox

from .conftest import MOBINITI_WEBHOOK_ID, SetupEntry
from .helpers import next_poll, state_of

JANE = "+12025550101"
JOHN = "+12025550102"
LEE = "+12025550105"
WEBHOOK = f"/api/webhook/{MOBINITI_WEBHOOK_ID}"


def paths(sandbox: Sandbox) -> list[str]:
    """The API paths requested so far."""
    return [r.path for r in sandbox.mobiniti.requests]


async def test_without_polling_only_the_token_is_checked(
    hass: HomeAssistant,
    sandbox: Sandbox,
    setup_mobiniti: SetupEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Webhooks only: one cheap GET at setup, nothing afterwards."""
    entry = await setup_mobiniti()
    assert entry.state is ConfigEntryState.LOADED
    assert paths(sandbox) == ["/v1/contacts"]
    assert sandbox.mobiniti.requests[0].query.get("limit") == "1"
    await next_poll(hass, freezer, 3600)
    assert paths(sandbox) == ["/v1/contacts"]


async def test_first_setup_is_the_baseline(
    hass: HomeAssistant,
    sandbox: Sandbox,
    setup_mobiniti: SetupEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The seeded unsubscribes and messages are history: nothing is fired."""
    unsubscribes = async_capture_events(hass, "commhub_unsubscribe")
    inbound = async_capture_events(hass, "commhub_inbound_message")
    await setup_mobiniti(polling=True)
    await next_poll(hass, freezer)
    assert (unsubscribes, inbound) == ([], [])


async def test_polling_finds_unsubscribes_and_inbound_messages(
    hass: HomeAssistant,
    sandbox: Sandbox,
    setup_mobiniti: SetupEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Without any webhook, both kinds arrive within an interval, once."""
    entry = await setup_mobiniti(polling=True)
    unsubscribes = async_capture_events(hass, "commhub_unsubscribe")
    inbound = async_capture_events(hass, "commhub_inbound_message")
    freezer.tick(timedelta(seconds=5))
    sandbox.mobiniti.unsubscribe_contact(JANE)
    message = sandbox.mobiniti.add_inbound(LEE, "Is the sale still on?")
    await next_poll(hass, freezer)
    await next_poll(hass, freezer)
    assert [e.data["phone_number"] for e in unsubscribes] == [JANE]
    assert unsubscribes[0].data["config_entry_id"] == entry.entry_id
    assert len(inbound) == 1
    assert inbound[0].data["message"] == "Is the sale still on?"
    assert inbound[0].data["contact_id"] == message["contact_id"]
    assert inbound[0].data["catch_up"] is False
    sensor = state_of(hass, "sensor", f"mobiniti_{entry.entry_id}_unsubscribes_today")
    assert sensor.state == "1"


async def test_webhook_and_polling_report_an_unsubscribe_once(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    sandbox: Sandbox,
    setup_mobiniti: SetupEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The webhook first, then polling sees the same contact: one event."""
    await setup_mobiniti(polling=True)
    unsubscribes = async_capture_events(hass, "commhub_unsubscribe")
    inbound = async_capture_events(hass, "commhub_inbound_message")
    client = await hass_client_no_auth()
    freezer.tick(timedelta(seconds=5))
    sandbox.mobiniti.unsubscribe_contact(JOHN)
    sandbox.mobiniti.add_inbound(LEE, "hello")
    for kind in ("unsubscribe", "inbound_message"):
        url = str(client.make_url(f"{WEBHOOK}?kind={kind}"))
        assert (await sandbox.mobiniti.deliver_webhook(url, kind)).status == 200
    await hass.async_block_till_done()
    await next_poll(hass, freezer)
    assert (len(unsubscribes), len(inbound)) == (1, 1)
    # Polling first, then the webhook: still once.
    freezer.tick(timedelta(seconds=5))
    sandbox.mobiniti.unsubscribe_contact(LEE)
    await next_poll(hass, freezer)
    url = str(client.make_url(f"{WEBHOOK}?kind=unsubscribe"))
    assert (await sandbox.mobiniti.deliver_webhook(url, "unsubscribe")).status == 200
    await hass.async_block_till_done()
    assert [e.data["phone_number"] for e in unsubscribes] == [JOHN, LEE]


async def test_restart_catches_up_what_happened_meanwhile(
    hass: HomeAssistant,
    sandbox: Sandbox,
    setup_mobiniti: SetupEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Unloaded for an hour: the messages of that hour come with catch_up."""
    entry = await setup_mobiniti(polling=True)
    inbound = async_capture_events(hass, "commhub_inbound_message")
    await next_poll(hass, freezer)
    assert await hass.config_entries.async_unload(entry.entry_id)
    freezer.tick(timedelta(hours=1))
    sandbox.mobiniti.add_inbound(LEE, "while you were away")
    freezer.tick(timedelta(seconds=5))
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert [e.data["message"] for e in inbound] == ["while you were away"]
    assert inbound[0].data["catch_up"] is True
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    await next_poll(hass, freezer)
    assert len(inbound) == 1


async def test_outage_is_unavailable_polling_but_webhooks_still_count(
    hass: HomeAssistant,
    sandbox: Sandbox,
    setup_mobiniti: SetupEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A failing poll does not make the webhook-fed entities unavailable."""
    entry = await setup_mobiniti(polling=True)
    sandbox.mobiniti.add_fault(Fault("error", status=503, count=None))
    await next_poll(hass, freezer)
    assert not entry.runtime_data.last_update_success
    sensor = state_of(hass, "sensor", f"mobiniti_{entry.entry_id}_unsubscribes_today")
    assert sensor.state == "0"
    sandbox.mobiniti.clear_faults()
    await next_poll(hass, freezer)
    assert entry.runtime_data.last_update_success


@pytest.mark.parametrize(
    ("fault", "reauth"),
    [(Fault("error", status=401), True), (Fault("error", status=402), False)],
)
async def test_auth_and_payment_problems_at_setup(
    hass: HomeAssistant,
    sandbox: Sandbox,
    setup_mobiniti: SetupEntry,
    fault: Fault,
    reauth: bool,
) -> None:
    """401 at setup asks for reauth; 402 opens a repair issue and retries."""
    sandbox.mobiniti.add_fault(fault)
    entry = await setup_mobiniti()
    flows = hass.config_entries.flow.async_progress_by_handler("commhub")
    assert bool(flows) is reauth
    assert entry.state in (ConfigEntryState.SETUP_ERROR, ConfigEntryState.SETUP_RETRY)


async def test_a_malformed_record_is_skipped_with_one_warning(
    hass: HomeAssistant,
    sandbox: Sandbox,
    setup_mobiniti: SetupEntry,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A message without its time is skipped; the next one is reported."""
    await setup_mobiniti(polling=True)
    inbound = async_capture_events(hass, "commhub_inbound_message")
    freezer.tick(timedelta(seconds=5))
    bad = sandbox.mobiniti.add_inbound(LEE, "bad")
    sandbox.mobiniti.add_inbound(JOHN, "good")
    record: Any = sandbox.mobiniti.messages[bad["id"]]
    original = record.to_json
    record.to_json = lambda: {**original(), "created_at": 12}
    caplog.clear()
    await next_poll(hass, freezer)
    await next_poll(hass, freezer)
    assert [e.data["message"] for e in inbound] == ["good"]
    warnings = [
        r
        for r in caplog.records
        if r.levelno == logging.WARNING and r.name.startswith("custom_components")
    ]
    assert len(warnings) == 1
    assert "'created_at'" in warnings[0].getMessage()


def test_posted_and_polled_inbound_message_share_their_key() -> None:
    """Same sender, second and text: the same message, however each path words it."""
    posted = event_from_webhook(
        "inbound_message",
        {
            "id": "contact-1",
            "phone_number": LEE,
            "message": "Is the sale still on?",
            "received_at": "2026-11-23T09:00:00.553Z",
            "created_at": "2026-01-01T00:00:00.000Z",
            "updated_at": "2026-01-01T00:00:00.000Z",
        },
    )
    polled = event_from_message(
        MobinitiMessage(
            id="message-9",
            contact_id=None,
            phone_number=LEE,
            message="Is the sale still on?",
            created_at=parse_mobiniti_time("2026-11-23T09:00:00+0000"),
        )
    )
    assert posted.key == polled.key
    other = event_from_message(
        MobinitiMessage(
            "m", None, LEE, "Another text", parse_mobiniti_time("2026-11-23T09:00:00Z")
        )
    )
    assert other.key != polled.key


async def test_a_token_without_the_contacts_scope_still_sets_up(
    hass: HomeAssistant, sandbox: Sandbox, setup_mobiniti: SetupEntry
) -> None:
    """403 on the check proves the token; only webhooks need nothing more."""
    sandbox.mobiniti.add_fault(Fault("error", status=403, path="/v1/contacts"))
    entry = await setup_mobiniti()
    assert entry.state is ConfigEntryState.LOADED
