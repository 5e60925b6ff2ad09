"""Hipcall missed calls: every one reported exactly once, also across restarts."""

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import Event, HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)

from custom_components.commhub.api.hipcall import HipcallClient
from sandbox import Fault, Sandbox

from .conftest import HIPCALL_OWNER, SetupEntry, ledger_files
from .helpers import next_poll, state_of

EVENT = "commhub_missed_call"
START = datetime(2026, 11, 23, 9, 0, 0, tzinfo=dt_util.UTC)

type AddCall = Callable[..., dict[str, Any]]


@pytest.fixture(autouse=True)
def frozen_start(freezer: FrozenDateTimeFactory) -> None:
    """Every test starts at the same moment."""
    freezer.move_to(START)


@pytest.fixture
def add_call(sandbox: Sandbox) -> AddCall:
    """Add a call that rang 20 s and ends `end_in` seconds from now (or before)."""

    def add(
        end_in: float = 10, *, missed: bool = True, **fields: Any
    ) -> dict[str, Any]:
        ended = dt_util.utcnow() + timedelta(seconds=end_in)
        fields.setdefault("missing_call_reason", 3 if missed else 0)
        return sandbox.hipcall.add_call(
            started_at=ended - timedelta(seconds=20),
            ended_at=ended,
            missing_call=missed,
            **fields,
        )

    return add


def account_state(hass: HomeAssistant, platform: str, key: str) -> Any:
    """State of an account-level Hipcall entity."""
    return state_of(hass, platform, f"hipcall_{HIPCALL_OWNER}_{key}")


def uuids(events: list[Event]) -> list[str]:
    """The calls the events were fired for, in firing order."""
    return [event.data["uuid"] for event in events]


def hipcall_paths(sandbox: Sandbox) -> list[str]:
    """The API paths requested so far (without the version prefix)."""
    return [r.path.removeprefix("/api/v20211124") for r in sandbox.hipcall.requests]


