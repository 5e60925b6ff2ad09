"""IP1 inbound messages: each fired once, by polling or webhook, also across restarts."""

import asyncio
from datetime import datetime, timedelta
import json
import logging
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import Event, HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from sandbox import Sandbox

from .conftest import IP1_NAME, IP1_PARTICIPANT, IP1_WEBHOOK_ID, SetupEntry
from .helpers import next_poll, state_of

EVENT = "commhub_inbound_message"
REPORT = "commhub_delivery_report"
START = datetime(2026, 11, 23, 9, 0, 0, tzinfo=dt_util.UTC)
WEBHOOK = f"/api/webhook/{IP1_WEBHOOK_ID}"


@pytest.fixture(autouse=True)
def frozen_start(freezer: FrozenDateTimeFactory) -> None:
    """Every test starts at the same moment."""
    freezer.move_to(START)


def ids(events: list[Event]) -> list[str]:
    """The messages the events were fired for, in firing order."""
    return [event.data["message_id"] for event in events]


async def reload(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Unload and set up the entry again, as a restart does."""
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()


async def test_first_setup_takes_the_history_as_baseline(
    hass: HomeAssistant, setup_ip1: SetupEntry, freezer: FrozenDateTimeFactory
) -> None:
    """The seeded conversations are history: nothing is fired for them."""
    events = async_capture_events(hass, EVENT)
    await setup_ip1()
    await next_poll(hass, freezer)
    assert events == []


async def test_a_new_inbound_message_fires_once_with_the_contract_data(
    hass: HomeAssistant,
    sandbox: Sandbox,
    setup_ip1: SetupEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Polling finds it; the bus event and the event entity carry the message."""
    entry = await setup_ip1()
    events = async_capture_events(hass, EVENT)
    message = sandbox.ip1.add_inbound(IP1_PARTICIPANT, "Are you open today?")
    sandbox.ip1.add_outbound(IP1_PARTICIPANT, "Yes, until 18.")
    await next_poll(hass, freezer)
    await next_poll(hass, freezer)
    assert len(events) == 1
    assert events[0].data == {
        "config_entry_id": entry.entry_id,
        "service": "ip1",
        "phone_number": IP1_PARTICIPANT,
        "message": "Are you open today?",
        "received_at": datetime.fromisoformat(
            message["statuses"][0]["created"]
        ).isoformat(),
        "message_id": message["id"],
        "catch_up": False,
    }
    state = state_of(hass, "event", f"ip1_{entry.entry_id}_inbound_message")
    assert state.attributes["event_type"] == "inbound_message"
    assert state.attributes["message"] == "Are you open today?"
    assert state.attributes["phone_number"] == IP1_PARTICIPANT
    assert "config_entry_id" not in state.attributes


async def test_several_new_messages_fire_oldest_first_across_pages(
    hass: HomeAssistant,
    sandbox: Sandbox,
    setup_ip1: SetupEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """More new messages than one page holds: all of them, oldest first."""
    await setup_ip1()
    events = async_capture_events(hass, EVENT)
    now = dt_util.utcnow()
    added = [
        sandbox.ip1.add_inbound(
            IP1_PARTICIPANT, f"#{i}", at=now + timedelta(seconds=i)
        )["id"]
        for i in range(130)
    ]
    await next_poll(hass, freezer, 200)
    assert ids(events) == added


async def test_no_repeat_after_reload_and_catch_up_for_messages_meanwhile(
    hass: HomeAssistant,
    sandbox: Sandbox,
    setup_ip1: SetupEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A reload fires nothing twice; messages received while down come with catch_up."""
    entry = await setup_ip1()
    events = async_capture_events(hass, EVENT)
    first = sandbox.ip1.add_inbound(IP1_PARTICIPANT, "first")
    await next_poll(hass, freezer)
    assert ids(events) == [first["id"]]

    await reload(hass, entry)
    assert ids(events) == [first["id"]]

    assert await hass.config_entries.async_unload(entry.entry_id)
    freezer.tick(timedelta(hours=2))
    during = [
        sandbox.ip1.add_inbound(IP1_NAME, "while down"),
        sandbox.ip1.add_inbound(IP1_PARTICIPANT, "also while down"),
    ]
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert sorted(ids(events)[1:]) == sorted(m["id"] for m in during)
    assert [e.data["catch_up"] for e in events] == [False, True, True]

    after = sandbox.ip1.add_inbound(IP1_PARTICIPANT, "after")
    await next_poll(hass, freezer)
    assert ids(events)[3:] == [after["id"]]
    assert events[3].data["catch_up"] is False


async def test_messages_older_than_a_day_are_not_caught_up(
    hass: HomeAssistant,
    sandbox: Sandbox,
    setup_ip1: SetupEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """After a long outage only the last 24 hours are reported."""
    entry = await setup_ip1()
    events = async_capture_events(hass, EVENT)
    assert await hass.config_entries.async_unload(entry.entry_id)
    freezer.tick(timedelta(days=3))
    now = dt_util.utcnow()
    old = sandbox.ip1.add_inbound(IP1_PARTICIPANT, "old", at=now - timedelta(hours=30))
    recent = sandbox.ip1.add_inbound(
        IP1_PARTICIPANT, "recent", at=now - timedelta(hours=2)
    )
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert ids(events) == [recent["id"]]
    assert old["id"] not in ids(events)


async def test_a_newly_followed_participant_starts_from_its_history(
    hass: HomeAssistant,
    sandbox: Sandbox,
    setup_ip1: SetupEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Adding a participant later fires nothing for its past messages."""
    entry = await setup_ip1(participants=[IP1_PARTICIPANT])
    events = async_capture_events(hass, EVENT)
    sandbox.ip1.add_inbound("46709876543", "before it was followed")
    result = await hass.config_entries.options.async_init(entry.entry_id)
    await hass.config_entries.options.async_configure(
        result["flow_id"],
        {"scan_interval": 60, "participants": [IP1_PARTICIPANT, "46709876543"]},
    )
    await hass.async_block_till_done()
    await next_poll(hass, freezer)
    assert events == []
    later = sandbox.ip1.add_inbound("46709876543", "after")
    await next_poll(hass, freezer)
    assert ids(events) == [later["id"]]


async def post(
    hass_client_no_auth: ClientSessionGenerator,
    payload: Any,
    kind: str | None = "inbound_message",
    method: str = "POST",
) -> int:
    """Deliver a payload to the IP1 webhook; the HTTP status it got."""
    client = await hass_client_no_auth()
    url = WEBHOOK if kind is None else f"{WEBHOOK}?kind={kind}"
    response = await client.request(method, url, json=payload)
    return response.status


async def test_webhook_and_polling_report_a_message_once(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    sandbox: Sandbox,
    setup_ip1: SetupEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A message IP1 posts and polling later lists (and a repost) fires once."""
    entry = await setup_ip1()
    events = async_capture_events(hass, EVENT)
    message = sandbox.ip1.add_inbound(IP1_PARTICIPANT, "by webhook")
    assert await post(hass_client_no_auth, message) == 200
    await hass.async_block_till_done()
    assert ids(events) == [message["id"]]
    # The sensor shows it at once, before the next poll.
    sensor = state_of(
        hass,
        "sensor",
        f"ip1_participant_{entry.entry_id}_{IP1_PARTICIPANT}_last_message",
    )
    assert sensor.state == "by webhook"
    assert await post(hass_client_no_auth, message, kind=None) == 200
    await next_poll(hass, freezer)
    await reload(hass, entry)
    assert await post(hass_client_no_auth, message) == 200
    assert ids(events) == [message["id"]]

    polled = sandbox.ip1.add_inbound(IP1_PARTICIPANT, "by polling first")
    await next_poll(hass, freezer)
    assert await post(hass_client_no_auth, polled) == 200
    assert ids(events) == [message["id"], polled["id"]]


async def test_webhook_reports_unfollowed_senders_too(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    sandbox: Sandbox,
    setup_ip1: SetupEntry,
) -> None:
    """The inbound callback covers the whole account, not only followed chats."""
    await setup_ip1()
    events = async_capture_events(hass, EVENT)
    message = sandbox.ip1.add_inbound("46709876543", "hello")
    assert await post(hass_client_no_auth, message) == 200
    assert ids(events) == [message["id"]]


async def test_sandbox_delivers_through_real_http(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    sandbox: Sandbox,
    setup_ip1: SetupEntry,
) -> None:
    """The IP1 callback posted by the sandbox is answered 200 and fired."""
    await setup_ip1()
    events = async_capture_events(hass, EVENT)
    client = await hass_client_no_auth()
    sandbox.ip1.inbound_callback_url = str(client.make_url(WEBHOOK))
    message = sandbox.ip1.add_inbound(IP1_NAME, "Ready for pickup")
    await sandbox.ip1.wait_deliveries()
    await hass.async_block_till_done()
    assert ids(events) == [message["id"]]
    assert [a.status for a in sandbox.ip1.deliveries[-1].attempts] == [200]


@pytest.mark.parametrize(
    "payload",
    [
        {"id": "x", "sender": "46701234567", "body": "no statuses or recipient"},
        {
            "id": 5,
            "sender": "46701234567",
            "recipient": "4670",
            "body": "b",
            "statuses": [{"code": 201, "created": "2026-11-23T09:00:00+00:00"}],
        },
        {
            "id": "x",
            "sender": "1",
            "recipient": "2",
            "body": "b",
            "statuses": [{"code": 201, "created": "yesterday"}],
        },
        ["not", "an", "object"],
        {"unrelated": True},
    ],
)
async def test_invalid_payload_is_400_fires_nothing_and_warns_once(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    setup_ip1: SetupEntry,
    caplog: pytest.LogCaptureFixture,
    payload: Any,
) -> None:
    """Refused, nothing fired, one warning that does not quote the content."""
    await setup_ip1()
    events = async_capture_events(hass, EVENT)
    caplog.clear()
    kind = None if payload == {"unrelated": True} else "inbound_message"
    assert await post(hass_client_no_auth, payload, kind) == 400
    assert await post(hass_client_no_auth, payload, kind) == 400
    assert events == []
    warnings = [
        r
        for r in caplog.records
        if r.levelno == logging.WARNING and r.name.startswith("custom_components")
    ]
    assert len(warnings) == 1
    assert "46701234567" not in warnings[0].getMessage()


async def test_webhook_refuses_other_methods_and_huge_bodies(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    setup_ip1: SetupEntry,
) -> None:
    """POST only; a body larger than any delivery is refused unread."""
    await setup_ip1()
    events = async_capture_events(hass, EVENT)
    assert await post(hass_client_no_auth, None, method="GET") == 405
    assert await post(hass_client_no_auth, None, method="PUT") == 405
    huge = {"body": "x" * 100_000}
    assert await post(hass_client_no_auth, huge) == 413
    client = await hass_client_no_auth()
    response = await client.post(f"{WEBHOOK}?kind=inbound_message", data=b"{not json")
    assert response.status == 400
    assert events == []


async def test_delivery_reports_fire_once_and_update_the_status(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    sandbox: Sandbox,
    setup_ip1: SetupEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A report is an event (once, also when reposted) and the message's status."""
    entry = await setup_ip1()
    reports = async_capture_events(hass, REPORT)
    client = await hass_client_no_auth()
    url = str(client.make_url(f"{WEBHOOK}?kind=delivery_report"))
    batch = sandbox.ip1.send_batch(
        "CommHub", [IP1_PARTICIPANT], "Your order shipped", delivery_report_url=url
    )
    await next_poll(hass, freezer)
    sensor_id = f"ip1_participant_{entry.entry_id}_{IP1_PARTICIPANT}_last_message"
    assert state_of(hass, "sensor", sensor_id).attributes["status"] == 101
    message_id = batch.message_ids[0]
    freezer.tick(timedelta(seconds=5))
    sandbox.ip1.set_status(message_id, 201)
    await sandbox.ip1.wait_deliveries()
    await hass.async_block_till_done()
    assert len(reports) == 1
    assert reports[0].data == {
        "config_entry_id": entry.entry_id,
        "service": "ip1",
        "message_id": message_id,
        "batch_id": batch.id,
        "recipient": IP1_PARTICIPANT,
        "code": 201,
        "created": dt_util.utcnow().isoformat(),
    }
    assert state_of(hass, "sensor", sensor_id).attributes["status"] == 201
    await sandbox.ip1.deliver_report(message_id)  # IP1 retries: the same report
    await reload(hass, entry)
    await sandbox.ip1.deliver_report(message_id)
    await hass.async_block_till_done()
    assert len(reports) == 1
    assert all(a.status == 200 for d in sandbox.ip1.deliveries for a in d.attempts)


async def test_a_failed_save_answers_500_and_the_retry_fires(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    sandbox: Sandbox,
    setup_ip1: SetupEntry,
) -> None:
    """If the position cannot be stored, IP1 is told to retry; nothing is lost."""
    entry = await setup_ip1()
    events = async_capture_events(hass, EVENT)
    message = sandbox.ip1.add_inbound(IP1_PARTICIPANT, "keep me")
    journal = entry.runtime_data.ledger._journal
    with patch.object(journal, "append", side_effect=OSError("disk full")):
        assert await post(hass_client_no_auth, message) == 500
    assert events == []
    assert await post(hass_client_no_auth, message) == 200
    assert ids(events) == [message["id"]]


async def test_report_recognised_by_shape_and_bad_report_refused(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    setup_ip1: SetupEntry,
) -> None:
    """Without ?kind= a report is known by its code; one without an id is 400."""
    await setup_ip1()
    reports = async_capture_events(hass, REPORT)
    report = {
        "id": "m-1",
        "batchId": "b-1",
        "recipient": IP1_PARTICIPANT,
        "sender": "CommHub",
        "code": 201,
        "created": "2026-11-23T08:59:00.000+00:00",
        "reference": None,
    }
    assert await post(hass_client_no_auth, report, kind=None) == 200
    assert [e.data["code"] for e in reports] == [201]
    del report["id"]
    assert await post(hass_client_no_auth, report, kind="delivery_report") == 400
    assert len(reports) == 1


async def test_chunked_oversized_body_is_refused(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    setup_ip1: SetupEntry,
) -> None:
    """A body without Content-Length is cut off at the limit, not read whole."""
    await setup_ip1()

    async def chunks() -> Any:
        for _ in range(20):
            yield b"x" * 8192

    client = await hass_client_no_auth()
    response = await client.post(f"{WEBHOOK}?kind=inbound_message", data=chunks())
    assert response.status == 413


async def test_a_body_with_a_byte_order_mark_or_in_chunks_is_read(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    sandbox: Sandbox,
    setup_ip1: SetupEntry,
) -> None:
    """A UTF-8 writer that puts a byte order mark first, or sends chunks, is read."""
    await setup_ip1()
    events = async_capture_events(hass, EVENT)
    client = await hass_client_no_auth()
    url = f"{WEBHOOK}?kind=inbound_message"
    marked = sandbox.ip1.add_inbound(IP1_PARTICIPANT, "Öppet idag?")
    body = b"\xef\xbb\xbf" + json.dumps(marked, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json; charset=utf-8"}
    assert (await client.post(url, data=body, headers=headers)).status == 200
    chunked = sandbox.ip1.add_inbound(IP1_PARTICIPANT, "Och imorgon?")
    text = json.dumps(chunked).encode()

    async def chunks() -> Any:
        yield text[:7]
        yield text[7:]

    assert (await client.post(url, data=chunks(), headers=headers)).status == 200
    await hass.async_block_till_done()
    assert ids(events) == [marked["id"], chunked["id"]]


async def test_a_malformed_message_is_skipped_with_one_warning(
    hass: HomeAssistant,
    sandbox: Sandbox,
    setup_ip1: SetupEntry,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A message with a wrong field type never stops the others."""
    await setup_ip1()
    events = async_capture_events(hass, EVENT)
    bad = sandbox.ip1.add_inbound(IP1_PARTICIPANT, "bad")
    good = sandbox.ip1.add_inbound(IP1_PARTICIPANT, "good")
    record = sandbox.ip1.messages[bad["id"]]
    original = record.to_json
    record.to_json = lambda: {**original(), "sender": 46701234567}  # type: ignore[method-assign]
    caplog.clear()
    await next_poll(hass, freezer)
    await next_poll(hass, freezer)
    assert ids(events) == [good["id"]]
    warnings = [
        r
        for r in caplog.records
        if r.levelno == logging.WARNING and r.name.startswith("custom_components")
    ]
    assert len(warnings) == 1
    assert "'sender'" in warnings[0].getMessage()


async def test_a_flood_beyond_the_page_bound_is_logged(
    hass: HomeAssistant,
    sandbox: Sandbox,
    setup_ip1: SetupEntry,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Reading back is bounded; what lies beyond the bound is said, not hidden."""
    await setup_ip1()
    events = async_capture_events(hass, EVENT)
    now = dt_util.utcnow()
    for i in range(150):
        sandbox.ip1.add_inbound(IP1_PARTICIPANT, f"#{i}", at=now + timedelta(seconds=i))
    with patch(
        "custom_components.commhub.providers.ip1.coordinator.MAX_PAGES_PER_POLL", 1
    ):
        await next_poll(hass, freezer, 200)
    assert len(events) == 100
    assert any("more than 100 new messages" in r.getMessage() for r in caplog.records)


async def test_a_body_arriving_in_pieces_is_read_whole(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    sandbox: Sandbox,
    setup_ip1: SetupEntry,
) -> None:
    """A slow sender's body comes in several reads; it is still one delivery."""
    await setup_ip1()
    events = async_capture_events(hass, EVENT)
    message = sandbox.ip1.add_inbound(IP1_PARTICIPANT, "slowly")
    body = json.dumps(message).encode()

    async def pieces() -> Any:
        for start in range(0, len(body), 40):
            yield body[start : start + 40]
            await asyncio.sleep(0)

    client = await hass_client_no_auth()
    response = await client.post(f"{WEBHOOK}?kind=inbound_message", data=pieces())
    assert response.status == 200
    assert ids(events) == [message["id"]]


async def test_an_old_message_posted_now_is_fired_once(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    sandbox: Sandbox,
    setup_ip1: SetupEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """IP1 retries a callback for days: news on arrival, with catch_up, once."""
    await setup_ip1()
    events = async_capture_events(hass, EVENT)
    old = sandbox.ip1.add_inbound(
        "46709876543", "sent last week", at=dt_util.utcnow() - timedelta(days=7)
    )
    assert await post(hass_client_no_auth, old) == 200
    assert ids(events) == [old["id"]]
    assert events[0].data["catch_up"] is True
    freezer.tick(timedelta(hours=23))
    assert await post(hass_client_no_auth, old) == 200
    assert len(events) == 1
