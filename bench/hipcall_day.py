"""A simulated day of a Hipcall account: missed calls by polling and by push.

Run from the repository root:

    .venv/bin/python -m bench.hipcall_day [--api {2021,v3}] [--push | --no-push]
                                          [--calls 300] [--missed 40]
                                          [--scan-interval 30] [--step 5]

A real Home Assistant runs in-process with the integration loaded from
custom_components/, its HTTP server on 127.0.0.1, against the sandbox on 127.0.0.1
(28 users). Time is frozen and moved forward in `--step` second steps (and to each
moment a call rings, is answered or hangs up), so a day passes in well under a
minute. The calls ring live in the sandbox: a call is listed once it has hung up,
and on the current API the sandbox posts `call_init` and `call_hangup` to the
entry's webhook (`--push`, the default) as Hipcall does.

Each API generation is run (both unless `--api` says one) over two days: a plain
one, and one with Home Assistant stopped from 13:00 to 13:20 and the API down (HTTP
503) from 16:00 to 16:30, with two of the missed calls in each of those windows.

Printed, per day:
- requests ÷ the rate-limit budget (30 per minute x the minutes of the day; goal
  ≤ 0.5), by endpoint, and per poll: call requests (a quiet poll should cost one)
  apart from user reads;
- missed-call delay: by push, call end → event in wall-clock time (goal p95 < 1 s);
  by polling, in simulated time as a fraction of the poll interval;
- 429 answers (goal 0);
- events ÷ missed calls (exactly 1.00), duplicates, and with push the webhook's
  answers and incoming-call events ÷ inbound calls rung.
Goals missed are warned about; the exit status is 1 only when a count is wrong
(events ÷ missed calls ≠ 1.00, a duplicate, a delivery refused), 2 when the entry
could not be set up.
"""

# First: make Home Assistant's clock functions patchable by freezegun, as the test
# plugin does before anything imports them.
from pytest_homeassistant_custom_component import (  # type: ignore[import-untyped]  # isort: skip
    patch_time,
)

import argparse
import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
import logging
import math
import random
import statistics
import sys
import tempfile
from typing import Any, cast
from unittest.mock import patch

from aiohttp import web
from aiohttp.test_utils import TestServer, unused_port
import freezegun
from freezegun import freeze_time
import freezegun.api
from freezegun.api import FrozenDateTimeFactory
from homeassistant import loader
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (  # type: ignore[import-untyped]
    MockConfigEntry,
    async_fire_time_changed,
    async_test_home_assistant,
)

from custom_components.commhub.const import DOMAIN, EVENT_MISSED_CALL
from custom_components.commhub.providers import PROVIDERS
from custom_components.commhub.providers.hipcall.coordinator import (
    EVENT_INCOMING_CALL,
    HipcallCoordinator,
    HipcallData,
)
from sandbox import Fault, Sandbox
from sandbox.hipcall import SEED_TOKEN
from sandbox.hipcall_v3 import Webhooks

from .hipmob_poll import Resolver, mark

BUDGET_PER_MINUTE = 30
BUDGET_GOAL = 0.5
PUSH_GOAL = 1.0  # seconds, p95 from call end to event
GENERATIONS = {"2021": "v20211124", "v3": "v3"}
WEBHOOK_ID = "bench-hipcall-webhook-id"
DAY_START = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)
# (start, end) after midnight: Home Assistant stopped, then the API failing.
STOPPED = (timedelta(hours=13), timedelta(hours=13, minutes=20))
OUTAGE = (timedelta(hours=16), timedelta(hours=16, minutes=30))
DAYS = (
    ("plain day", False),
    ("day with Home Assistant stopped 13:00-13:20 and the API down 16:00-16:30", True),
)
ANSWER_AFTER = timedelta(seconds=5)  # an answered call rings this long
# Which path fired an event: set around the coordinator's poll and webhook handler.
SOURCE: ContextVar[str] = ContextVar("source", default="other")
PUSH, POLL = "push", "poll"
CALL_LIST, CALL_DETAIL = "calls list", "call detail"
ENDPOINTS = (CALL_LIST, CALL_DETAIL, "users", "extensions", "other")


