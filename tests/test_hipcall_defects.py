"""Hipcall defects as a user sees them: devices that come back, devices that stay,
missed calls reported exactly once despite a failing disk, nothing left on disk
after the entry is removed.
"""

import asyncio
from datetime import datetime, timedelta
import threading
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import Event, HomeAssistant, State
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)

from custom_components.commhub.const import DOMAIN
from sandbox import Sandbox

from .conftest import HIPCALL_OWNER, SetupEntry, ledger_files
from .helpers import next_poll, state_of

EVENT = "commhub_missed_call"
START = datetime(2026, 11, 23, 9, 0, 0, tzinfo=dt_util.UTC)
POLL = 31  # a little more than the entry's 30 s interval
# Users are re-read every five minutes: this many polls always include one.
POLLS_PER_USERS_POLL = 300 // POLL + 1

# A seeded user (see sandbox/hipcall.py) whose details must never be logged.
USER_ID = 7
USER_NAME = "Kelly Young"
USER_EMAIL = "ava17@example.net"


@pytest.fixture(autouse=True)
def frozen_start(freezer: FrozenDateTimeFactory) -> None:
    """Every test starts at the same moment (a weekday morning, UTC)."""
    freezer.move_to(START)


def status_unique_id(user_id: int) -> str:
    """Unique id of a Hipcall user's status sensor."""
    return f"hipcall_user_{HIPCALL_OWNER}_{user_id}_user_status"


def status_entity_id(hass: HomeAssistant, user_id: int) -> str | None:
    """The registered entity id of a Hipcall user's status sensor, if any."""
    return er.async_get(hass).async_get_entity_id(
        "sensor", DOMAIN, status_unique_id(user_id)
    )


def user_device(
    hass: HomeAssistant, entry: MockConfigEntry, user_id: int
) -> dr.DeviceEntry | None:
    """The registry device of a Hipcall user of the entry."""
    return dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, f"hipcall_user_{HIPCALL_OWNER}_{user_id}"), entry.entry_id
    )


def account_state(hass: HomeAssistant, platform: str, key: str) -> State:
    """State of an account-level Hipcall entity."""
    return state_of(hass, platform, f"hipcall_{HIPCALL_OWNER}_{key}")


def missed_today(hass: HomeAssistant) -> str:
    """What the `missed_calls_today` sensor shows."""
    return account_state(hass, "sensor", "missed_calls_today").state


def last_poll_succeeded(entry: MockConfigEntry) -> bool:
    """Whether the entry's latest poll worked."""
    return bool(entry.runtime_data.last_update_success)


def uuids(events: list[Event]) -> list[str]:
    """The calls the events were fired for, in firing order."""
    return [event.data["uuid"] for event in events]


def add_missed_call(sandbox: Sandbox, end_in: float = 10) -> dict[str, Any]:
    """A missed call that rang 20 s and ends `end_in` seconds from now."""
    ended = dt_util.utcnow() + timedelta(seconds=end_in)
    return sandbox.hipcall.add_call(
        started_at=ended - timedelta(seconds=20),
        ended_at=ended,
        missing_call=True,
        missing_call_reason=3,
    )


