"""Mobiniti webhooks: each kind fired once with the contract's data, bad ones refused."""

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
import json
import logging
import time
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.commhub.const import DOMAIN
from custom_components.commhub.providers.mobiniti.events import WEBHOOK_KINDS
from sandbox import Sandbox

from .conftest import MOBINITI_TOKEN, MOBINITI_WEBHOOK_ID, SetupEntry
from .helpers import state_of

WEBHOOK = f"/api/webhook/{MOBINITI_WEBHOOK_ID}"
JANE = "+12025550101"
LEE = "+12025550105"
MARIA = "+12025550104"
# Kinds that can arrive by the hundred: their event entities start disabled.
NOISY_KINDS = ("delivery_report", "contact_status", "bounce", "rejection")
# What makes the sandbox post each kind.
MAKERS: dict[str, Callable[[Sandbox], Any]] = {
    "unsubscribe": lambda sandbox: sandbox.mobiniti.unsubscribe_contact(JANE),
    "inbound_message": lambda sandbox: sandbox.mobiniti.add_inbound(LEE, "hi"),
    "delivery_report": lambda sandbox: sandbox.mobiniti.send_message(LEE, "hello"),
    "contact_status": lambda sandbox: sandbox.mobiniti.set_contact_status(
        JANE, "deactivated"
    ),
    "bounce": lambda sandbox: sandbox.mobiniti.add_bounce(MARIA),
    "rejection": lambda sandbox: sandbox.mobiniti.add_rejection("x"),
}


async def webhook_url(hass_client_no_auth: ClientSessionGenerator, kind: str) -> str:
    """The entry's URL for a kind on the test HTTP server (real HTTP)."""
    client = await hass_client_no_auth()
    return str(client.make_url(f"{WEBHOOK}?kind={kind}"))


async def deliver(
    sandbox: Sandbox, hass: HomeAssistant, url: str, kind: str, **overrides: Any
) -> int | None:
    """Let the sandbox post the latest event of a kind; the status it got."""
    delivery = await sandbox.mobiniti.deliver_webhook(url, kind, **overrides)
    await hass.async_block_till_done()
    return delivery.status


def entity_state(hass: HomeAssistant, entry: MockConfigEntry, key: str) -> Any:
    """State of an account-level Mobiniti entity."""
    platform = "sensor" if key == "unsubscribes_today" else "event"
    return state_of(hass, platform, f"mobiniti_{entry.entry_id}_{key}")


def event_entity_id(hass: HomeAssistant, entry: MockConfigEntry, kind: str) -> str:
    """The registry's entity id of a kind's event entity."""
    entity_id = er.async_get(hass).async_get_entity_id(
        "event", DOMAIN, f"mobiniti_{entry.entry_id}_{kind}"
    )
    assert entity_id, f"no event entity for {kind}"
    return entity_id


async def enable_events(
    hass: HomeAssistant, entry: MockConfigEntry, *kinds: str
) -> None:
    """Enable the event entities of these kinds (as a user would) and reload."""
    registry = er.async_get(hass)
    for kind in kinds:
        registry.async_update_entity(
            event_entity_id(hass, entry, kind), disabled_by=None
        )
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()


async def test_unsubscribe_fires_once_with_the_contract_data(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    sandbox: Sandbox,
    setup_mobiniti: SetupEntry,
) -> None:
    """The unsubscribe webhook: bus event, event entity, today's count."""
    entry = await setup_mobiniti()
    events = async_capture_events(hass, "commhub_unsubscribe")
    payload = sandbox.mobiniti.unsubscribe_contact(JANE)
    url = await webhook_url(hass_client_no_auth, "unsubscribe")
    assert await deliver(sandbox, hass, url, "unsubscribe") == 200
    assert len(events) == 1
    assert events[0].data == {
        "config_entry_id": entry.entry_id,
        "service": "mobiniti",
        "contact_id": payload["id"],
        "phone_number": JANE,
        "to": "64600",
        "unsubscribed_at": datetime.fromisoformat(
            payload["unsubscribed_at"].replace("Z", "+00:00")
        ).isoformat(),
        "first_name": payload["first_name"],
        "last_name": payload["last_name"],
        "email": payload["email"],
    }
    state = entity_state(hass, entry, "unsubscribe")
    assert state.attributes["event_type"] == "unsubscribe"
    assert state.attributes["phone_number"] == JANE
    assert entity_state(hass, entry, "unsubscribes_today").state == "1"


