"""A simulated day of a Hipcall account: missed-call detection against the sandbox.

Run from the repository root:

    .venv/bin/python -m bench.hipcall_day [--calls 300] [--missed 40]
                                          [--scan-interval 30] [--step 5]

A real Home Assistant runs in-process with the integration loaded from
custom_components/, against the sandbox on 127.0.0.1 (28 users). Time is frozen
and moved forward in `--step` second steps, so a whole day passes in well under a
minute; the sandbox shows a call once its end time has passed, exactly as the API
lists a call when it has ended. Two days are simulated: a plain one, and one with
Home Assistant stopped from 13:00 to 13:20 and the API down (HTTP 503) from 16:00
to 16:30, with two of the missed calls in each of those windows.

Printed, per day, as ratios to stated floors:
- detection delay (call end → event on the bus) p50 and p95 ÷ the poll interval
  (the floor is 0: a poll can at best see a call the moment it ends; an even
  spread of call ends over the interval gives p50 ≈ 0.5, p95 ≈ 0.95);
- requests ÷ the rate-limit budget (30 per minute x the minutes of the day; goal
  ≤ 0.5), and the busiest 60-second window ÷ 30;
- 429 answers (goal 0);
- events fired ÷ missed calls (goal exactly 1.00), duplicates (goal 0).
This is a measurement: the exit status is 0 whatever the numbers.
"""

# First: make Home Assistant's clock functions patchable by freezegun, as the test
# plugin does before anything imports them.
from pytest_homeassistant_custom_component import (  # type: ignore[import-untyped]  # isort: skip
    patch_time,
)

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
import logging
import math
import random
import statistics
import tempfile
from typing import Any, cast
from unittest.mock import patch

from aiohttp import web
from aiohttp.test_utils import TestServer
import freezegun
from freezegun import freeze_time
from freezegun.api import FrozenDateTimeFactory
from homeassistant import loader
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import Event, HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (  # type: ignore[import-untyped]
    MockConfigEntry,
    async_fire_time_changed,
    async_test_home_assistant,
)

from custom_components.commhub.const import DOMAIN, EVENT_MISSED_CALL
from custom_components.commhub.providers import PROVIDERS
from sandbox import Fault, Sandbox
from sandbox.hipcall import SEED_TOKEN

from .hipmob_poll import Resolver, mark

BUDGET_PER_MINUTE = 30
BUDGET_GOAL = 0.5
DAY_START = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)
# (start, end) after midnight: Home Assistant stopped, then the API failing.
STOPPED = (timedelta(hours=13), timedelta(hours=13, minutes=20))
OUTAGE = (timedelta(hours=16), timedelta(hours=16, minutes=30))


@dataclass
class Day:
    """What one simulated day produced."""

    name: str
    missed: dict[str, datetime] = field(default_factory=dict)  # uuid → ended_at
    fired: list[tuple[str, datetime, bool]] = field(default_factory=list)
    request_times: list[datetime] = field(default_factory=list)
    throttled: int = 0


