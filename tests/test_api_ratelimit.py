"""The client-side request budget: never more than the limit in any window."""

import asyncio
from unittest.mock import patch

from multidict import CIMultiDict

from custom_components.commhub.api.ratelimit import RequestBudget


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_requests_within_the_limit_do_not_wait() -> None:
    """Up to `limit` requests go at once; they count in the window."""
    clock = Clock()
    budget = RequestBudget(3, 60, clock=clock)
    with patch("asyncio.sleep") as sleep:
        for _ in range(3):
            await budget.acquire()
    sleep.assert_not_called()
    assert budget.used == 3
    clock.now += 60.5
    assert budget.used == 0


async def test_the_next_request_waits_until_the_oldest_leaves_the_window() -> None:
    """Request limit+1 waits exactly until the first one is a window old."""
    clock = Clock()
    budget = RequestBudget(2, 60, clock=clock)
    await budget.acquire()
    clock.now += 10
    await budget.acquire()
    clock.now += 5
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    with patch("asyncio.sleep", record):
        await budget.acquire()  # slot frees at 1000 + 60
        await budget.acquire()  # and the next at 1010 + 60
    assert waits == [45.0, 55.0]


async def test_the_services_count_wins_when_it_says_less_is_left() -> None:
    """Another client on the same token used part of the budget: count it."""
    clock = Clock()
    budget = RequestBudget(30, 60, clock=clock)
    await budget.acquire()
    budget.observe(
        CIMultiDict({"X-RateLimit-Limit": "30", "X-RateLimit-Remaining": "5"})
    )
    assert budget.used == 25
    # A count above ours changes nothing; nonsense headers are ignored.
    budget.observe(CIMultiDict({"x-ratelimit-remaining": "29"}))
    budget.observe(
        CIMultiDict({"x-ratelimit-remaining": "many", "x-ratelimit-limit": "-1"})
    )
    assert budget.used == 25


async def test_a_lower_limit_from_the_service_applies() -> None:
    """x-ratelimit-limit replaces the documented default."""
    clock = Clock()
    budget = RequestBudget(30, 60, clock=clock)
    budget.observe(
        CIMultiDict({"x-ratelimit-limit": "1", "x-ratelimit-remaining": "0"})
    )
    assert budget.limit == 1
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    with patch("asyncio.sleep", record):
        await budget.acquire()
    assert waits == [60.0]


async def test_real_waiting_is_short_and_ordered() -> None:
    """With the real clock, a full budget delays the next request by the window."""
    budget = RequestBudget(1, 0.05)
    loop = asyncio.get_running_loop()
    start = loop.time()
    await budget.acquire()
    await budget.acquire()
    assert loop.time() - start >= 0.04
