"""Mobiniti webhook throughput and p99 latency, as ratios to a bare webhook.

Run from the repository root:

    .venv/bin/python -m bench.mobiniti_webhooks [--deliveries 2000]
                                                [--concurrency 20] [--rounds 9]
                                                [--duplicates 0.0]

One Home Assistant runs in-process with its real HTTP server on 127.0.0.1 and the
integration loaded from custom_components/; a Mobiniti entry (personal access
token, webhooks only) is set up against the sandbox. The same deliveries (a mix of
the six kinds of the Mobiniti document, each with distinct content) are posted over
HTTP, `--concurrency` in flight, to two webhooks of that server:

- the floor: a bare `webhook.async_register` handler that reads the JSON body and
  fires it on the bus, nothing else;
- CommHub: the entry's webhook, `/api/webhook/<id>?kind=<kind>`.

The targets take turns, in an order that alternates per round; the median round is
reported: deliveries/s, p50 and p99 latency, and CommHub ÷ floor for throughput and
p99. The speed figures have no pass mark. The exit status is 1 if a delivery was
not answered 200, or if the events fired are wrong: CommHub must fire exactly one
event per distinct delivery and none for a duplicate (`--duplicates`), the bare
handler one per delivery.
"""

import argparse
import asyncio
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
import copy
from dataclasses import dataclass, field
from datetime import datetime, timedelta
import json
import logging
import os
from pathlib import Path
import platform
import random
import statistics
import sys
import tempfile
import time
from typing import Any, cast
from unittest.mock import patch
import uuid

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer, unused_port
from homeassistant import loader
from homeassistant.components import webhook
from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.const import __version__ as HA_VERSION
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (  # type: ignore[import-untyped]
    MockConfigEntry,
    async_test_home_assistant,
)

from custom_components.commhub.const import DOMAIN
from custom_components.commhub.ledger import _Journal
from custom_components.commhub.providers import PROVIDERS
from custom_components.commhub.providers.mobiniti.coordinator import (
    MobinitiCoordinator,
)
from custom_components.commhub.providers.mobiniti.events import (
    CONTACT_STATUSES,
    WEBHOOK_KINDS,
)
from sandbox import Sandbox

from .hipmob_poll import Resolver, mark

TOKEN = "mobiniti-sandbox-token"
COMMHUB_WEBHOOK_ID = "bench-mobiniti-webhook-id"
BARE_WEBHOOK_ID = "bench-bare-webhook-id"
BARE_EVENT = "bench_bare"
FLOOR, COMMHUB = "floor", "commhub"
# The mix of kinds: an account mostly receives replies and delivery reports.
KIND_WEIGHTS = {
    "inbound_message": 40,
    "delivery_report": 35,
    "unsubscribe": 10,
    "contact_status": 6,
    "bounce": 5,
    "rejection": 4,
}
DELIVERY_CODES = ["100"] * 7 + ["104", "110", "120"]  # mostly delivered


@dataclass(frozen=True, slots=True)
class Delivery:
    """One POST: its kind, its JSON body, what identifies its event, if a repeat."""

    kind: str
    body: bytes
    identity: str
    duplicate: bool = False


@dataclass(slots=True)
class Sample:
    """One target's share of one round."""

    target: str
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    events: Counter[str] = field(default_factory=Counter)  # identity → times fired
    writes: int = 0  # the ledger's disk writes (CommHub only)
    write_seconds: float = 0.0
    keys: int = 0  # the ledger's keys at the end of the round
    size: int = 0  # characters of the ledger's last write in the round

    @property
    def rate(self) -> float:
        """Deliveries answered per second."""
        return len(self.latencies) / self.seconds

    def quantile(self, q: int) -> float:
        """The q-th percentile latency, in ms."""
        cuts = statistics.quantiles(self.latencies, n=100, method="inclusive")
        return cuts[q - 1] * 1000


