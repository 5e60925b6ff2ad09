"""What a Hipcall entry has already seen of the call history, kept across restarts.

A call is reported once: its uuid is remembered until it falls out of the catch-up
window, and calls that ended before the baseline (the first setup) or before the
window are history that is never reported.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Self

from ...api.hipcall import HipcallCall
from ...stored import stored_time

# Calls found after a restart or outage are still reported if they are this recent.
CATCH_UP_WINDOW = timedelta(hours=24)
# A CDR can show up a little after its end; the baseline leaves room for that.
BASELINE_MARGIN = timedelta(minutes=1)


@dataclass
class CallLedger:
    """The persisted position of one Hipcall account's call history."""

    baseline_at: datetime
    seen: dict[str, datetime] = field(default_factory=dict)  # uuid → finished_at
    last_poll_at: datetime | None = None
    last_missed_at: datetime | None = None  # started_at of the newest missed call
    counted_day: date | None = None
    counted: int = 0  # missed calls received on counted_day
    resume_page: int | None = None  # where a poll cut short by its page bound stopped

    @classmethod
    def from_baseline(cls, calls: list[HipcallCall], now: datetime) -> Self:
        """A ledger that takes the calls listed now as history, reporting none."""
        ledger = cls(baseline_at=now - BASELINE_MARGIN, last_poll_at=now)
        ledger.seen = {call.uuid: call.finished_at for call in calls}
        ledger.last_missed_at = max(
            (call.started_at for call in calls if call.missing_call), default=None
        )
        return ledger

    def cutoff(self, now: datetime) -> datetime:
        """Calls that ended before this are history, never reported."""
        return max(self.baseline_at, now - CATCH_UP_WINDOW)

    def is_known(self, call: HipcallCall, now: datetime) -> bool:
        """Whether the call was seen before or is too old to report."""
        return call.uuid in self.seen or call.finished_at < self.cutoff(now)

    def missed_today(self, today: date) -> int:
        """Missed calls received on the given local day."""
        return self.counted if self.counted_day == today else 0

    def record(
        self, calls: list[HipcallCall], now: datetime, today: date
    ) -> list[HipcallCall]:
        """Remember new calls; return the missed ones, oldest first."""
        for call in calls:
            self.seen[call.uuid] = call.finished_at
        missed = sorted(
            (call for call in calls if call.missing_call),
            key=lambda call: (call.finished_at, call.started_at, call.uuid),
        )
        if missed:
            self.counted = self.missed_today(today) + len(missed)
            self.counted_day = today
            newest = max(call.started_at for call in missed)
            if self.last_missed_at is None or newest > self.last_missed_at:
                self.last_missed_at = newest
        cutoff = self.cutoff(now)
        self.seen = {u: t for u, t in self.seen.items() if t >= cutoff}
        self.last_poll_at = now
        return missed

    def as_dict(self) -> dict[str, Any]:
        """The JSON form for the Store."""
        return {
            "baseline_at": self.baseline_at.isoformat(),
            "seen": {uuid: at.isoformat() for uuid, at in self.seen.items()},
            "last_poll_at": self.last_poll_at.isoformat()
            if self.last_poll_at
            else None,
            "last_missed_at": self.last_missed_at.isoformat()
            if self.last_missed_at
            else None,
            "counted_day": self.counted_day.isoformat() if self.counted_day else None,
            "counted": self.counted,
            "resume_page": self.resume_page,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self | None:
        """The ledger a Store held; None if it is unreadable (then baseline again)."""
        baseline_at = stored_time(data.get("baseline_at"))
        seen = data.get("seen")
        if baseline_at is None or not isinstance(seen, dict):
            return None
        counted_day = data.get("counted_day")
        counted = data.get("counted")
        resume_page = data.get("resume_page")
        try:
            day = date.fromisoformat(counted_day) if counted_day else None
        except TypeError, ValueError:
            day = None
        return cls(
            baseline_at=baseline_at,
            seen={
                uuid: at
                for uuid, value in seen.items()
                if isinstance(uuid, str) and (at := stored_time(value)) is not None
            },
            last_poll_at=stored_time(data.get("last_poll_at")),
            last_missed_at=stored_time(data.get("last_missed_at")),
            counted_day=day,
            counted=counted if isinstance(counted, int) and day else 0,
            resume_page=resume_page if isinstance(resume_page, int) else None,
        )