@pytest.mark.parametrize(
    ("kind", "make", "expected"),
    [
        (
            "inbound_message",
            lambda sb: sb.mobiniti.add_inbound(LEE, "Do you have size 9?"),
            {"phone_number": LEE, "message": "Do you have size 9?", "catch_up": False},
        ),
        (
            "contact_status",
            lambda sb: sb.mobiniti.set_contact_status(JANE, "suspended"),
            {
                "phone_number": JANE,
                "status": "suspended",
                "previous_phone_number": None,
            },
        ),
        (
            "bounce",
            lambda sb: sb.mobiniti.add_bounce(MARIA),
            {"phone_number": MARIA, "bounces": 3},
        ),
        (
            "rejection",
            lambda sb: sb.mobiniti.add_rejection("Sale today!"),
            {"code": "", "message": "Sale today!", "description": "Unsubscribed"},
        ),
    ],
)
async def test_each_kind_is_its_event(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    sandbox: Sandbox,
    setup_mobiniti: SetupEntry,
    kind: str,
    make: Any,
    expected: dict[str, Any],
) -> None:
    """Each webhook kind fires its bus event and triggers its event entity."""
    entry = await setup_mobiniti()
    if kind in NOISY_KINDS:
        await enable_events(hass, entry, kind)
    events = async_capture_events(hass, f"commhub_{kind}")
    make(sandbox)
    url = await webhook_url(hass_client_no_auth, kind)
    assert await deliver(sandbox, hass, url, kind) == 200
    assert len(events) == 1
    data = events[0].data
    assert data["config_entry_id"] == entry.entry_id
    assert data["service"] == "mobiniti"
    assert {key: data[key] for key in expected} == expected
    state = entity_state(hass, entry, kind)
    expected_type = expected.get("status", kind) if kind == "contact_status" else kind
    assert state.attributes["event_type"] == expected_type
    # The entity's change is the bus event's doing (the logbook links them).
    assert state.context.id == events[0].context.id
    assert entity_state(hass, entry, "unsubscribes_today").state == "0"


async def test_event_entities_change_only_with_an_event(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    sandbox: Sandbox,
    setup_mobiniti: SetupEntry,
) -> None:
    """An unsubscribe updates the count; the inbound message entity is left alone."""
    entry = await setup_mobiniti()
    MAKERS["inbound_message"](sandbox)
    url = await webhook_url(hass_client_no_auth, "inbound_message")
    assert await deliver(sandbox, hass, url, "inbound_message") == 200
    # The registry's State is updated in place: keep the time, not the object.
    reported = entity_state(hass, entry, "inbound_message").last_reported
    MAKERS["unsubscribe"](sandbox)
    url = await webhook_url(hass_client_no_auth, "unsubscribe")
    assert await deliver(sandbox, hass, url, "unsubscribe") == 200
    await entry.runtime_data.async_refresh()
    await hass.async_block_till_done()
    assert entity_state(hass, entry, "unsubscribes_today").state == "1"
    assert entity_state(hass, entry, "inbound_message").last_reported == reported


async def test_noisy_kinds_are_disabled_by_default_and_still_fire(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    sandbox: Sandbox,
    setup_mobiniti: SetupEntry,
) -> None:
    """Reports, statuses, bounces, rejections: no entity unless enabled; events."""
    entry = await setup_mobiniti()
    registry = er.async_get(hass)
    for kind in WEBHOOK_KINDS:
        registered = registry.async_get(event_entity_id(hass, entry, kind))
        assert registered is not None
        if kind in NOISY_KINDS:
            assert registered.disabled_by is er.RegistryEntryDisabler.INTEGRATION, kind
            assert hass.states.get(registered.entity_id) is None, kind
        else:
            assert registered.disabled_by is None, kind
            assert hass.states.get(registered.entity_id) is not None, kind
    assert {kind for kind in WEBHOOK_KINDS if kind not in NOISY_KINDS} == {
        "unsubscribe",
        "inbound_message",
    }
    makers = {
        "delivery_report": lambda: sandbox.mobiniti.send_message(LEE, "hello"),
        "contact_status": lambda: sandbox.mobiniti.set_contact_status(
            JANE, "suspended"
        ),
        "bounce": lambda: sandbox.mobiniti.add_bounce(MARIA),
        "rejection": lambda: sandbox.mobiniti.add_rejection("Sale today!"),
    }
    for kind, make in makers.items():
        events = async_capture_events(hass, f"commhub_{kind}")
        make()
        url = await webhook_url(hass_client_no_auth, kind)
        assert await deliver(sandbox, hass, url, kind) == 200, kind
        assert len(events) == 1, kind
        assert events[0].data["config_entry_id"] == entry.entry_id
        assert hass.states.get(event_entity_id(hass, entry, kind)) is None, kind