def wall_clock() -> float:
    """Real seconds (freezegun's original perf_counter: the frozen one stands still)."""
    return float(freezegun.api.real_perf_counter())


@dataclass(frozen=True, slots=True)
class Setup:
    """One run: an API generation, and whether Hipcall pushes to the webhook."""

    api: str
    push: bool

    @property
    def label(self) -> str:
        """How the report names it."""
        generation = GENERATIONS[self.api]
        if self.api == "2021":
            return f"2021 API ({generation}), polling"
        return f"current API ({generation}), " + (
            "push + polling" if self.push else "polling only"
        )


@dataclass(frozen=True, slots=True)
class PlannedCall:
    """A call of the day, as it will ring in the sandbox."""

    start: datetime
    end: datetime
    missed: bool
    reason: int  # missing_call_reason code (0: answered)
    direction: int
    user_id: int
    caller_number: str
    callee_number: str


@dataclass(frozen=True, slots=True)
class Fired:
    """A `commhub_missed_call` event, as the listener saw it."""

    uuid: str
    at: datetime  # simulated time
    wall: float  # wall_clock()
    catch_up: bool
    source: str


@dataclass(frozen=True, slots=True)
class Poll:
    """One run of the coordinator's poll."""

    at: datetime
    requests: Counter[str]
    ok: bool
    fired: int


@dataclass
class Day:
    """What one simulated day produced."""

    name: str
    missed: dict[str, datetime] = field(default_factory=dict)  # uuid → hung up at
    hung_up_wall: dict[str, float] = field(default_factory=dict)
    ended: list[datetime] = field(default_factory=list)  # every hang-up, in order
    fired: list[Fired] = field(default_factory=list)
    incoming: list[str] = field(default_factory=list)
    inbound_rung: set[str] = field(default_factory=set)  # while the entry was loaded
    requests: list[tuple[datetime, str]] = field(default_factory=list)
    polls: list[Poll] = field(default_factory=list)
    deliveries: Counter[int | None] = field(default_factory=Counter)
    throttled: int = 0
    loaded: bool = False

    def in_day(self) -> list[tuple[datetime, str]]:
        """The requests from midnight on (setup the evening before is not the day's)."""
        return [(at, kind) for at, kind in self.requests if at >= DAY_START]

    def day_polls(self) -> list[Poll]:
        """The polls from midnight on."""
        return [poll for poll in self.polls if poll.at >= DAY_START]

    def quiet_polls(self) -> list[Poll]:
        """The day's polls that succeeded with no call ended since the last success."""
        quiet, since = [], None
        for poll in self.polls:
            if not poll.ok:
                continue
            news = since is None or any(since < end <= poll.at for end in self.ended)
            if not news and poll.at >= DAY_START:
                quiet.append(poll)
            since = poll.at
        return quiet


def plan_calls(
    rng: random.Random,
    calls: int,
    missed: int,
    windows: tuple[tuple[timedelta, timedelta], ...] = (),
) -> list[PlannedCall]:
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
        reason = (1 if night else rng.choice(reasons)) if is_missed else 0
        planned.append(
            PlannedCall(
                start=start,
                end=start + timedelta(seconds=ring),
                missed=is_missed,
                reason=reason,
                direction=1 if is_missed else rng.choice([1, 1, 2, 3]),
                user_id=rng.randint(2, 29),
                caller_number=f"+90532{rng.randint(0, 9999999):07d}",
                callee_number="101",
            )
        )
    return planned


def schedule(plan: list[PlannedCall]) -> list[tuple[datetime, int, int]]:
    """(when, what, call index) in time order; what: 0 ring, 1 answer, 2 hang up."""
    actions = []
    for index, call in enumerate(plan):
        actions += [(call.start, 0, index), (call.end, 2, index)]
        if not call.missed:
            actions.append((call.start + ANSWER_AFTER, 1, index))
    return sorted(actions)


def endpoint(path: str) -> str:
    """What a sandbox request read: the call list, a call's detail, users, …."""
    parts = path.partition("/api/")[2].split("/")[1:]  # after the generation
    resource = parts[0] if parts else ""
    if resource in ("calls", "cdrs"):
        return CALL_LIST if len(parts) == 1 else CALL_DETAIL
    return resource if resource in ENDPOINTS else "other"


