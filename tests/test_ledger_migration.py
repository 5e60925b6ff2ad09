"""Upgrading CommHub keeps what each entry had reported: nothing fires twice."""

from datetime import timedelta
import hashlib
import json
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_capture_events
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.commhub.providers.mobiniti.events import (
    event_from_webhook,
)
from sandbox import Sandbox

from .conftest import (
    HIPCALL_OWNER,
    IP1_PARTICIPANT,
    MOBINITI_WEBHOOK_ID,
    hipcall_entry,
    ip1_entry,
    mobiniti_entry,
)
from .helpers import state_of

JANE = "+12025550101"


def legacy_store(key: str, data: dict[str, Any]) -> dict[str, Any]:
    """A Store file as CommHub 0.4 and earlier wrote it (version 1)."""
    return {"version": 1, "minor_version": 1, "key": key, "data": data}


async def test_hipcall_calls_reported_before_the_upgrade_stay_reported(
    hass: HomeAssistant,
    sandbox: Sandbox,
    sandbox_url: str,
    hass_storage: dict[str, Any],
) -> None:
    """The old call ledger's uuids and today's count carry over."""
    now = dt_util.utcnow()
    reported = sandbox.hipcall.add_call(
        started_at=now - timedelta(minutes=3),
        ended_at=now - timedelta(minutes=2),
        missing_call=True,
        missing_call_reason=3,
    )
    entry = hipcall_entry(sandbox_url)
    entry.add_to_hass(hass)
    key = f"commhub.hipcall_calls.{entry.entry_id}"
    hass_storage[key] = legacy_store(
        key,
        {
            "baseline_at": (now - timedelta(hours=1)).isoformat(),
            "seen": {reported["uuid"]: (now - timedelta(minutes=2)).isoformat()},
            "last_poll_at": (now - timedelta(minutes=1)).isoformat(),
            "last_missed_at": (now - timedelta(minutes=3)).isoformat(),
            "counted_day": dt_util.now().date().isoformat(),
            "counted": 1,
            "resume_page": None,
        },
    )
    missed = sandbox.hipcall.add_call(
        started_at=now - timedelta(seconds=50),
        ended_at=now - timedelta(seconds=30),
        missing_call=True,
        missing_call_reason=3,
    )
    events = async_capture_events(hass, "commhub_missed_call")
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert [event.data["uuid"] for event in events] == [missed["uuid"]]
    today = state_of(hass, "sensor", f"hipcall_{HIPCALL_OWNER}_missed_calls_today")
    assert today.state == "2"


async def test_ip1_messages_reported_before_the_upgrade_stay_reported(
    hass: HomeAssistant,
    sandbox: Sandbox,
    sandbox_url: str,
    hass_storage: dict[str, Any],
) -> None:
    """The old message ledger's ids and followed baselines carry over."""
    now = dt_util.utcnow()
    reported = sandbox.ip1.add_inbound(IP1_PARTICIPANT, "reported before")
    entry = ip1_entry(sandbox_url, participants=[IP1_PARTICIPANT])
    entry.add_to_hass(hass)
    key = f"commhub.ip1_messages.{entry.entry_id}"
    hass_storage[key] = legacy_store(
        key,
        {
            "baseline_at": (now - timedelta(hours=1)).isoformat(),
            "participants": {IP1_PARTICIPANT: (now - timedelta(hours=1)).isoformat()},
            "seen": {reported["id"]: now.isoformat()},
            "reports": {},
        },
    )
    new = sandbox.ip1.add_inbound(IP1_PARTICIPANT, "new since")
    events = async_capture_events(hass, "commhub_inbound_message")
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert [event.data["message_id"] for event in events] == [new["id"]]


async def test_mobiniti_deliveries_reported_before_the_upgrade_stay_reported(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    sandbox: Sandbox,
    sandbox_url: str,
    hass_storage: dict[str, Any],
) -> None:
    """A retried delivery the old ledger knew fires nothing; the count carries."""
    sandbox.mobiniti.rate_limit_enabled = False
    now = dt_util.utcnow()
    payload = sandbox.mobiniti.unsubscribe_contact(JANE)
    entry = mobiniti_entry(sandbox_url)
    entry.add_to_hass(hass)
    key = f"commhub.mobiniti_events.{entry.entry_id}"
    hass_storage[key] = legacy_store(
        key,
        {
            "baseline_at": (now - timedelta(hours=1)).isoformat(),
            "keys": {event_from_webhook("unsubscribe", payload).key: now.timestamp()},
            "last_poll_at": None,
            "counted_day": dt_util.now().date().isoformat(),
            "counted": 1,
        },
    )
    events = async_capture_events(hass, "commhub_unsubscribe")
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    client = await hass_client_no_auth()
    response = await client.post(
        f"/api/webhook/{MOBINITI_WEBHOOK_ID}?kind=unsubscribe", json=payload
    )
    assert response.status == 200
    await hass.async_block_till_done()
    assert events == []
    today = state_of(hass, "sensor", f"mobiniti_{entry.entry_id}_unsubscribes_today")
    assert today.state == "1"


# What a delivery without an id of its own may hold, beyond the document's fields.
EXTRAS: dict[str, Any] = {
    "plain": {},
    "accents": {"note": "Soldes d'été — 20 %"},
    "controls": {"note": "line\nbreak\ttab\u0001\u007f end"},
    "big numbers": {"big": 2**70, "small": -(2**63), "ratio": 0.5, "huge": 1e20},
    "nested": {"meta": {"z": [True, None, {"b": 1, "a": "x"}], "a": False}},
    "quotes": {'we"ird\\key': 'back\\slash "quoted"'},
}


@pytest.mark.parametrize("extra", EXTRAS.values(), ids=EXTRAS.keys())
@pytest.mark.parametrize(
    "kind", ["delivery_report", "contact_status", "bounce", "rejection"]
)
def test_content_keys_are_those_earlier_versions_stored(
    sandbox: Sandbox, kind: str, extra: dict[str, Any]
) -> None:
    """The hash of the stdlib's sorted compact JSON: a retry across an upgrade is known."""
    match kind:
        case "delivery_report":
            sandbox.mobiniti.send_message(JANE, "hello")
        case "contact_status":
            sandbox.mobiniti.set_contact_status(JANE, "suspended")
        case "bounce":
            sandbox.mobiniti.add_bounce(JANE)
        case "rejection":
            sandbox.mobiniti.add_rejection("Sale today!")
    payload = sandbox.mobiniti.webhook_payload(kind) | extra
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    assert event_from_webhook(kind, payload).key == f"{kind}:{digest}"