@dataclass(slots=True)
class WriteProbe:
    """Counts and times the journal appends of one ledger (they run in the executor)."""

    key: str = ""
    writes: int = 0
    seconds: float = 0.0
    size: int = 0  # bytes of the last append

    def wrap(self, original: Callable[..., None]) -> Callable[..., None]:
        """`_Journal.append` (the write before the answer), counted."""

        def write(journal: _Journal, data: bytes) -> None:
            start = time.perf_counter()
            original(journal, data)
            if journal.prefix.startswith(f"{self.key}."):
                self.writes += 1
                self.seconds += time.perf_counter() - start
                self.size = len(data)

        return write


def mobiniti_time(at: datetime) -> str:
    """A time as the document writes it: `2016-07-01T15:11:09.553Z`."""
    return f"{at:%Y-%m-%dT%H:%M:%S}.{at.microsecond // 1000:03d}Z"


def identity_of(data: Mapping[str, Any]) -> str:
    """What tells one delivery's content from another's, in a payload or an event.

    Delivery reports: the message id; rejections: their text; the others: the
    contact id (`id` in a payload, `contact_id` in CommHub's event).
    """
    if "messages" in data:
        return str(data["messages"][0]["id"])
    for key in ("contact_id", "id", "message"):
        if key in data:
            return str(data[key])
    raise ValueError("no identity")


def make_payload(
    rng: random.Random, kind: str, template: dict[str, Any], serial: str, at: datetime
) -> dict[str, Any]:
    """A delivery of the document's shape for `kind`, its content unique."""
    payload = copy.deepcopy(template)
    unique = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    phone = f"+1202555{rng.randrange(10000):04d}"
    stamp = mobiniti_time(at)
    if kind == "delivery_report":
        code = rng.choice(DELIVERY_CODES)
        payload["statuses"][0].update(
            code=code, recipients=[phone[1:]], success=code == "100"
        )
        payload["messages"][0].update(id=unique, phone_number=phone[2:])
    elif kind == "rejection":
        payload["message"] = f"Flash sale {serial}: 20% off today only!"
    else:
        payload.update(id=unique, phone_number=phone, updated_at=stamp)
        if kind == "inbound_message":
            payload.update(received_at=stamp, message=f"Reply {serial}")
        elif kind == "unsubscribe":
            payload["unsubscribed_at"] = stamp
        elif kind == "contact_status":
            payload["status"] = rng.choice(CONTACT_STATUSES)
            if payload["status"] == "transferred":
                payload["previous_phone_number"] = f"+1202555{rng.randrange(10000):04d}"
        elif kind == "bounce":
            payload["bounces"] = rng.randint(1, 5)
    return payload


def plan_round(
    rng: random.Random,
    templates: Mapping[str, dict[str, Any]],
    args: argparse.Namespace,
    number: int,
) -> list[Delivery]:
    """The round's deliveries: distinct ones, and repeats placed after their original.

    A repeat comes later, as a retry would: `--concurrency` places or more after its
    original, unless that is past the end of the round (then it is last).
    """
    repeats = round(args.deliveries * args.duplicates)
    distinct = args.deliveries - repeats
    kinds = rng.choices(
        list(KIND_WEIGHTS), weights=list(KIND_WEIGHTS.values()), k=distinct
    )
    start = dt_util.utcnow() - timedelta(hours=1)
    placed: list[tuple[float, Delivery]] = []
    for index, kind in enumerate(kinds):
        at = start + timedelta(milliseconds=index * 50 + rng.randrange(50))
        payload = make_payload(rng, kind, templates[kind], f"r{number}-{index}", at)
        body = json.dumps(payload).encode()
        placed.append((index, Delivery(kind, body, identity_of(payload))))
    for _ in range(repeats):
        index = rng.randrange(distinct)
        original = placed[index][1]
        position = rng.uniform(min(index + args.concurrency, distinct), distinct)
        placed.append(
            (position, Delivery(original.kind, original.body, original.identity, True))
        )
    placed.sort(key=lambda item: item[0])
    return [delivery for _, delivery in placed]


