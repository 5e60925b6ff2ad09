"""The IP1 message ledger: baselines, what was reported, the catch-up window."""

from datetime import UTC, datetime, timedelta
import json
from typing import Any

import pytest

from custom_components.commhub.api.ip1 import Ip1Message
from custom_components.commhub.providers.ip1.ledger import (
    BASELINE_MARGIN,
    CATCH_UP_WINDOW,
    MessageLedger,
)

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
PARTICIPANT = "46701234567"
OTHER = "Pharmacy"


def message(id_: str, created: datetime, sender: str = PARTICIPANT) -> Ip1Message:
    """An inbound message created at `created`."""
    return Ip1Message(
        id=id_,
        sender=sender,
        recipient="46700000000",
        body=f"body of {id_}",
        created=created,
        status=201,
        status_at=created,
        batch_id=None,
    )


def test_started_makes_earlier_messages_history() -> None:
    """Set up now: what came before (beyond the margin) is never reported."""
    ledger = MessageLedger.started(NOW)
    assert ledger.baseline_at == NOW - BASELINE_MARGIN
    assert (ledger.participants, ledger.seen, ledger.reports) == ({}, {}, {})
    assert not ledger.is_new(message("old", NOW - HOUR), NOW)
    assert not ledger.is_new(message("old", NOW - 2 * MINUTE), NOW)
    assert not ledger.is_new(message("old", NOW - 2 * MINUTE), NOW + HOUR)
    # Listed a little after it was created: the margin still counts it as new.
    assert ledger.is_new(message("edge", NOW - BASELINE_MARGIN), NOW)
    assert ledger.is_new(message("late", NOW - 30 * timedelta(seconds=1)), NOW)
    assert ledger.is_new(message("new", NOW + MINUTE), NOW + 2 * MINUTE)
    assert ledger.cutoff(NOW) == NOW - BASELINE_MARGIN


def test_take_baseline_makes_listed_messages_history() -> None:
    """A participant followed later: its history then is old, later messages new."""
    ledger = MessageLedger.started(NOW - 2 * HOUR)
    listed = [message("a", NOW - HOUR), message("b", NOW - 10 * MINUTE)]
    ledger.take_baseline(PARTICIPANT, listed, NOW)
    assert ledger.participants == {PARTICIPANT: NOW - BASELINE_MARGIN}
    assert ledger.seen == {"a": NOW - HOUR, "b": NOW - 10 * MINUTE}
    later = NOW + 5 * MINUTE
    assert not ledger.is_new(listed[0], later, PARTICIPANT)
    assert not ledger.is_new(listed[1], later, PARTICIPANT)
    # Not listed, but created before the participant was followed: history.
    unlisted = message("c", NOW - 30 * MINUTE)
    assert not ledger.is_new(unlisted, later, PARTICIPANT)
    # For a participant followed since setup, the same time is after the baseline.
    assert ledger.is_new(unlisted, later, OTHER)
    assert ledger.is_new(unlisted, later)
    assert ledger.is_new(message("d", NOW + MINUTE), later, PARTICIPANT)
    assert ledger.cutoff(later, PARTICIPANT) == NOW - BASELINE_MARGIN
    assert ledger.cutoff(later, OTHER) == NOW - 2 * HOUR - BASELINE_MARGIN


def test_take_baseline_again_moves_it_forward() -> None:
    """Following a participant anew takes a new baseline."""
    ledger = MessageLedger.started(NOW - 2 * HOUR)
    ledger.take_baseline(PARTICIPANT, [], NOW - HOUR)
    ledger.take_baseline(PARTICIPANT, [], NOW)
    assert ledger.participants[PARTICIPANT] == NOW - BASELINE_MARGIN


def test_record_returns_unseen_oldest_first_once() -> None:
    """Newest-first input comes out oldest first, each message only once."""
    ledger = MessageLedger.started(NOW - HOUR)
    ledger.take_baseline(PARTICIPANT, [message("known", NOW - 50 * MINUTE)], NOW)
    newest_first = [
        message("m3", NOW - MINUTE),
        message("m2", NOW - 5 * MINUTE),
        message("known", NOW - 50 * MINUTE),
        message("m1", NOW - 10 * MINUTE),
        message("m2", NOW - 5 * MINUTE),  # listed twice (e.g. across pages)
    ]
    fresh = ledger.record(newest_first, NOW)
    assert [m.id for m in fresh] == ["m1", "m2", "m3"]
    assert set(ledger.seen) == {"known", "m1", "m2", "m3"}
    assert ledger.seen["m2"] == NOW - 5 * MINUTE
    assert not ledger.is_new(message("m3", NOW - MINUTE), NOW)
    assert ledger.record(newest_first, NOW + MINUTE) == []
    [m4] = ledger.record([*newest_first, message("m4", NOW)], NOW + MINUTE)
    assert m4.id == "m4"