def request_clock(day: Day) -> Any:
    """A middleware noting the (simulated) time and endpoint of every Hipcall request."""

    @web.middleware
    async def middleware(
        request: web.Request,
        handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
    ) -> web.StreamResponse:
        if request.path.startswith("/hipcall/"):
            day.requests.append((dt_util.utcnow(), endpoint(request.path)))
        return await handler(request)

    return middleware


@contextmanager
def observed(day: Day) -> Iterator[None]:
    """Tell pushed events from polled ones, and count each poll's requests."""
    poll = HipcallCoordinator._async_poll
    handle = HipcallCoordinator.async_handle_webhook

    async def counted_poll(self: HipcallCoordinator) -> HipcallData:
        at, requests, events = dt_util.utcnow(), len(day.requests), len(day.fired)
        token, ok = SOURCE.set(POLL), False
        try:
            result = await poll(self)
            ok = True
            return result
        finally:
            SOURCE.reset(token)
            fired = sum(f.source == POLL for f in day.fired[events:])
            kinds = Counter(kind for _, kind in day.requests[requests:])
            day.polls.append(Poll(at, kinds, ok, fired))

    async def pushed(self: HipcallCoordinator, payload: dict[str, Any]) -> None:
        token = SOURCE.set(PUSH)
        try:
            await handle(self, payload)
        finally:
            SOURCE.reset(token)

    with (
        patch.object(HipcallCoordinator, "_async_poll", counted_poll),
        patch.object(HipcallCoordinator, "async_handle_webhook", pushed),
    ):
        yield


async def start_home_assistant(hass: HomeAssistant, *, push: bool) -> int | None:
    """HTTP on 127.0.0.1 (serving only for push), the integration: the port."""
    # What the `enable_custom_integrations` fixture does.
    hass.data.pop(loader.DATA_CUSTOM_COMPONENTS)
    port = unused_port()
    http = {"server_host": ["127.0.0.1"], "server_port": port}
    if not await async_setup_component(hass, "http", {"http": http}):
        return None
    if push:
        # Home Assistant serves once it has started; this one is started already.
        await hass.http.start()
    for domain in (DOMAIN, *PROVIDERS["hipcall"].platforms):
        if not await async_setup_component(hass, domain, {}):
            return None
    await hass.async_block_till_done()
    return port