async def users_poll(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """Poll until the users have been read again (at most five minutes later)."""
    for _ in range(POLLS_PER_USERS_POLL):
        await next_poll(hass, freezer, POLL)


async def reload(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Unload and set up the entry again, as a restart does."""
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED


# -- 1. dynamic devices ----------------------------------------------------------


async def test_a_user_that_leaves_and_comes_back_gets_its_sensor_again(
    hass: HomeAssistant,
    setup_hipcall: SetupEntry,
    sandbox: Sandbox,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Gone for one users poll: device and sensor go; back: both again, no reload."""
    entry = await setup_hipcall()
    coordinator = entry.runtime_data
    entity_id = status_entity_id(hass, USER_ID)
    assert entity_id is not None
    assert state_of(hass, "sensor", status_unique_id(USER_ID)).state == "active"

    record = sandbox.hipcall.user(USER_ID)
    sandbox.hipcall.remove_user(USER_ID)
    await users_poll(hass, freezer)
    assert user_device(hass, entry, USER_ID) is None
    assert status_entity_id(hass, USER_ID) is None
    assert hass.states.get(entity_id) is None

    sandbox.hipcall.users.append(record)
    sandbox.hipcall.users.sort(key=lambda user: int(user["id"]))
    await users_poll(hass, freezer)

    # The same entry, never reloaded, has the user's device and sensor again.
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data is coordinator
    device = user_device(hass, entry, USER_ID)
    assert device is not None, "the returning user's device was not re-created"
    assert device.name == USER_NAME
    assert status_entity_id(hass, USER_ID) == entity_id, (
        "the returning user's status sensor was not re-created"
    )
    state = state_of(hass, "sensor", status_unique_id(USER_ID))
    assert state.state == "active"
    assert state.attributes["email"] == USER_EMAIL
    registered = er.async_get(hass).async_get(entity_id)
    assert registered is not None
    assert registered.device_id == device.id

    # It follows the account from now on like any other user.
    sandbox.hipcall.set_user_status(USER_ID, "inactive")
    await users_poll(hass, freezer)
    assert state_of(hass, "sensor", status_unique_id(USER_ID)).state == "inactive"


# -- 2. stale devices ------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("status", 5),
        ("email", ["not", "a", "string"]),
        ("last_logged_in", "yesterday"),
        ("owner", "yes"),
        ("id", str(USER_ID)),
    ],
)
async def test_a_malformed_user_record_keeps_the_device_and_sensor(
    hass: HomeAssistant,
    setup_hipcall: SetupEntry,
    sandbox: Sandbox,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
    field: str,
    value: Any,
) -> None:
    """One bad field: the last known user stays (available), one warning, no PII."""
    entry = await setup_hipcall()
    device = user_device(hass, entry, USER_ID)
    assert device is not None
    entity_id = status_entity_id(hass, USER_ID)
    assert entity_id is not None

    record = sandbox.hipcall.user(USER_ID)
    record[field] = value
    await users_poll(hass, freezer)
    await users_poll(hass, freezer)

    assert user_device(hass, entry, USER_ID) == device, (
        f"a malformed {field!r} removed the user's device"
    )
    assert status_entity_id(hass, USER_ID) == entity_id
    state = state_of(hass, "sensor", status_unique_id(USER_ID))
    assert state.state == "active"  # the last known status, not unavailable
    assert state.attributes["email"] == USER_EMAIL
    # Every other user is untouched.
    assert state_of(hass, "sensor", status_unique_id(8)).state == "active"

    warnings = [
        r
        for r in caplog.records
        if r.levelname == "WARNING" and "user record" in r.getMessage()
    ]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert repr(field) in warnings[0].getMessage()
    for personal in (USER_NAME, USER_EMAIL, "Kelly", "ava17"):
        assert personal not in caplog.text

    # Once the record is well-formed again the user follows the account again.
    record[field] = USER_ID if field == "id" else None
    sandbox.hipcall.set_user_status(USER_ID, "inactive")
    await users_poll(hass, freezer)
    assert state_of(hass, "sensor", status_unique_id(USER_ID)).state == "inactive"
    assert user_device(hass, entry, USER_ID) == device


async def test_a_user_malformed_since_setup_is_not_invented(
    hass: HomeAssistant,
    setup_hipcall: SetupEntry,
    sandbox: Sandbox,
) -> None:
    """Keeping the last known user needs one: a record never read gives no sensor."""
    sandbox.hipcall.user(USER_ID)["status"] = 5
    entry = await setup_hipcall()
    assert entry.state is ConfigEntryState.LOADED
    assert user_device(hass, entry, USER_ID) is None
    assert status_entity_id(hass, USER_ID) is None
    assert state_of(hass, "sensor", status_unique_id(8)).state == "active"


# -- 3. exactly once despite a failing disk --------------------------------------


