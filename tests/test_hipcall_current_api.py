"""A Hipcall entry on the current API (v3): presence, missed calls, push, actions.

The sandbox serves the current API beside the 2021 one over the same account;
calls ring live (`ring_call`), and are answered or missed (`hangup_call`), with
`call_init` and `call_hangup` posted to the entry's webhook when one is set.
"""

from datetime import datetime, timedelta
import json
import logging
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import Event, HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_capture_events
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from sandbox import Sandbox

from .conftest import HIPCALL_OWNER, HIPCALL_WEBHOOK_ID, SetupEntry
from .helpers import call, next_poll, state_of

START = datetime(2026, 11, 23, 9, 0, 0, tzinfo=dt_util.UTC)
MISSED = "commhub_missed_call"
INCOMING = "commhub_incoming_call"
CALLER = "+905551112233"


@pytest.fixture(autouse=True)
def frozen_start(freezer: FrozenDateTimeFactory) -> None:
    """Every test starts at the same moment."""
    freezer.move_to(START)


def user_status(hass: HomeAssistant, user_id: int | str) -> str:
    """The state of a Hipcall user's status sensor."""
    unique_id = f"hipcall_user_{HIPCALL_OWNER}_{user_id}_user_status"
    return state_of(hass, "sensor", unique_id).state


def account(hass: HomeAssistant, platform: str, key: str) -> str:
    """The state of an account-level Hipcall entity."""
    return state_of(hass, platform, f"hipcall_{HIPCALL_OWNER}_{key}").state


def call_paths(sandbox: Sandbox) -> list[str]:
    """The current API's call paths requested so far."""
    return [
        r.path.removeprefix("/api/v3")
        for r in sandbox.hipcall.requests
        if r.path.startswith("/api/v3/calls")
    ]


def miss_a_call(sandbox: Sandbox, **hangup: Any) -> str:
    """An inbound call rings user 2 for 20 s, then is missed; its uuid."""
    ringing = sandbox.hipcall.ring_call(user_id=2, caller_number=CALLER)
    sandbox.hipcall.hangup_call(ringing["uuid"], **hangup)
    return str(ringing["uuid"])


async def push_to(
    hass: HomeAssistant, sandbox: Sandbox, hass_client_no_auth: ClientSessionGenerator
) -> None:
    """Point the sandbox's webhook at the entry's URL (as the user does in Hipcall)."""
    client = await hass_client_no_auth()
    url = client.make_url(f"/api/webhook/{HIPCALL_WEBHOOK_ID}?kind=call")
    sandbox.hipcall.webhooks.configure(url=str(url))


async def pushed(hass: HomeAssistant, sandbox: Sandbox) -> list[int | None]:
    """Wait for the sandbox's posts; their answers."""
    await sandbox.hipcall.webhooks.wait()
    await hass.async_block_till_done()
    return [d.status for d in sandbox.hipcall.webhooks.deliveries]


# Presence ------------------------------------------------------------------------


