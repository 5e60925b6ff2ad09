"""The persisted call-history position of a Hipcall entry."""

from datetime import UTC, date, datetime, timedelta

from custom_components.commhub.api.hipcall import HipcallCall
from custom_components.commhub.providers.hipcall.ledger import CallLedger

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
TODAY = date(2026, 11, 23)


def call(uuid: str, ended: datetime, *, missed: bool = True) -> HipcallCall:
    """A call that rang for 30 s and ended at `ended`."""
    return HipcallCall(
        uuid=uuid,
        started_at=ended - timedelta(seconds=30),
        ended_at=ended,
        missing_call=missed,
        reason="abandoned" if missed else None,
        direction="inbound",
        user_id=2,
        caller_number="+905326202911",
        callee_number="101",
        call_duration=30,
    )


def test_baseline_reports_nothing_and_knows_the_listed_calls() -> None:
    """The calls listed at the first setup, and anything older, are history."""
    listed = [call("a", NOW - timedelta(minutes=5)), call("b", NOW, missed=False)]
    ledger = CallLedger.from_baseline(listed, NOW)
    assert ledger.is_known(listed[0], NOW)
    assert ledger.is_known(call("older", NOW - timedelta(minutes=2)), NOW)
    assert not ledger.is_known(call("new", NOW + timedelta(seconds=1)), NOW)
    assert ledger.last_missed_at == listed[0].started_at
    assert ledger.missed_today(TODAY) == 0


def test_record_returns_missed_calls_oldest_first_and_counts_them() -> None:
    """Each new missed call counts once on the day it is received."""
    ledger = CallLedger.from_baseline([], NOW)
    later = NOW + timedelta(minutes=1)
    calls = [
        call("second", later + timedelta(seconds=20)),
        call("answered", later, missed=False),
        call("first", later + timedelta(seconds=10)),
    ]
    missed = ledger.record(calls, later, TODAY)
    assert [c.uuid for c in missed] == ["first", "second"]
    assert ledger.missed_today(TODAY) == 2
    assert ledger.missed_today(TODAY + timedelta(days=1)) == 0
    assert all(ledger.is_known(c, later) for c in calls)
    ledger.record(
        [call("next day", later + timedelta(days=1))], later, TODAY + timedelta(days=1)
    )
    assert ledger.missed_today(TODAY + timedelta(days=1)) == 1


def test_calls_older_than_the_catch_up_window_are_forgotten_and_never_new() -> None:
    """Remembered uuids are bounded by the 24 h window."""
    ledger = CallLedger.from_baseline([], NOW - timedelta(days=3))
    old = call("old", NOW - timedelta(hours=25))
    recent = call("recent", NOW - timedelta(hours=23))
    assert ledger.is_known(old, NOW)
    assert not ledger.is_known(recent, NOW)
    ledger.record([recent], NOW - timedelta(hours=23), TODAY)
    ledger.record([], NOW + timedelta(hours=2), TODAY)
    assert ledger.seen == {}
    assert ledger.is_known(recent, NOW + timedelta(hours=2))


def test_round_trip_through_the_store_format() -> None:
    """What is saved is what is loaded."""
    ledger = CallLedger.from_baseline([call("a", NOW)], NOW)
    ledger.record([call("b", NOW + timedelta(seconds=5))], NOW, TODAY)
    ledger.resume_page = 3
    assert CallLedger.from_dict(ledger.as_dict()) == ledger
    empty = CallLedger(baseline_at=NOW)
    assert CallLedger.from_dict(empty.as_dict()) == empty


def test_unreadable_store_data_means_a_new_baseline_or_defaults() -> None:
    """Broken stored data never crashes setup."""
    assert CallLedger.from_dict({}) is None
    assert CallLedger.from_dict({"baseline_at": "yesterday", "seen": {}}) is None
    assert CallLedger.from_dict({"baseline_at": NOW.isoformat(), "seen": []}) is None
    ledger = CallLedger.from_dict(
        {
            "baseline_at": NOW.isoformat(),
            "seen": {"a": NOW.isoformat(), "b": "garbage", "c": 5},
            "counted_day": "not a day",
            "counted": 7,
            "resume_page": "2",
        }
    )
    assert ledger == CallLedger(baseline_at=NOW, seen={"a": NOW})