async def post_all(
    session: aiohttp.ClientSession,
    url: str,
    deliveries: Sequence[Delivery],
    concurrency: int,
    sample: Sample,
) -> None:
    """POST every delivery, `concurrency` in flight; fill the sample's timings."""
    latencies = [0.0] * len(deliveries)
    queue = iter(enumerate(deliveries))
    headers = {"Content-Type": "application/json"}

    async def worker() -> None:
        for index, delivery in queue:
            start = time.perf_counter()
            try:
                async with session.post(
                    f"{url}?kind={delivery.kind}", data=delivery.body, headers=headers
                ) as response:
                    await response.read()
                    status = response.status
            except aiohttp.ClientError:
                status = 0
            latencies[index] = time.perf_counter() - start
            sample.statuses[status] += 1

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    sample.seconds = time.perf_counter() - start
    sample.latencies = latencies


async def bare_handler(
    hass: HomeAssistant, webhook_id: str, request: web.Request
) -> None:
    """The floor: read the JSON body, fire it on the bus (answered 200)."""
    hass.bus.async_fire(BARE_EVENT, await request.json())


async def start_home_assistant(hass: HomeAssistant) -> int | None:
    """HTTP on 127.0.0.1, webhooks, the integration: the server's port."""
    # What the `enable_custom_integrations` fixture does.
    hass.data.pop(loader.DATA_CUSTOM_COMPONENTS)
    port = unused_port()
    http = {"server_host": ["127.0.0.1"], "server_port": port}
    if not await async_setup_component(hass, "http", {"http": http}):
        return None
    # Home Assistant serves once it has started; this one is started already.
    await hass.http.start()
    for domain in ("webhook", DOMAIN, *PROVIDERS["mobiniti"].platforms):
        if not await async_setup_component(hass, domain, {}):
            return None
    await hass.async_block_till_done()
    return port


async def run(args: argparse.Namespace) -> int:
    """Serve the sandbox, run Home Assistant, measure; the exit status."""
    sb = Sandbox()
    server = TestServer(sb.build_app(), host="127.0.0.1", access_log=None)
    await server.start_server()
    probe = WriteProbe()
    try:
        with (
            tempfile.TemporaryDirectory(prefix="commhub-bench-") as config_dir,
            patch(
                "homeassistant.helpers.aiohttp_client._async_make_resolver",
                return_value=Resolver(),
            ),
            patch.object(_Journal, "append", probe.wrap(_Journal.append)),
        ):
            async with async_test_home_assistant(config_dir=config_dir) as test_hass:
                hass = cast("HomeAssistant", test_hass)
                try:
                    return await bench(
                        hass,
                        args,
                        sb=sb,
                        base_url=str(server.make_url("")).rstrip("/"),
                        probe=probe,
                    )
                finally:
                    await hass.async_stop(force=True)
    finally:
        await server.close()