async def test_delivery_report_carries_statuses_and_messages(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    sandbox: Sandbox,
    setup_mobiniti: SetupEntry,
) -> None:
    """A delivery report: total_messages, statuses and messages as posted."""
    entry = await setup_mobiniti()
    events = async_capture_events(hass, "commhub_delivery_report")
    sandbox.mobiniti.send_batch([JANE, LEE], "Doors open at 9")
    payload = sandbox.mobiniti.webhook_payload("delivery_report")
    url = await webhook_url(hass_client_no_auth, "delivery_report")
    assert await deliver(sandbox, hass, url, "delivery_report") == 200
    assert events[0].data == {
        "config_entry_id": entry.entry_id,
        "service": "mobiniti",
        "total_messages": payload["total_messages"],
        "statuses": payload["statuses"],
        "messages": payload["messages"],
    }


async def test_the_same_delivery_twice_fires_once_also_after_reload(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    sandbox: Sandbox,
    setup_mobiniti: SetupEntry,
) -> None:
    """Mobiniti retries and networks duplicate: recognised by content."""
    entry = await setup_mobiniti()
    sandbox.mobiniti.unsubscribe_contact(JANE)
    sandbox.mobiniti.add_rejection("Hello")
    unsubscribes = async_capture_events(hass, "commhub_unsubscribe")
    rejections = async_capture_events(hass, "commhub_rejection")
    for kind in ("unsubscribe", "rejection"):
        url = await webhook_url(hass_client_no_auth, kind)
        assert await deliver(sandbox, hass, url, kind) == 200
        assert await deliver(sandbox, hass, url, kind) == 200
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    for kind in ("unsubscribe", "rejection"):
        url = await webhook_url(hass_client_no_auth, kind)
        assert await deliver(sandbox, hass, url, kind) == 200
    assert (len(unsubscribes), len(rejections)) == (1, 1)
    assert entity_state(hass, entry, "unsubscribes_today").state == "1"
    # Another rejection with other content is another event.
    sandbox.mobiniti.add_rejection("Hello again")
    url = await webhook_url(hass_client_no_auth, "rejection")
    assert await deliver(sandbox, hass, url, "rejection") == 200
    assert len(rejections) == 2


async def test_kind_is_recognised_by_shape_without_the_query(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    sandbox: Sandbox,
    setup_mobiniti: SetupEntry,
) -> None:
    """One URL for every kind still works: the payload's shape decides."""
    await setup_mobiniti()
    client = await hass_client_no_auth()
    url = str(client.make_url(WEBHOOK))
    for kind, make in MAKERS.items():
        events = async_capture_events(hass, f"commhub_{kind}")
        make(sandbox)
        assert await deliver(sandbox, hass, url, kind) == 200, kind
        assert len(events) == 1, kind


