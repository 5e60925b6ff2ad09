"""What a Mobiniti entry has already reported, kept across restarts.

Webhook deliveries carry no id: a delivery is recognised by a key made from its
content (for unsubscribes and inbound messages the same key polling derives, so the
two paths never report one event twice). Keys are remembered for the catch-up window.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Self

from ...stored import stored_time

# Deliveries are recognised this long; polling reports nothing older than this.
DEDUPE_WINDOW = timedelta(hours=24)
# Forgetting expired keys walks them all: once a minute is enough.
PRUNE_EVERY = 60.0


@dataclass
class EventLedger:
    """Keys of the events an entry reported, its polling position and daily count."""

    baseline_at: datetime  # the first setup: polling reports nothing from before
    # key → when it was reported (epoch seconds: cheap to store on every delivery)
    keys: dict[str, float] = field(default_factory=dict)
    last_poll_at: datetime | None = None
    counted_day: date | None = None
    counted: int = 0  # unsubscribes received on counted_day
    _pruned_at: float = 0.0

    def cutoff(self, now: datetime) -> datetime:
        """Polled events from before this are history, never reported."""
        return max(self.baseline_at, now - DEDUPE_WINDOW)

    def claim(self, keys: Iterable[str], now: datetime) -> list[str]:
        """Remember the keys; return those not reported before, in order."""
        stamp = now.timestamp()
        fresh = [key for key in dict.fromkeys(keys) if key not in self.keys]
        self.keys.update((key, stamp) for key in fresh)
        if stamp - self._pruned_at >= PRUNE_EVERY:
            oldest = stamp - DEDUPE_WINDOW.total_seconds()
            self.keys = {key: at for key, at in self.keys.items() if at >= oldest}
            self._pruned_at = stamp
        return fresh

    def release(self, keys: Iterable[str]) -> None:
        """Undo `claim`: these were not reported after all."""
        for key in keys:
            self.keys.pop(key, None)

    def count_unsubscribes(self, count: int, today: date) -> None:
        """Add to today's unsubscribe count (a new day starts from zero)."""
        self.counted = self.unsubscribes_on(today) + count
        self.counted_day = today

    def unsubscribes_on(self, today: date) -> int:
        """Unsubscribes received on the given local day."""
        return self.counted if self.counted_day == today else 0

    def as_dict(self) -> dict[str, Any]:
        """The JSON form for the Store."""
        return {
            "baseline_at": self.baseline_at.isoformat(),
            "keys": self.keys,
            "last_poll_at": self.last_poll_at.isoformat()
            if self.last_poll_at
            else None,
            "counted_day": self.counted_day.isoformat() if self.counted_day else None,
            "counted": self.counted,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self | None:
        """The ledger a Store held; None if it is unreadable (then baseline again)."""
        baseline_at = stored_time(data.get("baseline_at"))
        if baseline_at is None:
            return None
        keys = data.get("keys")
        counted = data.get("counted")
        try:
            day = date.fromisoformat(data["counted_day"])
        except KeyError, TypeError, ValueError:
            day = None
        return cls(
            baseline_at=baseline_at,
            keys={
                key: float(at)
                for key, at in (keys.items() if isinstance(keys, dict) else [])
                if isinstance(key, str)
                and isinstance(at, int | float)
                and not isinstance(at, bool)
            },
            last_poll_at=stored_time(data.get("last_poll_at")),
            counted_day=day,
            counted=counted if isinstance(counted, int) and day else 0,
        )
