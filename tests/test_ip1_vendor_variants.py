"""The IP1 integration against every form IP1's own pages give the API's answers.

The sandbox switches between them: a report's message id as `id` or `messageId`, a
`Link` header with or without the `;`, `direction` as 0/1 or "mo"/"mt".
"""

from datetime import datetime, timedelta
from itertools import product

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_capture_events
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from sandbox import Sandbox
from sandbox.ip1 import VARIANTS

from .conftest import IP1_PARTICIPANT, IP1_WEBHOOK_ID, SetupEntry
from .helpers import next_poll, state_of

INBOUND = "commhub_inbound_message"
REPORT = "commhub_delivery_report"
START = datetime(2026, 11, 23, 9, 0, 0, tzinfo=dt_util.UTC)
ALL_VARIANTS = [
    dict(zip(VARIANTS, values, strict=True)) for values in product(*VARIANTS.values())
]


@pytest.fixture
def frozen_start(freezer: FrozenDateTimeFactory) -> None:
    """Every test starts at the same moment, before the sandbox seeds its history."""
    freezer.move_to(START)


@pytest.fixture(autouse=True, params=ALL_VARIANTS, ids=lambda v: "-".join(v.values()))
def variant(
    frozen_start: None, request: pytest.FixtureRequest, sandbox: Sandbox
) -> dict[str, str]:
    """Every test runs against each combination of the sandbox's switches."""
    return sandbox.ip1.set_variants(request.param)


def test_every_combination_is_covered() -> None:
    """Two forms of each of three things: eight sandboxes."""
    assert len(ALL_VARIANTS) == 8
    assert len({tuple(v.values()) for v in ALL_VARIANTS}) == 8


async def test_new_messages_on_every_page_fire_once_oldest_first(
    hass: HomeAssistant,
    sandbox: Sandbox,
    setup_ip1: SetupEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """More new messages than a page holds: the next page is found in either form."""
    entry = await setup_ip1()
    events = async_capture_events(hass, INBOUND)
    now = dt_util.utcnow()
    added = [
        sandbox.ip1.add_inbound(IP1_PARTICIPANT, f"#{i}", at=now + timedelta(seconds=i))
        for i in range(130)
    ]
    await next_poll(hass, freezer, 200)
    assert [e.data["message_id"] for e in events] == [m["id"] for m in added]
    await next_poll(hass, freezer)
    assert len(events) == 130
    sensor = state_of(
        hass,
        "sensor",
        f"ip1_participant_{entry.entry_id}_{IP1_PARTICIPANT}_last_message",
    )
    assert (sensor.state, sensor.attributes["direction"]) == ("#129", "inbound")
    pages = {r.query["start"] for r in sandbox.ip1.requests if r.method == "GET"}
    assert {"0", "100"} <= pages


async def test_direction_is_the_senders_whatever_its_form(
    hass: HomeAssistant,
    sandbox: Sandbox,
    setup_ip1: SetupEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The newest message's direction comes from who sent it, in every form."""
    entry = await setup_ip1()
    events = async_capture_events(hass, INBOUND)
    sensor_id = f"ip1_participant_{entry.entry_id}_{IP1_PARTICIPANT}_last_message"
    assert state_of(hass, "sensor", sensor_id).attributes["direction"] == "inbound"
    sandbox.ip1.add_outbound(IP1_PARTICIPANT, "We open at 10.")
    await next_poll(hass, freezer)
    state = state_of(hass, "sensor", sensor_id)
    assert (state.state, state.attributes["direction"]) == (
        "We open at 10.",
        "outbound",
    )
    assert events == []


async def test_callbacks_reach_the_entry_once(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    sandbox: Sandbox,
    setup_ip1: SetupEntry,
) -> None:
    """The sandbox's inbound message and delivery report: answered 200, fired once."""
    entry = await setup_ip1()
    inbound = async_capture_events(hass, INBOUND)
    reports = async_capture_events(hass, REPORT)
    client = await hass_client_no_auth()
    webhook = f"/api/webhook/{IP1_WEBHOOK_ID}"
    sandbox.ip1.inbound_callback_url = str(
        client.make_url(f"{webhook}?kind=inbound_message")
    )
    message = sandbox.ip1.add_inbound(IP1_PARTICIPANT, "Is it ready?")
    report_url = str(client.make_url(f"{webhook}?kind=delivery_report"))
    batch = sandbox.ip1.send_batch(
        "CommHub", [IP1_PARTICIPANT], "Yes, it is.", delivery_report_url=report_url
    )
    (sent,) = batch.message_ids
    sandbox.ip1.set_status(sent, 201)
    await sandbox.ip1.wait_deliveries()
    await sandbox.ip1.deliver_report(sent)  # IP1 posts it again: fired once
    await hass.async_block_till_done()
    assert [e.data["message_id"] for e in inbound] == [message["id"]]
    assert [e.data for e in reports] == [
        {
            "config_entry_id": entry.entry_id,
            "service": "ip1",
            "message_id": sent,
            "batch_id": batch.id,
            "recipient": IP1_PARTICIPANT,
            "code": 201,
            "created": START.isoformat(),
        }
    ]
    assert all([a.status for a in d.attempts] == [200] for d in sandbox.ip1.deliveries)
