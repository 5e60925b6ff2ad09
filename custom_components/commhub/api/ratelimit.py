"""A client-side request budget that keeps a client under a service's rate limit."""

import asyncio
import bisect
from collections.abc import Callable, Mapping
import time


def _header_int(headers: Mapping[str, str], name: str) -> int | None:
    try:
        value = int(headers.get(name, ""))
    except ValueError:
        return None
    return value if value >= 0 else None


class RequestBudget:
    """At most `limit` requests in any `window` seconds; later ones wait their turn.

    The service's `x-ratelimit-*` answers correct the count: when it says fewer
    requests are left than we think (another client shares the credentials), the
    difference counts as requests sent now.
    """

    def __init__(
        self,
        limit: int,
        window: float,
        *,
        clock: Callable[[], float] | None = None,
    ) -> None:
        """Start with an empty window."""
        self.limit = limit
        self.window = window
        self._clock = clock
        self._sends: list[float] = []  # sorted; may hold reserved future times

    def _now(self) -> float:
        # time.monotonic is looked up per call so a frozen test clock applies.
        return self._clock() if self._clock else time.monotonic()

    def _prune(self, now: float) -> None:
        del self._sends[: bisect.bisect_right(self._sends, now - self.window)]

    @property
    def used(self) -> int:
        """Requests counted in the current window (including reserved ones)."""
        self._prune(self._now())
        return len(self._sends)

    async def acquire(self) -> None:
        """Wait until one more request fits in the window, and count it."""
        now = self._now()
        self._prune(now)
        at = now
        if len(self._sends) >= self.limit:
            # The slot frees when the limit-th most recent request leaves the window.
            at = self._sends[-self.limit] + self.window
        bisect.insort(self._sends, at)
        if at > now:
            await asyncio.sleep(at - now)

    def observe(self, headers: Mapping[str, str]) -> None:
        """Take the service's own count from a response's rate-limit headers."""
        if (limit := _header_int(headers, "x-ratelimit-limit")) is not None:
            self.limit = max(limit, 1)
        remaining = _header_int(headers, "x-ratelimit-remaining")
        if remaining is None:
            return
        now = self._now()
        self._prune(now)
        for _ in range(self.limit - remaining - len(self._sends)):
            bisect.insort(self._sends, now)
