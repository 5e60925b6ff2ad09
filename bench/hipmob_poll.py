"""Hipmob polling against the sandbox, as ratios to stated floors.

Run from the repository root:

    .venv/bin/python -m bench.hipmob_poll [--devices 100] [--latency-ms 50]
                                          [--cycles 5] [--users 2]

A real Home Assistant runs in-process with the integration loaded from
custom_components/; the sandbox is served on 127.0.0.1 with added latency. Per
poll cycle it prints requests ÷ API minimum (goal 1.00) and wall time ÷ floor
(goal ≤ 1.2), where floor = latency x ⌈requests ÷ concurrency bound⌉. This is a
measurement: the exit status is 0 whatever the numbers.
"""

import argparse
import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
import logging
import math
import statistics
import tempfile
import time
from typing import Any, cast
from unittest.mock import patch

from aiohttp import web
from aiohttp.resolver import AsyncResolver
from aiohttp.test_utils import TestServer
from homeassistant import loader
from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import (  # type: ignore[import-untyped]
    MockConfigEntry,
    async_test_home_assistant,
)

from custom_components.commhub.const import DOMAIN
from custom_components.commhub.providers import PROVIDERS
from custom_components.commhub.providers.hipmob.coordinator import HipmobCoordinator
from sandbox import Sandbox
from sandbox.hipmob import DEMO_USER, SEED_ACCOUNT, SEED_API_KEY, SEED_APP

REQUESTS_GOAL = 1.00
WALL_GOAL = 1.2


@dataclass(frozen=True, slots=True)
class Sample:
    """One measured stretch: the requests the sandbox saw and the time it took."""

    requests: int
    seconds: float
    peak: int  # most requests in flight at the sandbox at once
    connections: int  # connections the sandbox accepted meanwhile
    kinds: Counter[str]


@dataclass(frozen=True, slots=True)
class Floors:
    """What the ratios are taken against."""

    latency: float
    bound: int

    def wall(self, sample: Sample) -> float:
        """Least possible wall time: latency x ⌈requests ÷ bound⌉."""
        return self.latency * math.ceil(sample.requests / self.bound)

    def wall_ratio(self, sample: Sample) -> float:
        """Wall time ÷ floor."""
        floor = self.wall(sample)
        return sample.seconds / floor if floor else math.inf


class Resolver(AsyncResolver):
    """What the test plugin puts in place of HA's zeroconf-aware DNS resolver.

    HA's resolver needs the zeroconf and network integrations; the sandbox URL is
    an IP literal, which aiohttp never resolves, so no resolver is consulted.
    """

    async def real_close(self) -> None:
        """Close; HA calls this when it stops."""
        await self.close()


class Probe:
    """Watches the sandbox: requests in flight (latency included), connections."""

    def __init__(self) -> None:
        self.in_flight = 0
        self.peak = 0
        self.peers: set[object] = set()  # client (host, port): one per connection
        self.new_connections = 0

    @web.middleware
    async def middleware(
        self,
        request: web.Request,
        handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
    ) -> web.StreamResponse:
        """Track in-flight requests around the rest of the chain."""
        peer = request.transport and request.transport.get_extra_info("peername")
        if peer not in self.peers:
            self.peers.add(peer)
            self.new_connections += 1
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            return await handler(request)
        finally:
            self.in_flight -= 1


def kind(path: str) -> str:
    """Which endpoint a recorded request hit."""
    if path.startswith("/user/"):
        return "user"
    if path.endswith("/status"):
        return "status"
    if path.endswith("/messagecount"):
        return "msgcount"
    if "/devices/" in path:
        return "details"
    return "other"