@pytest.mark.parametrize(
    ("kind", "payload"),
    [
        ("unsubscribe", {"id": "c1", "phone_number": "+1", "unsubscribed_at": "never"}),
        ("unsubscribe", {"phone_number": "+12025550101", "unsubscribed_at": None}),
        ("inbound_message", {"id": "c1", "phone_number": "+1", "message": "x"}),
        ("delivery_report", {"total_messages": "one", "statuses": [], "messages": []}),
        ("contact_status", {"id": "c1", "phone_number": "+1", "status": "sleeping"}),
        ("bounce", {"id": "c1", "phone_number": "+1", "bounces": -1}),
        ("rejection", {"code": "", "message": 5, "description": "x"}),
        (None, {"something": "else"}),
    ],
)
async def test_invalid_payload_is_400_fires_nothing_and_warns_once(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    setup_mobiniti: SetupEntry,
    caplog: pytest.LogCaptureFixture,
    kind: str | None,
    payload: dict[str, Any],
) -> None:
    """Refused with 400, nothing fired, one warning without personal data."""
    await setup_mobiniti()
    fired = [async_capture_events(hass, f"commhub_{kind}") for kind in WEBHOOK_KINDS]
    client = await hass_client_no_auth()
    url = WEBHOOK if kind is None else f"{WEBHOOK}?kind={kind}"
    caplog.clear()
    for _ in range(2):
        response = await client.post(url, json=payload)
        assert response.status == 400
    await hass.async_block_till_done()
    assert not any(fired)
    warnings = [
        r
        for r in caplog.records
        if r.levelno == logging.WARNING and r.name.startswith("custom_components")
    ]
    assert len(warnings) == 1
    assert "+1" not in warnings[0].getMessage()


def _without(key: str) -> Any:
    return lambda payload: payload.pop(key)


def _set(path: tuple[str | int, ...], value: Any) -> Any:
    def change(payload: dict[str, Any]) -> None:
        target: Any = payload
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value

    return change


@pytest.mark.parametrize(
    ("kind", "change", "field"),
    [
        ("unsubscribe", _without("phone_number"), "phone_number"),
        ("unsubscribe", _without("unsubscribed_at"), "unsubscribed_at"),
        ("inbound_message", _without("received_at"), "received_at"),
        ("inbound_message", _set(("updated_at",), "yesterday"), "updated_at"),
        ("delivery_report", _set(("total_messages",), True), "total_messages"),
        ("delivery_report", _set(("statuses", 0), "delivered"), "statuses.0"),
        ("delivery_report", _set(("statuses", 0, "code"), None), "statuses.0.code"),
        (
            "delivery_report",
            _set(("statuses", 0, "recipients"), [12025550101]),
            "statuses.0.recipients",
        ),
        ("delivery_report", _set(("messages",), ["hello"]), "messages.0"),
        ("contact_status", _set(("phone_number",), None), "phone_number"),
        ("bounce", _set(("bounces",), True), "bounces"),
        ("rejection", _set(("code",), False), "code"),
    ],
)
async def test_a_refusal_names_the_field_at_fault(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    sandbox: Sandbox,
    setup_mobiniti: SetupEntry,
    kind: str,
    change: Any,
    field: str,
) -> None:
    """A documented delivery with one field wrong: 400 naming it, nothing fired."""
    await setup_mobiniti()
    MAKERS[kind](sandbox)
    payload = sandbox.mobiniti.webhook_payload(kind)
    events = async_capture_events(hass, f"commhub_{kind}")
    client = await hass_client_no_auth()
    assert (await client.post(f"{WEBHOOK}?kind={kind}", json=payload)).status == 200
    change(payload)
    response = await client.post(f"{WEBHOOK}?kind={kind}", json=payload)
    await hass.async_block_till_done()
    assert response.status == 400
    assert await response.text() == f"the {field!r} field is invalid"
    assert len(events) == 1


async def test_only_post_is_accepted(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    setup_mobiniti: SetupEntry,
) -> None:
    """GET and PUT are refused by the webhook itself."""
    await setup_mobiniti()
    client = await hass_client_no_auth()
    assert (await client.get(f"{WEBHOOK}?kind=unsubscribe")).status == 405
    assert (await client.put(f"{WEBHOOK}?kind=unsubscribe", json={})).status == 405