def test_record_orders_equal_times_by_id() -> None:
    """Messages of the same instant come out in a stable order."""
    ledger = MessageLedger.started(NOW - HOUR)
    fresh = ledger.record([message("b", NOW), message("a", NOW)], NOW)
    assert [m.id for m in fresh] == ["a", "b"]


def test_record_of_nothing() -> None:
    """No messages, nothing new, nothing remembered."""
    ledger = MessageLedger.started(NOW)
    assert ledger.record(iter([]), NOW) == []
    assert ledger.seen == {}


def test_catch_up_window_limits_what_is_new() -> None:
    """After a long outage only the last 24 hours are caught up."""
    ledger = MessageLedger.started(NOW - timedelta(days=3))
    ledger.take_baseline(PARTICIPANT, [], NOW - timedelta(days=2))
    assert ledger.cutoff(NOW) == NOW - CATCH_UP_WINDOW
    assert ledger.cutoff(NOW, PARTICIPANT) == NOW - CATCH_UP_WINDOW
    assert not ledger.is_new(message("old", NOW - 25 * HOUR), NOW)
    assert not ledger.is_new(message("old", NOW - 25 * HOUR), NOW, PARTICIPANT)
    assert not ledger.is_new(
        message("just", NOW - CATCH_UP_WINDOW - timedelta(seconds=1)), NOW
    )
    assert ledger.is_new(message("edge", NOW - CATCH_UP_WINDOW), NOW)
    assert ledger.is_new(message("recent", NOW - 23 * HOUR), NOW, PARTICIPANT)


def test_prune_forgets_what_left_the_window() -> None:
    """Seen messages and reports older than the window are dropped."""
    ledger = MessageLedger.started(NOW - timedelta(days=3))
    ledger.seen = {
        "old": NOW - 25 * HOUR,
        "edge": NOW - CATCH_UP_WINDOW,
        "recent": NOW - HOUR,
    }
    ledger.reports = {"old:201": NOW - 30 * HOUR, "recent:201": NOW - HOUR}
    ledger.participants = {PARTICIPANT: NOW - timedelta(days=2)}
    ledger.prune(NOW)
    assert ledger.seen == {"edge": NOW - CATCH_UP_WINDOW, "recent": NOW - HOUR}
    assert ledger.reports == {"recent:201": NOW - HOUR}
    # Participants' baselines are not part of the window.
    assert ledger.participants == {PARTICIPANT: NOW - timedelta(days=2)}


def test_record_prunes() -> None:
    """Recording also forgets what left the window."""
    ledger = MessageLedger.started(NOW - timedelta(days=3))
    ledger.record([message("a", NOW - 2 * HOUR)], NOW - HOUR)
    ledger.record_report("a:201", NOW - HOUR)
    [b] = ledger.record([message("b", NOW + 22 * HOUR)], NOW + 23 * HOUR + MINUTE)
    assert b.id == "b"
    assert set(ledger.seen) == {"b"}
    assert ledger.reports == {}


def test_record_report_once() -> None:
    """A delivery report is reported the first time only, remembered from receipt."""
    ledger = MessageLedger.started(NOW - HOUR)
    assert ledger.record_report("m1:201", NOW)
    assert not ledger.record_report("m1:201", NOW + MINUTE)
    assert ledger.record_report("m1:402", NOW + MINUTE)
    assert ledger.reports == {"m1:201": NOW, "m1:402": NOW + MINUTE}
    ledger.prune(NOW + CATCH_UP_WINDOW + 30 * MINUTE)
    assert ledger.reports == {}