def hipmob_entry(base_url: str, devices: list[str], users: list[str]) -> Any:
    """The entry tests/conftest.py's `hipmob_entry` builds (a MockConfigEntry)."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Hipmob Testing (femi)",
        unique_id=SEED_ACCOUNT,
        data={
            "service": "hipmob",
            "account": SEED_ACCOUNT,
            "api_key": SEED_API_KEY,
            "base_url": f"{base_url}/hipmob",
            "app": SEED_APP,
        },
        options={"scan_interval": 60, "devices": devices, "users": users},
    )


async def measure(
    sb: Sandbox, probe: Probe, action: Callable[[], Awaitable[Any]]
) -> Sample:
    """Run `action` against a cleared request log and measure it."""
    sb.hipmob.requests.clear()
    probe.peak = probe.new_connections = 0
    start = time.perf_counter()
    await action()
    seconds = time.perf_counter() - start
    recorded = sb.hipmob.requests
    kinds = Counter(kind(r.path) for r in recorded)
    return Sample(len(recorded), seconds, probe.peak, probe.new_connections, kinds)


def mark(ok: bool) -> str:
    """PASS or MISS."""
    return "PASS" if ok else "MISS"


async def run(args: argparse.Namespace) -> None:
    """Serve the sandbox, run Home Assistant against it, print the report."""
    sb = Sandbox()
    sb.hipmob.latency = args.latency_ms / 1000
    devices = [f"bench-device-{i:04d}" for i in range(args.devices)]
    for i, device_id in enumerate(devices):
        sb.hipmob.add_device(SEED_APP, device_id, online=i % 2 == 0)
    # Watched users: the seeded `tolu`, then as many more as asked for.
    users = [DEMO_USER, *(f"bench-user-{i}" for i in range(1, args.users))]
    users = users[: args.users]
    for username in users[1:]:
        sb.hipmob.add_user(SEED_ACCOUNT, username, "Bench", username)

    probe = Probe()
    app = sb.build_app()
    app.middlewares.insert(0, probe.middleware)  # outermost: around the latency
    server = TestServer(app, host="127.0.0.1", access_log=None)
    await server.start_server()
    base_url = str(server.make_url("")).rstrip("/")
    try:
        with (
            tempfile.TemporaryDirectory(prefix="commhub-bench-") as config_dir,
            patch(
                "homeassistant.helpers.aiohttp_client._async_make_resolver",
                return_value=Resolver(),
            ),
        ):
            async with async_test_home_assistant(config_dir=config_dir) as test_hass:
                hass = cast("HomeAssistant", test_hass)
                try:
                    await bench(
                        hass,
                        args,
                        sb=sb,
                        probe=probe,
                        base_url=base_url,
                        devices=devices,
                        users=users,
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
    probe: Probe,
    base_url: str,
    devices: list[str],
    users: list[str],
) -> None:
    """Set up the entry, run the poll cycles, print the report."""
    # What the `enable_custom_integrations` fixture does: let the loader find
    # custom_components/ (importable because we run from the repository root).
    hass.data.pop(loader.DATA_CUSTOM_COMPONENTS)
    # Load the integration, its platforms and their entity components first, so
    # that the timed setup is the entry's own work, not module imports.
    platforms = PROVIDERS["hipmob"].platforms
    for domain in (DOMAIN, *platforms):
        if not await async_setup_component(hass, domain, {}):
            print(f"WARNING: could not set up {domain}; nothing measured")
            return
    integration = await loader.async_get_integration(hass, DOMAIN)
    await integration.async_get_platforms([str(p) for p in platforms])
    await hass.async_block_till_done()

    mock_entry = hipmob_entry(base_url, devices, users)
    mock_entry.add_to_hass(hass)
    entry = cast("ConfigEntry[HipmobCoordinator]", mock_entry)

    async def set_up() -> None:
        await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()

    setup = await measure(sb, probe, set_up)
    if entry.state is not ConfigEntryState.LOADED:
        print(f"WARNING: the entry did not load: {entry.state} {entry.reason}")
        return
    coordinator = entry.runtime_data
    cycles: list[Sample] = []
    for _ in range(args.cycles):
        cycles.append(await measure(sb, probe, coordinator.async_refresh))
        if not coordinator.last_update_success:
            print(f"WARNING: a poll failed: {coordinator.last_exception!r}")
    floors = Floors(args.latency_ms / 1000, coordinator.client.max_concurrency)
    report(floors, len(devices), users, setup, cycles)


def report(
    floors: Floors, devices: int, users: list[str], setup: Sample, cycles: list[Sample]
) -> None:
    """Print the floors, the setup lines, the cycle table and the summary."""
    polled = sorted({*users, SEED_ACCOUNT})
    minimum = 2 * devices + len(polled)
    first_minimum = minimum + devices  # the first poll also reads each device once
    ms, bound = floors.latency * 1000, floors.bound
    print("CommHub Hipmob poll benchmark: real Home Assistant, sandbox on 127.0.0.1")
    print(f"  added latency {ms:g} ms per response; {devices} tracked devices")
    print(f"  watched users {users}; polled {polled} (watched + account)")
    print(f"  concurrency bound (client.max_concurrency): {bound}")
    print(
        f"  API minimum per cycle = 2 x {devices} devices (status, messagecount)"
        f" + {len(polled)} users = {minimum} requests"
    )
    print(
        "  floor = latency x ⌈requests ÷ bound⌉: at most"
        f" {bound} requests in flight, none answered sooner than {ms:g} ms"
    )
    print()
    print(
        f"setup: {setup.requests} requests ({fmt_kinds(setup.kinds)}),"
        f" ÷ first-poll minimum {first_minimum} (3 x {devices} + {len(polled)})"
        f" = {setup.requests / first_minimum:.2f}"
    )
    print(
        f"setup: {setup.seconds * 1000:.0f} ms wall; floor {ms:g} ms x"
        f" ⌈{setup.requests} ÷ {bound}⌉ = {floors.wall(setup) * 1000:.0f} ms;"
        f" ratio {floors.wall_ratio(setup):.2f}; peak in flight {setup.peak};"
        f" new connections {setup.connections}"
    )
    print()
    header = (
        f"{'cycle':>5} {'requests':>8} {'status':>6} {'msgcnt':>6} {'user':>4}"
        f" {'other':>5} {'req÷min':>7} {'wall ms':>8} {'floor ms':>8}"
        f" {'wall÷floor':>10} {'peak':>4} {'conns':>5}  goals (req, wall)"
    )
    print(header)
    print("-" * len(header))
    for number, c in enumerate(cycles, 1):
        status, count, user = c.kinds["status"], c.kinds["msgcount"], c.kinds["user"]
        print(
            f"{number:>5} {c.requests:>8} {status:>6} {count:>6} {user:>4}"
            f" {c.requests - status - count - user:>5} {c.requests / minimum:>7.2f}"
            f" {c.seconds * 1000:>8.0f} {floors.wall(c) * 1000:>8.0f}"
            f" {floors.wall_ratio(c):>10.2f} {c.peak:>4} {c.connections:>5}"
            f"  {mark(c.requests == minimum)} {mark(floors.wall_ratio(c) <= WALL_GOAL)}"
        )
    if not cycles:
        return
    requests_ok = all(c.requests == minimum for c in cycles)
    worst = max(c.requests / minimum for c in cycles)
    walls = [floors.wall_ratio(c) for c in cycles]
    wall_ok = max(walls) <= WALL_GOAL
    print()
    print(
        f"summary: requests ÷ minimum worst {worst:.2f} (goal {REQUESTS_GOAL:.2f})"
        f" {mark(requests_ok)}; wall ÷ floor median {statistics.median(walls):.2f},"
        f" worst {max(walls):.2f} (goal ≤ {WALL_GOAL}) {mark(wall_ok)};"
        f" setup {setup.seconds * 1000:.0f} ms = {floors.wall_ratio(setup):.2f} x floor"
    )
    if not requests_ok:
        print("WARNING: a cycle did not make exactly the API minimum of requests")
    if not wall_ok:
        print(f"WARNING: a cycle took more than {WALL_GOAL} x its floor")


def fmt_kinds(kinds: Counter[str]) -> str:
    """`100 details, 100 msgcount, ...` in a stable order."""
    return ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))


def main() -> None:
    """Parse the arguments and run the benchmark; always exit 0."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--devices", type=int, default=100)
    parser.add_argument("--latency-ms", type=float, default=50)
    parser.add_argument("--cycles", type=int, default=5)
    parser.add_argument("--users", type=int, default=2, help="watched users")
    args = parser.parse_args()
    if args.latency_ms <= 0:
        parser.error("--latency-ms must be > 0: the wall-time floor is made of it")
    if min(args.devices, args.users) < 0 or args.cycles < 1:
        parser.error("--devices and --users must be >= 0, --cycles >= 1")
    logging.basicConfig(level=logging.ERROR)
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