async def test_unsubscribes_today_resets_at_midnight_and_survives_restart(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    sandbox: Sandbox,
    setup_mobiniti: SetupEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Counted by local receipt day; kept across a reload; zero after midnight."""
    now = dt_util.now()
    freezer.move_to(now.replace(hour=22, minute=0, second=0))
    entry = await setup_mobiniti()
    url = await webhook_url(hass_client_no_auth, "unsubscribe")
    for number in (JANE, LEE):
        sandbox.mobiniti.unsubscribe_contact(number)
        assert await deliver(sandbox, hass, url, "unsubscribe") == 200
    assert entity_state(hass, entry, "unsubscribes_today").state == "2"
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entity_state(hass, entry, "unsubscribes_today").state == "2"
    freezer.tick(timedelta(hours=2, minutes=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert entity_state(hass, entry, "unsubscribes_today").state == "0"


async def test_a_failed_save_answers_500_and_the_retry_fires(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    sandbox: Sandbox,
    setup_mobiniti: SetupEntry,
) -> None:
    """If the keys cannot be stored, Mobiniti is told to send again; once fired."""
    entry = await setup_mobiniti()
    events = async_capture_events(hass, "commhub_unsubscribe")
    sandbox.mobiniti.unsubscribe_contact(JANE)
    url = await webhook_url(hass_client_no_auth, "unsubscribe")
    journal = entry.runtime_data.ledger._journal
    with patch.object(journal, "append", side_effect=OSError("disk full")):
        assert await deliver(sandbox, hass, url, "unsubscribe") == 500
    assert events == []
    assert entity_state(hass, entry, "unsubscribes_today").state == "0"
    assert await deliver(sandbox, hass, url, "unsubscribe") == 200
    assert len(events) == 1
    assert entity_state(hass, entry, "unsubscribes_today").state == "1"


async def test_diagnostics_hide_tokens_webhook_and_people(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    hass_client_no_auth: ClientSessionGenerator,
    sandbox: Sandbox,
    setup_mobiniti: SetupEntry,
) -> None:
    """No token, webhook id or phone numbers; how events arrive and counts."""
    hass.config.external_url = "https://ha.example.com"
    assert await async_setup_component(hass, "diagnostics", {})
    entry = await setup_mobiniti()
    sandbox.mobiniti.unsubscribe_contact(JANE)
    url = await webhook_url(hass_client_no_auth, "unsubscribe")
    assert await deliver(sandbox, hass, url, "unsubscribe") == 200
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    text = json.dumps(diagnostics)
    for secret in (MOBINITI_TOKEN, MOBINITI_WEBHOOK_ID, JANE):
        assert secret not in text
    assert diagnostics["auth"] == "token"
    assert diagnostics["polling"] is False
    assert diagnostics["unsubscribes_today"] == 1
    assert diagnostics["history"]["remembered"] == 1
    assert diagnostics["webhook_urls"]["bounce"] == (
        "https://ha.example.com/api/webhook/**REDACTED**?kind=bounce"
    )


async def test_a_burst_of_deliveries_shares_writes(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    setup_mobiniti: SetupEntry,
) -> None:
    """20 deliveries at once: each answered after its key is on disk, few writes."""
    entry = await setup_mobiniti()
    events = async_capture_events(hass, "commhub_rejection")
    journal = entry.runtime_data.ledger._journal
    real_append = journal.append
    written: list[int] = []

    def slow_append(line: bytes) -> None:
        time.sleep(0.02)
        real_append(line)
        written.append(len(json.loads(line).get("keys", {})))

    client = await hass_client_no_auth()
    with patch.object(journal, "append", side_effect=slow_append):
        responses = await asyncio.gather(
            *(
                client.post(
                    f"{WEBHOOK}?kind=rejection",
                    json={"code": "", "message": f"#{i}", "description": "x"},
                )
                for i in range(20)
            )
        )
    assert [r.status for r in responses] == [200] * 20
    assert len(events) == 20
    assert 1 <= len(written) < 10
    assert sum(written) == 20


async def test_a_failed_shared_write_fails_every_delivery_in_it(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    setup_mobiniti: SetupEntry,
) -> None:
    """No delivery is confirmed or fired unless the write that carries it worked."""
    entry = await setup_mobiniti()
    events = async_capture_events(hass, "commhub_rejection")
    journal = entry.runtime_data.ledger._journal

    def failing_append(line: bytes) -> None:
        time.sleep(0.02)
        raise OSError("disk full")

    client = await hass_client_no_auth()
    payloads = [{"code": "", "message": f"#{i}", "description": "x"} for i in range(5)]
    with patch.object(journal, "append", side_effect=failing_append):
        responses = await asyncio.gather(
            *(client.post(f"{WEBHOOK}?kind=rejection", json=p) for p in payloads)
        )
    assert [r.status for r in responses] == [500] * 5
    assert events == []
    for payload in payloads:  # Mobiniti's retries
        assert (
            await client.post(f"{WEBHOOK}?kind=rejection", json=payload)
        ).status == 200
    assert len(events) == 5