class Simulation:
    """One day against one Home Assistant: the calls ring, the clock moves."""

    def __init__(
        self,
        args: argparse.Namespace,
        setup: Setup,
        hass: HomeAssistant,
        *,
        frozen: FrozenDateTimeFactory,
        sb: Sandbox,
        day: Day,
    ) -> None:
        self.args, self.setup, self.hass = args, setup, hass
        self.frozen, self.sb, self.day = frozen, sb, day
        self.plan: list[PlannedCall] = []
        self.uuids: dict[int, str] = {}
        self.entry: MockConfigEntry | None = None

    async def run(self, base_url: str, *, trouble: bool) -> None:
        """Set up the entry before the day starts, then let the day pass."""
        windows = (STOPPED, OUTAGE) if trouble else ()
        rng = random.Random(self.args.seed)
        self.plan = plan_calls(rng, self.args.calls, self.args.missed, windows)
        port = await start_home_assistant(self.hass, push=self.setup.push)
        if port is None or not await self.set_up_entry(base_url):
            return
        if self.setup.push:
            url = f"http://127.0.0.1:{port}/api/webhook/{WEBHOOK_ID}?kind=call"
            self.sb.hipcall.webhooks.configure(url=url)
        await self.live(self.timeline(trouble))

    async def set_up_entry(self, base_url: str) -> bool:
        """The listeners, then the entry (at 23:55 the day before: no history)."""
        self.hass.bus.async_listen(EVENT_MISSED_CALL, self.on_missed_call)
        self.hass.bus.async_listen(EVENT_INCOMING_CALL, self.on_incoming_call)
        generation = GENERATIONS[self.setup.api]
        self.entry = entry = MockConfigEntry(
            domain=DOMAIN,
            title="Hipcall (bench)",
            unique_id="hipcall:bench",
            minor_version=3,
            data={
                "service": "hipcall",
                "api_token": SEED_TOKEN,
                "base_url": f"{base_url}/hipcall/api/{generation}",
                "webhook_id": WEBHOOK_ID,
                "cloudhook": False,
            },
            options={"scan_interval": self.args.scan_interval},
        )
        entry.add_to_hass(self.hass)
        await self.hass.config_entries.async_setup(entry.entry_id)
        await self.hass.async_block_till_done()
        self.day.loaded = entry.state is ConfigEntryState.LOADED
        if not self.day.loaded:
            print(f"ERROR: the entry did not load: {entry.state} {entry.reason}")
        return self.day.loaded

    @callback
    def on_missed_call(self, event: Event) -> None:
        """Runs inside the firing call, so SOURCE tells push from poll."""
        self.day.fired.append(
            Fired(
                event.data["uuid"],
                dt_util.utcnow(),
                wall_clock(),
                event.data["catch_up"],
                SOURCE.get(),
            )
        )

    @callback
    def on_incoming_call(self, event: Event) -> None:
        """An inbound call rang (push only)."""
        self.day.incoming.append(event.data["uuid"])

    def timeline(self, trouble: bool) -> list[tuple[datetime, Callable[[], Any]]]:
        """What happens when: the calls' moments, then the trouble."""
        moments: list[tuple[datetime, Callable[[], Any]]] = [
            (at, self.call_action(what, index))
            for at, what, index in schedule(self.plan)
        ]
        if trouble:
            moments += [
                (DAY_START + STOPPED[0], self.stop),
                (DAY_START + STOPPED[1], self.start),
                (DAY_START + OUTAGE[0], self.break_api),
                (DAY_START + OUTAGE[1], self.sb.hipcall.clear_faults),
            ]
        return sorted(moments, key=lambda moment: moment[0])

    def call_action(self, what: int, index: int) -> Callable[[], None]:
        """Ring, answer or hang up the planned call `index`."""
        return lambda: (self.ring, self.answer, self.hang_up)[what](index)

    def ring(self, index: int) -> None:
        """The call starts ringing (call_init is posted)."""
        call = self.plan[index]
        data = self.sb.hipcall.ring_call(
            direction=call.direction,
            user_id=call.user_id,
            caller_number=call.caller_number,
            callee_number=call.callee_number,
        )
        self.uuids[index] = uuid = str(data["uuid"])
        if call.direction == 1 and self.setup.push and self.is_loaded():
            self.day.inbound_rung.add(uuid)

    def answer(self, index: int) -> None:
        """A user picks up."""
        self.sb.hipcall.answer_call(self.uuids[index])

    def hang_up(self, index: int) -> None:
        """The call ends (call_hangup is posted); a missed call is expected once."""
        call, uuid = self.plan[index], self.uuids[index]
        wall = wall_clock()
        self.sb.hipcall.hangup_call(uuid, reason=call.reason if call.missed else None)
        self.day.ended.append(dt_util.utcnow())
        if call.missed:
            self.day.missed[uuid] = dt_util.utcnow()
            self.day.hung_up_wall[uuid] = wall

    def is_loaded(self) -> bool:
        """Whether the entry (and so its webhook) is set up now."""
        return self.entry is not None and self.entry.state is ConfigEntryState.LOADED

    async def stop(self) -> None:
        """Home Assistant stops (the entry unloads; its webhook is gone)."""
        assert self.entry is not None
        await self.hass.config_entries.async_unload(self.entry.entry_id)

    async def start(self) -> None:
        """Home Assistant is back."""
        assert self.entry is not None
        await self.hass.config_entries.async_setup(self.entry.entry_id)

    def break_api(self) -> None:
        """Hipcall answers 503 until mended."""
        self.sb.hipcall.add_fault(Fault("error", status=503, count=None))

    async def live(self, moments: list[tuple[datetime, Callable[[], Any]]]) -> None:
        """Move through the day; stop at each step and at each moment due."""
        step = timedelta(seconds=self.args.step)
        end = DAY_START + timedelta(hours=self.args.hours)
        position = 0
        while (now := dt_util.utcnow()) < end:
            target = now + step
            if position < len(moments):
                target = min(target, moments[position][0])
            # Polls due now start first: a hang-up can race a poll, as it can live.
            self.advance_to(target)
            while position < len(moments) and moments[position][0] <= target:
                if asyncio.iscoroutine(done := moments[position][1]()):
                    await done
                position += 1
            await self.settle()
        # One more interval so calls that ended in the day's last seconds are seen.
        for _ in range(math.ceil(self.args.scan_interval / self.args.step) + 1):
            self.advance_to(dt_util.utcnow() + step)
            await self.settle()

    def advance_to(self, target: datetime) -> None:
        """Move the frozen clock and fire whatever timers became due."""
        self.frozen.tick(target - dt_util.utcnow())
        async_fire_time_changed(self.hass)

    async def settle(self) -> None:
        """Wait for the polls started, the webhooks posted and what they caused."""
        # Polls run as background tasks: wait for them, as the tests' next_poll does.
        await self.hass.async_block_till_done(wait_background_tasks=True)
        await answered(self.sb.hipcall.webhooks)
        await self.hass.async_block_till_done(wait_background_tasks=True)