async def reload(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Unload and set up the entry again, as a restart does."""
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()


async def test_first_setup_takes_the_history_as_baseline(
    hass: HomeAssistant, setup_hipcall: SetupEntry, add_call: AddCall
) -> None:
    """Calls that happened before the entry existed are never reported."""
    add_call(-120)  # a missed call two minutes before setup
    events = async_capture_events(hass, EVENT)
    entry = await setup_hipcall()
    assert entry.state is ConfigEntryState.LOADED
    assert events == []
    assert account_state(hass, "sensor", "missed_calls_today").state == "0"
    last = account_state(hass, "sensor", "last_missed_call")
    assert dt_util.parse_datetime(last.state) == START - timedelta(seconds=140)
    assert account_state(hass, "event", "missed_call").state == "unknown"


async def test_a_new_missed_call_fires_once_with_the_contract_data(
    hass: HomeAssistant,
    setup_hipcall: SetupEntry,
    add_call: AddCall,
    freezer: FrozenDateTimeFactory,
) -> None:
    """One bus event, the event entity, the counters; nothing for answered calls."""
    entry = await setup_hipcall()
    events = async_capture_events(hass, EVENT)
    call = add_call(
        10,
        missing_call_reason=1,
        direction=1,
        user_id=2,
        caller_number="+905551112233",
        callee_number="101",
    )
    add_call(12, missed=False)
    await next_poll(hass, freezer, 31)
    assert len(events) == 1
    assert events[0].data == {
        "config_entry_id": entry.entry_id,
        "service": "hipcall",
        "uuid": call["uuid"],
        "started_at": (START - timedelta(seconds=10)).isoformat(),
        "ended_at": (START + timedelta(seconds=10)).isoformat(),
        "caller_number": "+905551112233",
        "callee_number": "101",
        "user_id": 2,
        "reason": "out_of_business_hours",
        "direction": "inbound",
        "call_duration": call["call_duration"],
        "has_voicemail": False,
        "catch_up": False,
    }
    event_entity = account_state(hass, "event", "missed_call")
    assert event_entity.attributes["event_type"] == "out_of_business_hours"
    assert event_entity.attributes["uuid"] == call["uuid"]
    assert event_entity.attributes["catch_up"] is False
    assert "config_entry_id" not in event_entity.attributes
    assert account_state(hass, "sensor", "missed_calls_today").state == "1"
    last = account_state(hass, "sensor", "last_missed_call").state
    assert dt_util.parse_datetime(last) == START - timedelta(seconds=10)

    await next_poll(hass, freezer, 31)
    await next_poll(hass, freezer, 31)
    assert len(events) == 1


@pytest.mark.parametrize(
    ("code", "event_type"),
    [
        (1, "out_of_business_hours"),
        (2, "short_abandoned"),
        (3, "abandoned"),
        (4, "callback"),
        (0, "unknown"),
        (9, "unknown"),
    ],
)
async def test_each_reason_is_its_event_type(
    hass: HomeAssistant,
    setup_hipcall: SetupEntry,
    add_call: AddCall,
    freezer: FrozenDateTimeFactory,
    sandbox: Sandbox,
    code: int,
    event_type: str,
) -> None:
    """missing_call_reason codes map to the contract's names."""
    await setup_hipcall()
    events = async_capture_events(hass, EVENT)
    call = add_call(missing_call_reason=min(code, 4))
    if code > 4:  # a code Hipcall may add later
        sandbox.hipcall.calls[-1]["missing_call_reason"] = code
    await next_poll(hass, freezer, 31)
    assert uuids(events) == [call["uuid"]]
    assert events[0].data["reason"] == event_type
    assert (
        account_state(hass, "event", "missed_call").attributes["event_type"]
        == event_type
    )


async def test_no_repeat_after_reload_and_catch_up_for_calls_meanwhile(
    hass: HomeAssistant,
    setup_hipcall: SetupEntry,
    add_call: AddCall,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A reload fires nothing twice; calls missed while unloaded come with catch_up."""
    entry = await setup_hipcall()
    events = async_capture_events(hass, EVENT)
    first = add_call()
    await next_poll(hass, freezer, 31)
    assert uuids(events) == [first["uuid"]]

    await reload(hass, entry)
    assert uuids(events) == [first["uuid"]]

    assert await hass.config_entries.async_unload(entry.entry_id)
    freezer.tick(timedelta(minutes=20))
    during = [add_call(-600), add_call(-300)]
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert uuids(events) == [first["uuid"], during[0]["uuid"], during[1]["uuid"]]
    assert [e.data["catch_up"] for e in events] == [False, True, True]
    assert account_state(hass, "sensor", "missed_calls_today").state == "3"

    after = add_call()
    await next_poll(hass, freezer, 31)
    assert uuids(events)[3:] == [after["uuid"]]
    assert events[3].data["catch_up"] is False


async def test_outage_then_recovery_reports_the_calls_of_the_outage_once(
    hass: HomeAssistant,
    setup_hipcall: SetupEntry,
    add_call: AddCall,
    freezer: FrozenDateTimeFactory,
    sandbox: Sandbox,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """5xx: unavailable and logged once; back up, the outage's calls fire once."""
    await setup_hipcall()
    events = async_capture_events(hass, EVENT)
    sandbox.hipcall.add_fault(Fault("error", status=503, count=None))
    await next_poll(hass, freezer, 31)
    assert (
        account_state(hass, "sensor", "missed_calls_today").state == STATE_UNAVAILABLE
    )
    during = add_call()
    await next_poll(hass, freezer, 31)
    await next_poll(hass, freezer, 31)
    assert caplog.text.count("Error fetching") == 1
    sandbox.hipcall.clear_faults()
    await next_poll(hass, freezer, 31)
    assert account_state(hass, "sensor", "missed_calls_today").state == "1"
    assert uuids(events) == [during["uuid"]]
    assert events[0].data["catch_up"] is True
    await next_poll(hass, freezer, 31)
    assert len(events) == 1


async def test_many_new_calls_are_read_across_pages_oldest_first(
    hass: HomeAssistant,
    setup_hipcall: SetupEntry,
    add_call: AddCall,
    freezer: FrozenDateTimeFactory,
    sandbox: Sandbox,
) -> None:
    """25 calls in one interval: three pages, each missed call once, in order."""
    await setup_hipcall()
    events = async_capture_events(hass, EVENT)
    calls = [add_call(1 + i, missed=i % 2 == 0) for i in range(25)]
    sandbox.hipcall.requests.clear()
    await next_poll(hass, freezer, 31)
    assert uuids(events) == [c["uuid"] for c in calls if c["missing_call"]]
    pages = [r.query.get("page") for r in sandbox.hipcall.requests if "cdrs" in r.path]
    # The fourth page holds only history: that is where reading stops.
    assert pages == ["1", "2", "3", "4"]


async def test_calls_arriving_while_paging_are_neither_missed_nor_repeated(
    hass: HomeAssistant,
    setup_hipcall: SetupEntry,
    add_call: AddCall,
    freezer: FrozenDateTimeFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """New calls push records from page 1 onto page 2 between two requests."""
    await setup_hipcall()
    events = async_capture_events(hass, EVENT)
    before = [add_call(1 + i) for i in range(12)]
    arriving: list[dict[str, Any]] = []
    read_page = HipcallClient.calls_page

    async def page_then_new_calls(client: HipcallClient, page: int) -> Any:
        result = await read_page(client, page)
        if page == 1 and not arriving:
            arriving.extend(add_call(-1 - i) for i in range(3))
        return result

    monkeypatch.setattr(HipcallClient, "calls_page", page_then_new_calls)
    await next_poll(hass, freezer, 31)
    assert uuids(events) == [c["uuid"] for c in before]
    await next_poll(hass, freezer, 31)
    assert uuids(events)[12:] == [c["uuid"] for c in reversed(arriving)]
    await next_poll(hass, freezer, 31)
    assert len(events) == 15


async def test_a_long_outage_is_caught_up_over_several_polls(
    hass: HomeAssistant,
    setup_hipcall: SetupEntry,
    add_call: AddCall,
    freezer: FrozenDateTimeFactory,
    sandbox: Sandbox,
) -> None:
    """More records than one poll may page through: the next poll goes on."""
    entry = await setup_hipcall()
    events = async_capture_events(hass, EVENT)
    assert await hass.config_entries.async_unload(entry.entry_id)
    freezer.tick(timedelta(hours=3))
    calls = [add_call(i * 100 - 7000, missed=i % 3 == 0) for i in range(68)]
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    first_poll = len(events)
    assert 0 < first_poll < 23
    await next_poll(hass, freezer, 31)
    await next_poll(hass, freezer, 31)
    missed = [c["uuid"] for c in calls if c["missing_call"]]
    assert sorted(uuids(events)) == sorted(missed)
    assert all(e.data["catch_up"] for e in events)
    await next_poll(hass, freezer, 31)
    assert len(events) == len(missed) == 23
    assert sandbox.hipcall.throttled == 0


async def test_calls_older_than_a_day_are_not_caught_up(
    hass: HomeAssistant,
    setup_hipcall: SetupEntry,
    add_call: AddCall,
    freezer: FrozenDateTimeFactory,
) -> None:
    """After a long outage only the last 24 hours are reported."""
    entry = await setup_hipcall()
    events = async_capture_events(hass, EVENT)
    assert await hass.config_entries.async_unload(entry.entry_id)
    freezer.tick(timedelta(hours=30))
    add_call(-26 * 3600)
    recent = add_call(-2 * 3600)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert uuids(events) == [recent["uuid"]]


async def test_a_malformed_record_is_skipped_with_one_warning(
    hass: HomeAssistant,
    setup_hipcall: SetupEntry,
    add_call: AddCall,
    freezer: FrozenDateTimeFactory,
    sandbox: Sandbox,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Wrong types or missing fields skip that record only, logged once."""
    await setup_hipcall()
    events = async_capture_events(hass, EVENT)
    add_call(caller_number="+905550000001")
    sandbox.hipcall.calls[-1]["missing_call"] = "yes"
    add_call(caller_number="+905550000002")
    del sandbox.hipcall.calls[-1]["started_at"]
    good = add_call()
    await next_poll(hass, freezer, 31)
    await next_poll(hass, freezer, 31)
    assert uuids(events) == [good["uuid"]]
    warnings = [
        r
        for r in caplog.records
        if r.levelname == "WARNING" and "Skipping" in r.message
    ]
    assert len(warnings) == 2
    assert "+90555000000" not in caplog.text


async def test_rate_limiting_is_honoured_and_nothing_is_lost(
    hass: HomeAssistant,
    setup_hipcall: SetupEntry,
    add_call: AddCall,
    freezer: FrozenDateTimeFactory,
    sandbox: Sandbox,
) -> None:
    """A 429 with Retry-After: unavailable, silent until then, then caught up."""
    await setup_hipcall()
    events = async_capture_events(hass, EVENT)
    sandbox.hipcall.add_fault(Fault("rate_limit", retry_after=100))
    await next_poll(hass, freezer, 31)
    assert (
        account_state(hass, "sensor", "missed_calls_today").state == STATE_UNAVAILABLE
    )
    call = add_call()
    sandbox.hipcall.requests.clear()
    await next_poll(hass, freezer, 31)
    await next_poll(hass, freezer, 31)
    assert sandbox.hipcall.requests == []
    await next_poll(hass, freezer, 45)
    assert uuids(events) == [call["uuid"]]
    assert events[0].data["catch_up"] is True


async def test_polling_stays_well_inside_the_rate_limit(
    hass: HomeAssistant,
    setup_hipcall: SetupEntry,
    freezer: FrozenDateTimeFactory,
    sandbox: Sandbox,
) -> None:
    """Users every five minutes, calls every interval: far below 30 a minute."""
    await setup_hipcall(scan_interval=10)
    sandbox.hipcall.requests.clear()
    for _ in range(60):  # ten minutes
        await next_poll(hass, freezer, 10)
    paths = hipcall_paths(sandbox)
    assert paths.count("/cdrs") == 60
    assert paths.count("/users") == 6  # 3 pages, twice
    assert len(paths) <= 10 * 30 * 0.5
    assert sandbox.hipcall.throttled == 0


async def test_missed_calls_today_resets_at_local_midnight(
    hass: HomeAssistant,
    setup_hipcall: SetupEntry,
    add_call: AddCall,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The counter starts again at midnight, and survives a reload before that."""
    await hass.config.async_set_time_zone("Europe/Istanbul")
    entry = await setup_hipcall()
    add_call()
    await next_poll(hass, freezer, 31)
    await reload(hass, entry)
    assert account_state(hass, "sensor", "missed_calls_today").state == "1"
    midnight = dt_util.start_of_local_day() + timedelta(days=1)
    freezer.move_to(midnight + timedelta(seconds=1))
    await next_poll(hass, freezer, 0)
    assert account_state(hass, "sensor", "missed_calls_today").state == "0"
    assert account_state(hass, "sensor", "last_missed_call").state != "unknown"


async def test_revoked_token_starts_reauth(
    hass: HomeAssistant,
    setup_hipcall: SetupEntry,
    freezer: FrozenDateTimeFactory,
    sandbox: Sandbox,
) -> None:
    """A 401 while polling asks the user for a new token."""
    entry = await setup_hipcall()
    sandbox.hipcall.token = "revoked"
    await next_poll(hass, freezer, 31)
    flows = hass.config_entries.flow.async_progress_by_handler("commhub")
    assert [f["context"]["source"] for f in flows] == ["reauth"]
    assert flows[0]["context"]["entry_id"] == entry.entry_id


async def test_removing_the_entry_forgets_its_position(
    hass: HomeAssistant,
    setup_hipcall: SetupEntry,
    hass_storage: dict[str, Any],
) -> None:
    """The stored call position goes with the entry, and nothing writes it back."""
    entry = await setup_hipcall()
    key = f"commhub.hipcall_calls.{entry.entry_id}"
    assert ledger_files(hass, entry) == [f"{key}.journal.0"]
    await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(minutes=5))
    await hass.async_block_till_done()
    assert key not in hass_storage
    assert ledger_files(hass, entry) == []