def plan_calls(
    rng: random.Random,
    calls: int,
    missed: int,
    windows: tuple[tuple[timedelta, timedelta], ...] = (),
) -> list[dict[str, Any]]:
    """A shop's day: calls between 08:00 and 20:00, a few at night (out of hours).

    The first missed calls are placed two in each window.
    """
    reasons = [1, 2, 3, 3, 4]
    planned = []
    missed_at = sorted(rng.sample(range(calls), missed))
    forced = {
        index: windows[n // 2] for n, index in enumerate(missed_at[: 2 * len(windows)])
    }
    for index in range(calls):
        night = rng.random() < 0.05
        hour = rng.uniform(0, 7.5) if night else rng.uniform(8, 20)
        start = DAY_START + timedelta(hours=hour)
        if index in forced:
            night = False
            begin, end = forced[index]
            start = (
                DAY_START + begin + (end - begin - timedelta(minutes=2)) * rng.random()
            )
        is_missed = index in missed_at
        ring = rng.uniform(5, 90) if is_missed else rng.uniform(30, 900)
        planned.append(
            {
                "started_at": start,
                "ended_at": start + timedelta(seconds=ring),
                "missing_call": is_missed,
                "missing_call_reason": (1 if night else rng.choice(reasons))
                if is_missed
                else 0,
                "direction": 1 if is_missed else rng.choice([1, 1, 2, 3]),
                "user_id": rng.randint(2, 29),
                "caller_number": f"+90532{rng.randint(0, 9999999):07d}",
                "callee_number": "101",
            }
        )
    return planned


async def load_integration(hass: HomeAssistant) -> bool:
    """What the test fixtures do, then load the integration and its platforms."""
    hass.data.pop(loader.DATA_CUSTOM_COMPONENTS)
    for domain in (DOMAIN, *PROVIDERS["hipcall"].platforms):
        if not await async_setup_component(hass, domain, {}):
            print(f"WARNING: could not set up {domain}; nothing measured")
            return False
    await hass.async_block_till_done()
    return True


async def advance(
    hass: HomeAssistant, frozen: FrozenDateTimeFactory, seconds: float
) -> None:
    """Move the frozen clock and run whatever became due."""
    frozen.tick(timedelta(seconds=seconds))
    async_fire_time_changed(hass)
    # Polls run as background tasks: wait for them, as the tests' next_poll does.
    await hass.async_block_till_done(wait_background_tasks=True)


async def simulate(
    args: argparse.Namespace, sb: Sandbox, base_url: str, day: Day, *, trouble: bool
) -> None:
    """Run one day against a fresh Home Assistant; fill `day`."""
    rng = random.Random(args.seed)
    with freeze_time(DAY_START - timedelta(minutes=5)) as frozen:
        windows = (STOPPED, OUTAGE) if trouble else ()
        for planned in plan_calls(rng, args.calls, args.missed, windows):
            record = sb.hipcall.add_call(**planned)
            if planned["missing_call"]:
                day.missed[record["uuid"]] = planned["ended_at"]
        with tempfile.TemporaryDirectory(prefix="commhub-bench-") as config_dir:
            async with async_test_home_assistant(config_dir=config_dir) as test_hass:
                hass = cast("HomeAssistant", test_hass)
                try:
                    await run_day(
                        args,
                        hass,
                        cast("FrozenDateTimeFactory", frozen),
                        sb=sb,
                        base_url=base_url,
                        day=day,
                        trouble=trouble,
                    )
                finally:
                    await hass.async_stop(force=True)
    day.throttled = sb.hipcall.throttled


async def run_day(
    args: argparse.Namespace,
    hass: HomeAssistant,
    frozen: FrozenDateTimeFactory,
    *,
    sb: Sandbox,
    base_url: str,
    day: Day,
    trouble: bool,
) -> None:
    """Set up the entry before the day starts, then let the day pass."""
    if not await load_integration(hass):
        return

    def on_missed_call(event: Event) -> None:
        day.fired.append((event.data["uuid"], dt_util.utcnow(), event.data["catch_up"]))

    hass.bus.async_listen(EVENT_MISSED_CALL, on_missed_call)
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Hipcall (bench)",
        unique_id="bench",
        data={
            "service": "hipcall",
            "api_token": SEED_TOKEN,
            "base_url": f"{base_url}/hipcall/api/v20211124",
        },
        options={"scan_interval": args.scan_interval},
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    if entry.state is not ConfigEntryState.LOADED:
        print(f"WARNING: the entry did not load: {entry.state} {entry.reason}")
        return
    day.request_times.clear()  # the day's budget starts at midnight
    end = DAY_START + timedelta(hours=args.hours)
    while dt_util.utcnow() < end:
        await advance(hass, frozen, args.step)
        if trouble:
            await make_trouble(hass, entry, sb, dt_util.utcnow() - DAY_START, args.step)
    # One more interval so calls that ended in the day's last seconds are seen.
    for _ in range(math.ceil(args.scan_interval / args.step) + 1):
        await advance(hass, frozen, args.step)


async def make_trouble(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    sb: Sandbox,
    elapsed: timedelta,
    step: float,
) -> None:
    """Stop and start the entry, break and mend the API, at the planned times."""
    just = timedelta(seconds=step)
    if STOPPED[0] <= elapsed < STOPPED[0] + just:
        await hass.config_entries.async_unload(entry.entry_id)
    elif STOPPED[1] <= elapsed < STOPPED[1] + just:
        await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
    elif OUTAGE[0] <= elapsed < OUTAGE[0] + just:
        sb.hipcall.add_fault(Fault("error", status=503, count=None))
    elif OUTAGE[1] <= elapsed < OUTAGE[1] + just:
        sb.hipcall.clear_faults()


def request_clock(day: Day) -> Any:
    """A middleware noting the (simulated) time of every Hipcall request."""

    @web.middleware
    async def middleware(
        request: web.Request,
        handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
    ) -> web.StreamResponse:
        if request.path.startswith("/hipcall/"):
            day.request_times.append(dt_util.utcnow())
        return await handler(request)

    return middleware


def busiest_minute(times: list[datetime]) -> int:
    """The most requests in any 60-second window."""
    times = sorted(times)
    best, start = 0, 0
    for end, when in enumerate(times):
        while when - times[start] >= timedelta(seconds=60):
            start += 1
        best = max(best, end - start + 1)
    return best


def report(args: argparse.Namespace, day: Day) -> None:
    """Print one day's figures."""
    interval = args.scan_interval
    delays = [
        (when - day.missed[uuid]).total_seconds() / interval
        for uuid, when, _ in day.fired
        if uuid in day.missed
    ]
    live = [
        (when - day.missed[uuid]).total_seconds() / interval
        for uuid, when, catch_up in day.fired
        if uuid in day.missed and not catch_up
    ]
    fired = [uuid for uuid, _, _ in day.fired]
    duplicates = len(fired) - len(set(fired))
    unknown = len(set(fired) - day.missed.keys())
    budget = BUDGET_PER_MINUTE * args.hours * 60
    used = len(day.request_times)
    peak = busiest_minute(day.request_times)
    ratio = len(set(fired) & day.missed.keys()) / len(day.missed) if day.missed else 0
    print(f"{day.name}:")
    if delays:
        quantiles = (
            statistics.quantiles(delays, n=20) if len(delays) > 1 else delays * 19
        )
        print(
            f"  detection delay ÷ poll interval ({interval} s): p50 {statistics.median(delays):.2f},"
            f" p95 {quantiles[18]:.2f}, max {max(delays):.2f}"
            + (
                f"; without catch-up p50 {statistics.median(live):.2f}, max {max(live):.2f}"
                if live and len(live) != len(delays)
                else ""
            )
        )
    print(
        f"  requests ÷ rate-limit budget: {used} ÷ {budget} = {used / budget:.3f}"
        f" (goal ≤ {BUDGET_GOAL}) {mark(used / budget <= BUDGET_GOAL)};"
        f" busiest minute {peak} ÷ {BUDGET_PER_MINUTE} = {peak / BUDGET_PER_MINUTE:.2f}"
    )
    print(f"  429 answers: {day.throttled} (goal 0) {mark(day.throttled == 0)}")
    print(
        f"  events ÷ missed calls: {len(set(fired) & day.missed.keys())} ÷ {len(day.missed)}"
        f" = {ratio:.2f} (goal 1.00) {mark(ratio == 1 and not duplicates and not unknown)};"
        f" duplicates {duplicates}, events for other calls {unknown},"
        f" catch-up events {sum(1 for *_, c in day.fired if c)}"
    )


async def run(args: argparse.Namespace) -> None:
    """Simulate both days and print the report."""
    print("CommHub Hipcall simulated day: real Home Assistant, sandbox on 127.0.0.1")
    print(
        f"  {args.calls} calls, {args.missed} missed, 28 users; poll every"
        f" {args.scan_interval} s; clock moved in {args.step} s steps"
    )
    for name, trouble in (
        ("plain day", False),
        (
            "day with Home Assistant stopped 13:00-13:20 and the API down 16:00-16:30",
            True,
        ),
    ):
        sb = Sandbox()
        day = Day(name)
        app = sb.build_app()
        app.middlewares.insert(0, request_clock(day))
        server = TestServer(app, host="127.0.0.1", access_log=None)
        await server.start_server()
        try:
            with patch(
                "homeassistant.helpers.aiohttp_client._async_make_resolver",
                return_value=Resolver(),
            ):
                await simulate(
                    args, sb, str(server.make_url("")).rstrip("/"), day, trouble=trouble
                )
        finally:
            await server.close()
        report(args, day)


def use_home_assistant_freezegun() -> None:
    """The freezegun settings the test plugin applies before each test."""
    for name, value in {
        "FakeDate": patch_time.HAFakeDate,
        "datetime_to_fakedatetime": patch_time.ha_datetime_to_fakedatetime,
        "FakeDatetime": patch_time.HAFakeDatetime,
        "_get_module_attributes": patch_time.ha_get_module_attributes,
        "_get_module_attributes_hash": patch_time.ha_get_module_attributes_hash,
        "_should_use_real_time": patch_time.ha_should_use_real_time,
        "get_current_time": patch_time.ha_get_current_time,
    }.items():
        setattr(freezegun.api, name, value)


def main() -> None:
    """Parse the arguments and run the benchmark; always exit 0."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--missed", type=int, default=40)
    parser.add_argument("--scan-interval", type=int, default=30)
    parser.add_argument("--step", type=float, default=5)
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--hours", type=int, default=24, help="length of the day")
    args = parser.parse_args()
    if not 0 <= args.missed <= args.calls or args.step <= 0:
        parser.error("need 0 <= --missed <= --calls and --step > 0")
    logging.basicConfig(level=logging.CRITICAL)
    use_home_assistant_freezegun()
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