async def answered(webhooks: Webhooks) -> None:
    """Until every post has its answer or error.

    Not `Webhooks.wait()`: it spins without yielding when a post has just ended.
    """
    # The sandbox gives no awaitable per delivery: yield until each has its answer.
    while any(  # noqa: ASYNC110
        d.attempted and d.status is None and d.error is None
        for d in webhooks.deliveries
    ):
        await asyncio.sleep(0)


async def simulate(
    args: argparse.Namespace, setup: Setup, name: str, *, trouble: bool
) -> Day:
    """Serve a fresh sandbox, run one day against a fresh Home Assistant."""
    sb = Sandbox()
    day = Day(name)
    app = sb.build_app()
    app.middlewares.insert(0, request_clock(day))
    server = TestServer(app, host="127.0.0.1", access_log=None)
    await server.start_server()
    base_url = str(server.make_url("")).rstrip("/")
    try:
        with ExitStack() as stack:
            stack.enter_context(
                patch(
                    "homeassistant.helpers.aiohttp_client._async_make_resolver",
                    return_value=Resolver(),
                )
            )
            stack.enter_context(observed(day))
            frozen = stack.enter_context(freeze_time(DAY_START - timedelta(minutes=5)))
            config_dir = stack.enter_context(
                tempfile.TemporaryDirectory(prefix="commhub-bench-")
            )
            async with async_test_home_assistant(config_dir=config_dir) as test_hass:
                hass = cast("HomeAssistant", test_hass)
                simulation = Simulation(
                    args,
                    setup,
                    hass,
                    frozen=cast("FrozenDateTimeFactory", frozen),
                    sb=sb,
                    day=day,
                )
                try:
                    await simulation.run(base_url, trouble=trouble)
                finally:
                    await hass.async_stop(force=True)
    finally:
        await server.close()
    day.throttled = sb.hipcall.throttled
    day.deliveries = Counter(d.status for d in sb.hipcall.webhooks.deliveries)
    return day


# -- the report ---------------------------------------------------------------------


@dataclass
class Verdict:
    """Goals missed (warned about) and counts wrong (the exit status)."""

    missed_goals: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def goal(self, ok: bool, what: str) -> str:
        """PASS, or MISS and a warning."""
        if not ok:
            self.missed_goals.append(what)
        return mark(ok)

    def check(self, ok: bool, what: str) -> str:
        """OK, or FAIL and a failure."""
        if not ok:
            self.failures.append(what)
        return "OK" if ok else "FAIL"


def spread(values: list[float]) -> tuple[float, float, float]:
    """p50, p95 and max."""
    if len(values) == 1:
        return values[0], values[0], values[0]
    p95 = statistics.quantiles(values, n=20, method="inclusive")[18]
    return statistics.median(values), p95, max(values)


