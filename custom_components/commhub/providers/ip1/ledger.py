"""What an IP1 entry has already reported, kept across restarts.

A message (or delivery report) is reported once: its key is remembered until it falls
out of the catch-up window. Messages created before the entry's first setup, before a
participant was first followed, or before the window are history, never reported.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Self

from ...api.ip1 import Ip1Message
from ...stored import stored_time

# Messages found after a restart or outage are still reported if they are this recent.
CATCH_UP_WINDOW = timedelta(hours=24)
# A message can be listed a little after it was created; the baseline leaves room.
BASELINE_MARGIN = timedelta(minutes=1)


def _times(value: object) -> dict[str, datetime]:
    if not isinstance(value, dict):
        return {}
    return {
        key: at
        for key, raw in value.items()
        if isinstance(key, str) and (at := stored_time(raw)) is not None
    }


def _iso(times: dict[str, datetime]) -> dict[str, str]:
    return {key: at.isoformat() for key, at in times.items()}


@dataclass
class MessageLedger:
    """The persisted position of one IP1 account's conversations."""

    baseline_at: datetime
    # When each followed participant's history was taken as the baseline.
    participants: dict[str, datetime] = field(default_factory=dict)
    seen: dict[str, datetime] = field(default_factory=dict)  # message id → created
    reports: dict[str, datetime] = field(default_factory=dict)  # report key → created

    @classmethod
    def started(cls, now: datetime) -> Self:
        """A ledger for an entry set up now: everything earlier is history."""
        return cls(baseline_at=now - BASELINE_MARGIN)

    def cutoff(self, now: datetime, participant: str | None = None) -> datetime:
        """Messages created before this are history for the participant."""
        since = self.participants.get(participant or "", self.baseline_at)
        return max(since, now - CATCH_UP_WINDOW)

    def is_new(
        self, message: Ip1Message, now: datetime, participant: str | None = None
    ) -> bool:
        """Whether the message was never reported and is recent enough to be."""
        return message.id not in self.seen and message.created >= self.cutoff(
            now, participant
        )

    def take_baseline(
        self, participant: str, messages: Iterable[Ip1Message], now: datetime
    ) -> None:
        """Follow a participant from now on: its listed messages are history."""
        self.participants[participant] = now - BASELINE_MARGIN
        self.seen.update((message.id, message.created) for message in messages)

    def record(
        self, messages: Iterable[Ip1Message], now: datetime, *, posted: bool = False
    ) -> list[Ip1Message]:
        """Remember messages; return those not seen before, oldest first.

        A message IP1 posted is remembered from its receipt, however old: its
        retries must be recognised for the whole window.
        """
        fresh: dict[str, Ip1Message] = {}
        for message in messages:
            if message.id not in self.seen and message.id not in fresh:
                fresh[message.id] = message
        self.seen.update(
            (m.id, max(m.created, now) if posted else m.created) for m in fresh.values()
        )
        self.prune(now)
        return sorted(fresh.values(), key=lambda m: (m.created, m.id))

    def record_report(self, key: str, now: datetime) -> bool:
        """Remember a delivery report from its receipt; whether it is the first time."""
        if key in self.reports:
            return False
        self.reports[key] = now
        return True

    def forget(self, message_ids: Iterable[str], report_keys: Iterable[str]) -> None:
        """Undo `record`: these were not reported after all."""
        for message_id in message_ids:
            self.seen.pop(message_id, None)
        for key in report_keys:
            self.reports.pop(key, None)

    def forget_participants(self, keep: Iterable[str]) -> None:
        """Stop following participants not in `keep` (a later return is new)."""
        kept = set(keep)
        self.participants = {p: at for p, at in self.participants.items() if p in kept}

    def prune(self, now: datetime) -> None:
        """Forget what fell out of the catch-up window."""
        oldest = now - CATCH_UP_WINDOW
        self.seen = {key: at for key, at in self.seen.items() if at >= oldest}
        self.reports = {key: at for key, at in self.reports.items() if at >= oldest}

    def as_dict(self) -> dict[str, Any]:
        """The JSON form for the Store."""
        return {
            "baseline_at": self.baseline_at.isoformat(),
            "participants": _iso(self.participants),
            "seen": _iso(self.seen),
            "reports": _iso(self.reports),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self | None:
        """The ledger a Store held; None if it is unreadable (then baseline again)."""
        baseline_at = stored_time(data.get("baseline_at"))
        if baseline_at is None:
            return None
        return cls(
            baseline_at=baseline_at,
            participants=_times(data.get("participants")),
            seen=_times(data.get("seen")),
            reports=_times(data.get("reports")),
        )