async def bench(
    hass: HomeAssistant,
    args: argparse.Namespace,
    *,
    sb: Sandbox,
    base_url: str,
    probe: WriteProbe,
) -> int:
    """Set up both webhooks, run the rounds, print the report."""
    port = await start_home_assistant(hass)
    if port is None:
        print("ERROR: could not set up Home Assistant's HTTP server or the integration")
        return 2
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Mobiniti (bench)",
        unique_id="bench",
        data={
            "service": "mobiniti",
            "access_token": TOKEN,
            "base_url": f"{base_url}/mobiniti",
            "webhook_id": COMMHUB_WEBHOOK_ID,
            "cloudhook": False,
        },
        options={"scan_interval": 60, "polling": False},
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    if entry.state is not ConfigEntryState.LOADED:
        print(f"ERROR: the entry did not load: {entry.state} {entry.reason}")
        return 2
    coordinator = cast("ConfigEntry[MobinitiCoordinator]", entry).runtime_data
    probe.key = f"{DOMAIN}.mobiniti_events.{entry.entry_id}"
    webhook.async_register(
        hass, "bench", "bare", BARE_WEBHOOK_ID, bare_handler, allowed_methods=["POST"]
    )

    current: dict[str, Sample] = {}

    @callback
    def on_event(event: Event) -> None:
        target = FLOOR if event.event_type == BARE_EVENT else COMMHUB
        current[target].events[identity_of(event.data)] += 1

    for event_type in (BARE_EVENT, *(f"{DOMAIN}_{kind}" for kind in WEBHOOK_KINDS)):
        hass.bus.async_listen(event_type, on_event)

    urls = {
        FLOOR: f"http://127.0.0.1:{port}/api/webhook/{BARE_WEBHOOK_ID}",
        COMMHUB: f"http://127.0.0.1:{port}/api/webhook/{COMMHUB_WEBHOOK_ID}",
    }
    templates = {kind: sb.mobiniti.webhook_payload(kind) for kind in WEBHOOK_KINDS}
    rng = random.Random(args.seed)
    rounds: list[tuple[list[Delivery], dict[str, Sample]]] = []
    connector = aiohttp.TCPConnector(limit=args.concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        for number in range(args.rounds):
            deliveries = plan_round(rng, templates, args, number)
            order = (FLOOR, COMMHUB) if number % 2 == 0 else (COMMHUB, FLOOR)
            for target in order:
                sample = current[target] = Sample(target)
                writes, write_seconds = probe.writes, probe.seconds
                await post_all(
                    session, urls[target], deliveries, args.concurrency, sample
                )
                await hass.async_block_till_done()
                sample.writes = probe.writes - writes
                sample.write_seconds = probe.seconds - write_seconds
                sample.keys = len(coordinator.ledger)
                sample.size = probe.size
            rounds.append((deliveries, dict(current)))
    return report(args, rounds)


def expected_events(target: str, deliveries: Sequence[Delivery]) -> Counter[str]:
    """The floor fires every delivery; CommHub each distinct one, once."""
    return Counter(d.identity for d in deliveries if target == FLOOR or not d.duplicate)


def check(deliveries: Sequence[Delivery], sample: Sample) -> list[str]:
    """What is wrong with a target's answers and events in a round (nothing: [])."""
    problems = []
    if bad := {s: n for s, n in sample.statuses.items() if s != 200}:
        problems.append(f"{sum(bad.values())} deliveries not answered 200: {bad}")
    expected = expected_events(sample.target, deliveries)
    if sample.events != expected:
        missing = sum((expected - sample.events).values())
        extra = sum((sample.events - expected).values())
        problems.append(f"events: {missing} missing, {extra} extra")
    return problems


def report(
    args: argparse.Namespace,
    rounds: list[tuple[list[Delivery], dict[str, Sample]]],
) -> int:
    """Print the machine, the parameters, every round and the median round."""
    repeats = round(args.deliveries * args.duplicates)
    distinct = args.deliveries - repeats
    print("CommHub Mobiniti webhooks: real Home Assistant HTTP server on 127.0.0.1")
    print(
        f"  machine: {os.cpu_count()} CPUs ({cpu_model()}), Python"
        f" {platform.python_version()}, Home Assistant {HA_VERSION},"
        f" aiohttp {aiohttp.__version__}"
    )
    print(
        f"  {args.deliveries} deliveries per target and round ({distinct} distinct,"
        f" {repeats} repeats), {args.concurrency} in flight, {args.rounds} rounds,"
        f" seed {args.seed}"
    )
    mix = ", ".join(f"{kind} {weight}%" for kind, weight in KIND_WEIGHTS.items())
    print(f"  mix: {mix}")
    print(
        "  floor: a bare webhook.async_register handler that reads the JSON body and"
        " fires it"
    )
    print()
    header = (
        f"{'round':>5} {'target':<8} {'deliv/s':>8} {'p50 ms':>7} {'p99 ms':>7}"
        f" {'max ms':>7} {'events':>6} {'÷expected':>9} {'repeats fired':>13}"
        f" {'writes':>6} {'write ms':>8} {'keys':>6}"
    )
    print(
        "events ÷ expected: the floor fires every delivery, CommHub each distinct one"
        " once (goal 1.00);"
    )
    print(
        "writes, write ms, keys: the ledger's disk writes (their mean time in the"
        " executor) and its keys after the round"
    )
    print(header)
    print("-" * len(header))
    failures: list[str] = []
    for number, (deliveries, samples) in enumerate(rounds, 1):
        for target in (FLOOR, COMMHUB):
            s = samples[target]
            fired = sum(s.events.values())
            expected = sum(expected_events(target, deliveries).values())
            repeated = (
                str(sum(n - 1 for n in s.events.values() if n > 1))
                if target == COMMHUB
                else ""
            )
            writes = (
                f"{s.writes:>6} {s.write_seconds / s.writes * 1000:>8.2f} {s.keys:>6}"
                if target == COMMHUB and s.writes
                else f"{'':>6} {'':>8} {'':>6}"
            )
            line = (
                f"{number:>5} {target:<8} {s.rate:>8.0f} {s.quantile(50):>7.1f}"
                f" {s.quantile(99):>7.1f} {max(s.latencies) * 1000:>7.1f}"
                f" {fired:>6} {fired / expected:>9.2f} {repeated:>13} {writes}"
            )
            print(line.rstrip())
            failures += [f"round {number} {target}: {p}" for p in check(deliveries, s)]

    def throughput_ratio(item: tuple[list[Delivery], dict[str, Sample]]) -> float:
        return item[1][COMMHUB].rate / item[1][FLOOR].rate

    median = statistics.median_low(throughput_ratio(item) for item in rounds)
    number, (_, samples) = next(
        (n, item)
        for n, item in enumerate(rounds, 1)
        if throughput_ratio(item) == median
    )
    floor, commhub = samples[FLOOR], samples[COMMHUB]
    print()
    print(f"median round ({number}, by throughput ratio):")
    for s in (floor, commhub):
        print(
            f"  {s.target:<8} {s.rate:>6.0f} deliveries/s, p50 {s.quantile(50):.1f} ms,"
            f" p99 {s.quantile(99):.1f} ms"
        )
    print(
        f"  CommHub ÷ floor: throughput {median:.2f}, p99 latency"
        f" {commhub.quantile(99) / floor.quantile(99):.2f},"
        f" p50 latency {commhub.quantile(50) / floor.quantile(50):.2f}"
    )
    print(
        f"  CommHub events ÷ distinct deliveries:"
        f" {sum(commhub.events.values())} ÷ {distinct}"
        f" = {sum(commhub.events.values()) / distinct:.2f} (goal 1.00);"
        f" events for repeats {sum(n - 1 for n in commhub.events.values() if n > 1)}"
        f" (goal 0) {mark(not failures)}"
    )
    if commhub.writes:
        print(
            f"  CommHub ledger: {commhub.writes} disk writes for {args.deliveries}"
            f" deliveries ({commhub.writes / args.deliveries:.2f} per delivery),"
            f" {commhub.write_seconds / commhub.writes * 1000:.2f} ms each;"
            f" {commhub.keys} keys, {commhub.size / 1024:.0f} KiB in its last write"
        )
    for failure in failures:
        print(f"ERROR: {failure}")
    return 1 if failures else 0


def cpu_model() -> str:
    """The CPU's model name, where Linux tells it."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main() -> None:
    """Parse the arguments, run the benchmark, exit 1 on a wrong answer or count."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument(
        "--duplicates",
        type=float,
        default=0.0,
        help="share of the deliveries that repeat an earlier one (0 ≤ x < 1)",
    )
    parser.add_argument("--seed", type=int, default=20261123)
    args = parser.parse_args()
    if not 0 <= args.duplicates < 1:
        parser.error("--duplicates must be at least 0 and below 1")
    if args.concurrency < 1 or args.rounds < 1:
        parser.error("--concurrency and --rounds must be >= 1")
    if args.deliveries - round(args.deliveries * args.duplicates) < 2:
        parser.error("need at least 2 distinct deliveries")
    logging.basicConfig(level=logging.ERROR)
    sys.exit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