async def test_a_missed_call_whose_journal_write_fails_is_reported_once_later(
    hass: HomeAssistant,
    setup_hipcall: SetupEntry,
    sandbox: Sandbox,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Disk full: no event, not counted, the poll fails; then exactly once.

    The failed poll says why in one translated line, not as an unexpected error.
    """
    entry = await setup_hipcall()
    events = async_capture_events(hass, EVENT)
    assert missed_today(hass) == "0"
    call = add_missed_call(sandbox)

    journal = entry.runtime_data.ledger._journal
    with patch.object(journal, "append", side_effect=OSError("disk full")) as append:
        await next_poll(hass, freezer, POLL)
        assert append.called, "the poll never tried to write the new call"
        assert events == [], "a missed call was fired before it was on disk"
        assert not last_poll_succeeded(entry)
        assert missed_today(hass) == STATE_UNAVAILABLE
        assert (
            state_of(hass, "sensor", status_unique_id(USER_ID)).state
            == STATE_UNAVAILABLE
        )
        # Still failing: still nothing.
        await next_poll(hass, freezer, POLL)
        assert events == []
    assert "Unexpected error" not in caplog.text
    assert "could not be saved, so nothing new is reported" in caplog.text

    await next_poll(hass, freezer, POLL)
    assert last_poll_succeeded(entry)
    assert uuids(events) == [call["uuid"]]
    assert missed_today(hass) == "1"
    last = account_state(hass, "sensor", "last_missed_call").state
    assert dt_util.parse_datetime(last) == START - timedelta(seconds=10)

    await next_poll(hass, freezer, POLL)
    await next_poll(hass, freezer, POLL)
    assert uuids(events) == [call["uuid"]]
    assert missed_today(hass) == "1"

    await reload(hass, entry)
    await next_poll(hass, freezer, POLL)
    assert uuids(events) == [call["uuid"]], "fired again after a restart"
    assert missed_today(hass) == "1"


async def test_a_missed_call_whose_write_failed_before_a_restart_is_not_lost(
    hass: HomeAssistant,
    setup_hipcall: SetupEntry,
    sandbox: Sandbox,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The write fails, Home Assistant restarts: the call fires once afterwards."""
    entry = await setup_hipcall()
    events = async_capture_events(hass, EVENT)
    call = add_missed_call(sandbox)
    journal = entry.runtime_data.ledger._journal
    with patch.object(journal, "append", side_effect=OSError("disk full")):
        await next_poll(hass, freezer, POLL)
        assert events == []
        assert await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert uuids(events) == [call["uuid"]]
    assert missed_today(hass) == "1"
    await next_poll(hass, freezer, POLL)
    await reload(hass, entry)
    await next_poll(hass, freezer, POLL)
    assert uuids(events) == [call["uuid"]]
    assert missed_today(hass) == "1"


# -- 4. nothing written after removal --------------------------------------------


async def fire_minutes_forward(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, minutes: int
) -> None:
    """Let time pass a minute at a time (delayed saves, snapshots, polls)."""
    for _ in range(minutes):
        freezer.tick(timedelta(minutes=1))
        async_fire_time_changed(hass)
        await hass.async_block_till_done(wait_background_tasks=True)


async def test_removing_the_entry_leaves_no_file_behind(
    hass: HomeAssistant,
    setup_hipcall: SetupEntry,
    sandbox: Sandbox,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
) -> None:
    """Snapshot and journals, written by polls and a restart, all go for good.

    (The test harness keeps Store files, the snapshot among them, in
    `hass_storage`; the journals are real files.)
    """
    entry = await setup_hipcall()
    snapshot = f"commhub.hipcall_calls.{entry.entry_id}"
    add_missed_call(sandbox)
    await next_poll(hass, freezer, POLL)
    await reload(hass, entry)  # closing the ledger writes its snapshot
    add_missed_call(sandbox)
    await next_poll(hass, freezer, POLL)  # and the next poll a journal line
    await next_poll(hass, freezer, POLL)  # a quiet poll
    assert snapshot in hass_storage
    assert ledger_files(hass, entry) == [f"{snapshot}.journal.1"]

    await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert snapshot not in hass_storage
    assert ledger_files(hass, entry) == []
    add_missed_call(sandbox)
    await fire_minutes_forward(hass, freezer, 10)
    assert snapshot not in hass_storage
    assert ledger_files(hass, entry) == []
    stored = [key for key in hass_storage if entry.entry_id in key]
    assert stored == []


async def test_removing_the_entry_during_a_journal_write_leaves_no_file(
    hass: HomeAssistant,
    setup_hipcall: SetupEntry,
    sandbox: Sandbox,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
) -> None:
    """The entry is removed while a poll's write is on its way to the disk."""
    entry = await setup_hipcall()
    journal = entry.runtime_data.ledger._journal
    append = journal.append
    writing: asyncio.Future[None] = hass.loop.create_future()
    resume = threading.Event()

    def started() -> None:
        if not writing.done():
            writing.set_result(None)

    def slow_append(data: bytes) -> None:
        """The real append, held up in the executor until the entry is removed."""
        hass.loop.call_soon_threadsafe(started)
        assert resume.wait(10), "the test never let the write go on"
        append(data)

    add_missed_call(sandbox)
    # A plain function (not a Mock, which the harness would run in the event loop).
    with patch.object(journal, "append", slow_append):
        freezer.tick(timedelta(seconds=POLL))
        async_fire_time_changed(hass)
        await writing
        removal = hass.async_create_task(
            hass.config_entries.async_remove(entry.entry_id)
        )
        for _ in range(20):
            await asyncio.sleep(0)
        # Whether or not the removal waits for it, the write now goes on.
        resume.set()
        await removal
        await hass.async_block_till_done(wait_background_tasks=True)
    assert hass.config_entries.async_get_entry(entry.entry_id) is None
    assert ledger_files(hass, entry) == []
    add_missed_call(sandbox)
    await fire_minutes_forward(hass, freezer, 10)
    assert ledger_files(hass, entry) == []
    assert [key for key in hass_storage if entry.entry_id in key] == []