def report_budget(
    args: argparse.Namespace, setup: Setup, day: Day, verdict: Verdict
) -> None:
    """Requests ÷ the day's budget, by endpoint and per poll."""
    requests = day.in_day()
    budget = BUDGET_PER_MINUTE * args.hours * 60
    used = len(requests)
    peak = busiest_minute([at for at, _ in requests])
    by_kind = Counter(kind for _, kind in requests)
    ok = used / budget <= BUDGET_GOAL
    print(
        f"    requests ÷ rate-limit budget: {used} ÷ {budget} = {used / budget:.3f}"
        f" (goal ≤ {BUDGET_GOAL}) {verdict.goal(ok, 'requests ÷ budget')};"
        f" busiest minute {peak} ÷ {BUDGET_PER_MINUTE} = {peak / BUDGET_PER_MINUTE:.2f}"
    )
    print(
        "      by endpoint: "
        + ", ".join(f"{kind} {by_kind[kind]}" for kind in ENDPOINTS)
    )
    report_polls(day, verdict, goal=setup.api == "v3")


def report_polls(day: Day, verdict: Verdict, *, goal: bool) -> None:
    """Call requests per poll and user reads; with server-side filters (`goal`) a
    quiet poll should cost one call request."""
    polls = day.day_polls()
    if not polls:
        return

    def calls(poll: Poll) -> int:
        return poll.requests[CALL_LIST] + poll.requests[CALL_DETAIL]

    def users(poll: Poll) -> int:
        return poll.requests["users"] + poll.requests["extensions"]

    quiet = day.quiet_polls()
    costs = Counter(calls(p) for p in quiet)
    ok = set(costs) <= {1}
    failed = sum(not p.ok for p in polls)
    print(
        f"    per poll ({len(polls)} polls, {failed} failed): call requests"
        f" {statistics.mean(calls(p) for p in polls):.3f},"
        f" user reads {statistics.mean(users(p) for p in polls):.3f}"
    )
    judged = (
        f" (goal: 1) {verdict.goal(ok, 'a quiet poll costs one call request')}"
        if goal
        else ""
    )
    print(
        f"      quiet polls (no call ended since the last poll): {len(quiet)},"
        f" call requests each {dict(sorted(costs.items()))}{judged}"
    )


def report_delays(args: argparse.Namespace, day: Day, verdict: Verdict) -> None:
    """Missed-call delay: by push in wall-clock time, by polling ÷ the interval."""
    known = [f for f in day.fired if f.uuid in day.missed]
    pushed = [f.wall - day.hung_up_wall[f.uuid] for f in known if f.source == PUSH]
    if pushed:
        p50, p95, top = spread(pushed)
        ok = p95 < PUSH_GOAL
        print(
            f"    missed-call delay by push (call end → event, wall clock):"
            f" p50 {p50 * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms, max {top * 1000:.1f} ms"
            f" over {len(pushed)} events (goal p95 < {PUSH_GOAL:.0f} s)"
            f" {verdict.goal(ok, 'push delay p95 < 1 s')}"
        )
    polled = [f for f in known if f.source == POLL]
    if not polled:
        return
    interval: int = args.scan_interval

    def share(fired: Fired) -> float:
        return (fired.at - day.missed[fired.uuid]).total_seconds() / interval

    p50, p95, top = spread([share(f) for f in polled])
    live = [share(f) for f in polled if not f.catch_up]
    without = ""
    if live and len(live) != len(polled):
        without = (
            f"; without catch-up p50 {statistics.median(live):.2f}, max {max(live):.2f}"
        )
    print(
        f"    missed-call delay by polling ÷ poll interval ({interval} s):"
        f" p50 {p50:.2f}, p95 {p95:.2f}, max {top:.2f} over {len(polled)} events"
        + without
    )


def report_events(day: Day, verdict: Verdict) -> None:
    """Events ÷ missed calls: exactly once each, whichever path fired it."""
    fired = [f.uuid for f in day.fired]
    duplicates = len(fired) - len(set(fired))
    unknown = len(set(fired) - day.missed.keys())
    found = len(set(fired) & day.missed.keys())
    ratio = found / len(day.missed) if day.missed else 1.0
    ok = found == len(day.missed) and not duplicates and not unknown
    sources = Counter(f.source for f in day.fired)
    print(
        f"    events ÷ missed calls: {found} ÷ {len(day.missed)} = {ratio:.2f}"
        f" (must be 1.00) {verdict.check(ok, f'{day.name}: events ÷ missed calls')};"
        f" duplicates {duplicates}, events for other calls {unknown};"
        f" by push {sources[PUSH]}, by polling {sources[POLL]},"
        f" catch-up {sum(f.catch_up for f in day.fired)}"
    )