async def test_presence_is_an_enum_that_follows_the_users(
    hass: HomeAssistant,
    sandbox: Sandbox,
    setup_hipcall_v3: SetupEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Each poll reads the users: a break taken shows at the next poll."""
    await setup_hipcall_v3()
    state = state_of(hass, "sensor", f"hipcall_user_{HIPCALL_OWNER}_2_user_status")
    assert state.attributes["device_class"] == "enum"
    assert state.attributes["options"] == [
        "available",
        "away",
        "break",
        "busy",
        "unknown",
    ]
    sandbox.hipcall.set_user_state(2, "break")
    await next_poll(hass, freezer, 31)
    assert user_status(hass, 2) == "break"


async def test_the_owner_sets_presence_with_the_select(
    hass: HomeAssistant, sandbox: Sandbox, setup_hipcall_v3: SetupEntry
) -> None:
    """Selecting sends PATCH /users/{id}; the sensor shows it at once."""
    await setup_hipcall_v3()
    select = state_of(
        hass, "select", f"hipcall_user_{HIPCALL_OWNER}_12_user_status_select"
    )
    assert select.attributes["options"] == ["available", "away", "break", "busy"]
    await hass.services.async_call(
        "select",
        "select_option",
        {"entity_id": select.entity_id, "option": "away"},
        blocking=True,
    )
    assert sandbox.hipcall.user_view(int(HIPCALL_OWNER))["state"] == "away"
    patch = [r for r in sandbox.hipcall.requests if r.method == "PATCH"]
    assert [(r.path, json.loads(r.body)) for r in patch] == [
        (f"/api/v3/users/{HIPCALL_OWNER}", {"state": "away"})
    ]
    assert user_status(hass, HIPCALL_OWNER) == "away"
    assert hass.states.get(select.entity_id).state == "away"


async def test_an_entry_on_the_2021_api_has_no_presence_select(
    hass: HomeAssistant, setup_hipcall: SetupEntry
) -> None:
    """The 2021 API has no presence: its status sensor is the API's `status`."""
    await setup_hipcall()
    assert hass.states.async_entity_ids("select") == []
    assert user_status(hass, 2) == "active"


# Missed calls by polling -----------------------------------------------------------


async def test_a_missed_call_is_polled_with_its_details(
    hass: HomeAssistant,
    sandbox: Sandbox,
    setup_hipcall_v3: SetupEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The filtered list finds it, its detail names caller, user and reason."""
    entry = await setup_hipcall_v3()
    events = async_capture_events(hass, MISSED)
    freezer.tick(timedelta(seconds=20))
    uuid = miss_a_call(sandbox, reason="callback", voicemail=True)
    sandbox.hipcall.requests.clear()
    await next_poll(hass, freezer, 31)

    [event] = events
    assert event.data | {"started_at": None, "ended_at": None} == {
        "config_entry_id": entry.entry_id,
        "service": "hipcall",
        "uuid": uuid,
        "started_at": None,
        "ended_at": None,
        "caller_number": CALLER,
        "callee_number": event.data["callee_number"],
        "user_id": 2,
        "reason": "callback",
        "direction": "inbound",
        "call_duration": event.data["call_duration"],
        "has_voicemail": True,
        "catch_up": False,
    }
    assert "record_url" not in event.data
    assert "voicemail_url" not in event.data
    assert account(hass, "sensor", "missed_calls_today") == "1"
    assert account(hass, "event", "missed_call") != "unknown"
    # The server filters and sorts; the new call's detail is read once.
    listing, detail = sandbox.hipcall.requests[1:3]
    assert listing.path == "/api/v3/calls"
    assert listing.query["missing_call[eq]"] == "true"
    assert listing.query["sort"] == "started_at.desc"
    assert listing.query["started_at[gte]"] == dt_util.start_of_local_day(
        dt_util.as_local(START)
    ).astimezone(dt_util.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert detail.path == f"/api/v3/calls/{uuid}"
    assert detail.query["date"] == START.strftime("%Y-%m-%d")

    # A quiet poll is one request for the calls; nothing fires again.
    sandbox.hipcall.requests.clear()
    await next_poll(hass, freezer, 31)
    assert call_paths(sandbox) == ["/calls"]
    assert len(events) == 1


async def test_history_at_setup_is_counted_not_fired(
    hass: HomeAssistant,
    sandbox: Sandbox,
    setup_hipcall_v3: SetupEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Missed calls of today before setup count; no event is fired for them."""
    events = async_capture_events(hass, MISSED)
    for minutes in (50, 40):
        sandbox.hipcall.add_call(
            started_at=START - timedelta(minutes=minutes),
            duration=20,
            missing_call=True,
            missing_call_reason="abandoned",
        )
    await setup_hipcall_v3()
    assert account(hass, "sensor", "missed_calls_today") == "2"
    await next_poll(hass, freezer, 31)
    await next_poll(hass, freezer, 31)
    assert events == []
    assert account(hass, "sensor", "missed_calls_today") == "2"


# Push ---------------------------------------------------------------------------------


async def test_a_pushed_missed_call_fires_at_once_and_never_again(
    hass: HomeAssistant,
    sandbox: Sandbox,
    setup_hipcall_v3: SetupEntry,
    freezer: FrozenDateTimeFactory,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    """call_hangup of a missed call fires before any poll; polling, restart: no more."""
    entry = await setup_hipcall_v3()
    await push_to(hass, sandbox, hass_client_no_auth)
    events = async_capture_events(hass, MISSED)
    uuid = miss_a_call(sandbox, reason="abandoned")
    assert await pushed(hass, sandbox) == [200, 200]  # call_init, call_hangup

    assert [e.data["uuid"] for e in events] == [uuid]
    assert events[0].data["catch_up"] is False
    assert events[0].data["caller_number"] == CALLER
    assert account(hass, "sensor", "missed_calls_today") == "1"

    await next_poll(hass, freezer, 31)
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    await next_poll(hass, freezer, 31)
    assert [e.data["uuid"] for e in events] == [uuid]
    assert account(hass, "sensor", "missed_calls_today") == "1"


async def test_an_inbound_call_that_rings_fires_incoming_call(
    hass: HomeAssistant,
    sandbox: Sandbox,
    setup_hipcall_v3: SetupEntry,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    """call_init of an inbound call: commhub_incoming_call and the event entity."""
    entry = await setup_hipcall_v3()
    await push_to(hass, sandbox, hass_client_no_auth)
    events = async_capture_events(hass, INCOMING)
    ringing = sandbox.hipcall.ring_call(user_id=2, caller_number=CALLER)
    assert await pushed(hass, sandbox) == [200]

    [event] = events
    assert event.data == {
        "config_entry_id": entry.entry_id,
        "service": "hipcall",
        "uuid": ringing["uuid"],
        "started_at": dt_util.parse_datetime(ringing["started_at"]).isoformat(),
        "caller_number": CALLER,
        "callee_number": ringing["callee_number"],
        "user_id": 2,
        "direction": "inbound",
    }
    entity = state_of(hass, "event", f"hipcall_{HIPCALL_OWNER}_incoming_call")
    assert entity.attributes["event_type"] == "ringing"
    assert entity.attributes["caller_number"] == CALLER


async def test_an_outbound_ringing_call_is_not_an_incoming_call(
    hass: HomeAssistant,
    sandbox: Sandbox,
    setup_hipcall_v3: SetupEntry,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    """Only inbound calls ring as incoming."""
    await setup_hipcall_v3()
    await push_to(hass, sandbox, hass_client_no_auth)
    events = async_capture_events(hass, INCOMING)
    sandbox.hipcall.ring_call(direction="outbound", user_id=2, callee_number=CALLER)
    assert await pushed(hass, sandbox) == [200]
    assert events == []


@pytest.mark.parametrize(
    "payload",
    [
        {"event": "call_hangup", "data": {"uuid": 5}},
        {"event": "call_hangup", "data": "nope"},
        {"event": "call_hangup"},
        {"event": "contact_created", "data": {}},
        {"data": {}},
    ],
    ids=["uuid not text", "data not an object", "no data", "other event", "no event"],
)
async def test_a_delivery_that_does_not_validate_is_refused(
    hass: HomeAssistant,
    setup_hipcall_v3: SetupEntry,
    hass_client_no_auth: ClientSessionGenerator,
    caplog: pytest.LogCaptureFixture,
    payload: dict[str, Any],
) -> None:
    """400, nothing fired, one warning without the payload's content."""
    await setup_hipcall_v3()
    events: list[Event] = async_capture_events(hass, MISSED)
    client = await hass_client_no_auth()
    with caplog.at_level(logging.WARNING):
        response = await client.post(f"/api/webhook/{HIPCALL_WEBHOOK_ID}", json=payload)
    assert response.status == 400
    assert events == []
    warnings = [r for r in caplog.records if "refused a webhook delivery" in r.message]
    assert len(warnings) == 1


# Actions ------------------------------------------------------------------------------


async def test_click_to_call_rings_the_user(
    hass: HomeAssistant, sandbox: Sandbox, setup_hipcall_v3: SetupEntry
) -> None:
    """commhub.call → POST /users/{id}/call; the call's id comes back."""
    entry = await setup_hipcall_v3()
    response = await call(hass, "call", entry, user_id=2, number=CALLER)
    assert response["id"]
    [request] = [r for r in sandbox.hipcall.requests if r.method == "POST"]
    assert request.path == "/api/v3/users/2/call"
    assert json.loads(request.body) == {
        "callee_number": CALLER,
        "ring_user_first": True,
    }


async def test_click_to_call_needs_the_current_api(
    hass: HomeAssistant, sandbox: Sandbox, setup_hipcall: SetupEntry
) -> None:
    """A 2021 entry: a translated validation error, nothing sent."""
    entry = await setup_hipcall()
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "call", entry, user_id=2, number=CALLER)
    assert err.value.translation_key == "needs_current_api"
    assert [r for r in sandbox.hipcall.requests if r.method == "POST"] == []


async def test_get_call_answers_the_links_without_keeping_them(
    hass: HomeAssistant,
    sandbox: Sandbox,
    setup_hipcall_v3: SetupEntry,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The detail with its voicemail link; the link is in no log and no state."""
    entry = await setup_hipcall_v3()
    uuid = miss_a_call(sandbox, voicemail=True)
    freezer.tick(timedelta(seconds=5))
    details = await call(hass, "get_call", entry, uuid=uuid, started_at=START)
    assert details["uuid"] == uuid
    link = details["voicemail_url"]
    assert isinstance(link, str)
    assert link.startswith("http")
    assert link not in caplog.text
    assert all(link not in str(s.attributes) for s in hass.states.async_all())


async def test_tasks_and_comments_in_the_current_form(
    hass: HomeAssistant, sandbox: Sandbox, setup_hipcall_v3: SetupEntry
) -> None:
    """create_task: assign_to_user_id and an ISO due date; comments by path."""
    entry = await setup_hipcall_v3()
    due = dt_util.as_local(START + timedelta(days=1))
    await call(
        hass,
        "create_task",
        entry,
        name="Call back",
        assign_to=2,
        due_date=due.isoformat(),
    )
    await call(
        hass,
        "add_comment",
        entry,
        commentable_type="deal",
        commentable_id=1,
        content="Called back",
    )
    posts = [
        (r.path, json.loads(r.body))
        for r in sandbox.hipcall.requests
        if r.method == "POST"
    ]
    assert posts[0] == (
        "/api/v3/tasks",
        {
            "name": "Call back",
            "assign_to_user_id": 2,
            "due_date": (START + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
    )
    assert posts[1] == ("/api/v3/deals/1/comments", {"content": "Called back"})


async def test_extensions_are_read_again_every_five_minutes(
    hass: HomeAssistant,
    sandbox: Sandbox,
    setup_hipcall_v3: SetupEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Users every poll (presence), extensions every 5 minutes, not only at setup."""
    await setup_hipcall_v3()
    sandbox.hipcall.requests.clear()
    for _ in range(11):  # 5.5 minutes of polls
        await next_poll(hass, freezer, 30)
    paths = [r.path.removeprefix("/api/v3") for r in sandbox.hipcall.requests]
    assert paths.count("/users") == 11
    assert paths.count("/extensions") == 1


async def test_get_call_on_the_2021_api_reads_the_cdr(
    hass: HomeAssistant,
    sandbox: Sandbox,
    setup_hipcall: SetupEntry,
) -> None:
    """The 2021 API finds a call at /cdrs/{y}/{m}/{d}/{uuid} (its start's UTC day)."""
    entry = await setup_hipcall()
    record = sandbox.hipcall.add_call(
        started_at=START - timedelta(minutes=5),
        duration=20,
        missing_call=True,
        missing_call_reason=3,
        caller_number=CALLER,
    )
    sandbox.hipcall.requests.clear()
    details = await call(
        hass,
        "get_call",
        entry,
        uuid=record["uuid"],
        started_at=START.date().isoformat(),
    )
    assert details["uuid"] == record["uuid"]
    assert details["caller_number"] == CALLER
    [request] = sandbox.hipcall.requests
    assert request.path == f"/api/v20211124/cdrs/{START:%Y/%m/%d}/{record['uuid']}"