def test_posted_messages_are_remembered_from_receipt() -> None:
    """An old message IP1 posts now is new, and its retries are known for 24 h."""
    ledger = MessageLedger.started(NOW - HOUR)
    old = message("old", NOW - timedelta(days=7))
    assert ledger.record([old], NOW, posted=True) == [old]
    assert ledger.seen["old"] == NOW
    assert ledger.record([old], NOW + 23 * HOUR, posted=True) == []


def test_forget_participants() -> None:
    """Participants no longer followed lose their baselines; seen ids stay."""
    ledger = MessageLedger.started(NOW - 2 * HOUR)
    ledger.take_baseline(PARTICIPANT, [message("a", NOW - HOUR)], NOW - HOUR)
    ledger.take_baseline(OTHER, [message("b", NOW - HOUR, OTHER)], NOW)
    ledger.forget_participants(iter([PARTICIPANT, "46709876543"]))
    assert ledger.participants == {PARTICIPANT: NOW - HOUR - BASELINE_MARGIN}
    assert set(ledger.seen) == {"a", "b"}
    # Without its own baseline the participant falls back to the entry's.
    assert ledger.cutoff(NOW, OTHER) == NOW - 2 * HOUR - BASELINE_MARGIN
    ledger.forget_participants([])
    assert ledger.participants == {}


def test_as_dict_from_dict_round_trip() -> None:
    """What the Store holds (through JSON) reads back as the same ledger."""
    ledger = MessageLedger.started(NOW - 2 * HOUR)
    ledger.take_baseline(PARTICIPANT, [message("a", NOW - HOUR)], NOW)
    ledger.record([message("b", NOW + MINUTE)], NOW + MINUTE)
    ledger.record_report("a:201", NOW)
    data = ledger.as_dict()
    assert data == {
        "baseline_at": "2026-05-01T09:59:00+00:00",
        "participants": {PARTICIPANT: "2026-05-01T11:59:00+00:00"},
        "seen": {
            "a": "2026-05-01T11:00:00+00:00",
            "b": "2026-05-01T12:01:00+00:00",
        },
        "reports": {"a:201": "2026-05-01T12:00:00+00:00"},
    }
    restored = MessageLedger.from_dict(json.loads(json.dumps(data)))
    assert restored == ledger
    assert restored is not None
    assert not restored.is_new(message("a", NOW - HOUR), NOW, PARTICIPANT)
    assert restored.is_new(message("c", NOW + MINUTE), NOW + MINUTE, PARTICIPANT)


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"baseline_at": None},
        {"baseline_at": 1714564800},
        {"baseline_at": "yesterday"},
        {"baseline_at": ""},
        {"seen": {"a": "2026-05-01T11:00:00+00:00"}},
    ],
)
def test_from_dict_without_a_baseline_is_none(data: dict[str, Any]) -> None:
    """Unreadable: the caller takes a new baseline."""
    assert MessageLedger.from_dict(data) is None


def test_from_dict_skips_bad_entries() -> None:
    """A readable baseline keeps the ledger; entries that do not parse are dropped."""
    ledger = MessageLedger.from_dict(
        {
            "baseline_at": "2026-05-01T09:59:00+00:00",
            "participants": [PARTICIPANT],
            "seen": {
                "good": "2026-05-01T11:00:00+00:00",
                "number": 1714564800,
                "none": None,
                "words": "an hour ago",
            },
            "reports": "m1:201",
        }
    )
    assert ledger == MessageLedger(
        baseline_at=NOW - 2 * HOUR - MINUTE,
        participants={},
        seen={"good": NOW - HOUR},
        reports={},
    )


def test_from_dict_with_naive_times_is_usable() -> None:
    """Times without an offset are unreadable: skipped, or a new baseline.

    A Store edited by hand (or written by another version) with "2026-05-01T09:59:00"
    must not give a ledger whose naive times cannot be compared with the aware `now`.
    """
    ledger = MessageLedger.from_dict(
        {
            "baseline_at": "2026-05-01T09:59:00+00:00",
            "participants": {PARTICIPANT: "2026-05-01T11:59:00"},
            "seen": {"a": "2026-05-01T11:00:00"},
            "reports": {"a:201": "2026-05-01T12:00:00"},
        }
    )
    assert ledger is not None
    assert ledger.is_new(message("b", NOW + MINUTE), NOW + MINUTE, PARTICIPANT)
    ledger.prune(NOW)
    assert MessageLedger.from_dict({"baseline_at": "2026-05-01T09:59:00"}) is None