def report_push(day: Day, verdict: Verdict) -> None:
    """The webhook's answers, and incoming-call events ÷ inbound calls rung."""
    answers = dict(sorted(day.deliveries.items(), key=lambda item: str(item[0])))
    refused = sum(n for status, n in day.deliveries.items() if status != 200)
    print(
        f"    webhook deliveries: {day.deliveries.total()}, answers {answers}"
        f" {verdict.check(not refused, f'{day.name}: deliveries not answered 200')}"
    )
    incoming = Counter(day.incoming)
    ok = set(incoming) == day.inbound_rung and all(n == 1 for n in incoming.values())
    rung = len(day.inbound_rung)
    print(
        f"    incoming-call events ÷ inbound calls rung with the entry loaded:"
        f" {len(incoming)} ÷ {rung} = {len(incoming) / rung if rung else 1.0:.2f}"
        f" (must be 1.00, no repeats) {verdict.check(ok, f'{day.name}: incoming calls')}"
    )


def report(args: argparse.Namespace, setup: Setup, day: Day, verdict: Verdict) -> None:
    """Print one day's figures."""
    print(f"  {day.name}:")
    if not day.loaded:
        verdict.failures.append(f"{setup.label}, {day.name}: the entry did not load")
        return
    report_budget(args, setup, day, verdict)
    report_delays(args, day, verdict)
    ok = day.throttled == 0
    print(f"    429 answers: {day.throttled} (goal 0) {verdict.goal(ok, '429s')}")
    report_events(day, verdict)
    if setup.push:
        report_push(day, verdict)


def busiest_minute(times: list[datetime]) -> int:
    """The most requests in any 60-second window."""
    times = sorted(times)
    best, start = 0, 0
    for end, when in enumerate(times):
        while when - times[start] >= timedelta(seconds=60):
            start += 1
        best = max(best, end - start + 1)
    return best


def setups(args: argparse.Namespace) -> list[Setup]:
    """The runs asked for: both generations unless one is named."""
    apis = [args.api] if args.api else list(GENERATIONS)
    push = args.push is not False
    return [Setup(api, push and api == "v3") for api in apis]


async def run(args: argparse.Namespace) -> int:
    """Simulate the days, print the report; the exit status."""
    print("CommHub Hipcall simulated day: real Home Assistant, sandbox on 127.0.0.1")
    print(
        f"  {args.calls} calls rung live, {args.missed} missed, 28 users; poll every"
        f" {args.scan_interval} s; clock moved in {args.step} s steps and to each"
        " ring, answer and hang-up"
    )
    verdict = Verdict()
    for setup in setups(args):
        print(f"{setup.label}:")
        for name, trouble in DAYS:
            day = await simulate(args, setup, name, trouble=trouble)
            report(args, setup, day, verdict)
    for goal in dict.fromkeys(verdict.missed_goals):
        print(f"WARNING: goal missed: {goal}")
    for failure in verdict.failures:
        print(f"ERROR: {failure}")
    if any("did not load" in failure for failure in verdict.failures):
        return 2
    return 1 if verdict.failures else 0


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
    """Parse the arguments and run the benchmark; exit 1 on a wrong count."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--api",
        choices=list(GENERATIONS),
        help="the API generation to run (default: both, one after the other)",
    )
    parser.add_argument(
        "--push",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="current API only: Hipcall posts call_init/call_hangup to the entry's"
        " webhook (default: on)",
    )
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--missed", type=int, default=40)
    parser.add_argument("--scan-interval", type=int, default=30)
    parser.add_argument("--step", type=float, default=5)
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--hours", type=int, default=24, help="length of the day")
    args = parser.parse_args()
    if not 0 <= args.missed <= args.calls or args.step <= 0:
        parser.error("need 0 <= --missed <= --calls and --step > 0")
    if args.api == "2021" and args.push is not None:
        parser.error("--push/--no-push apply to the current API (v3) only")
    logging.basicConfig(level=logging.CRITICAL)
    use_home_assistant_freezegun()
    sys.exit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
