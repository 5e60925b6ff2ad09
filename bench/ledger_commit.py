"""Ledger commits per second, as a ratio to claims that are never committed.

Run from the repository root:

    .venv/bin/python -m bench.ledger_commit [--commits 2000] [--concurrency 20]
                                            [--preload 0] [--rounds 3]

One real Home Assistant runs in-process with a temporary config directory, so the
files go to a real disk. `--concurrency` callers take `--commits` distinct keys
from one queue, each doing, per key:

- floor: `claim([key], now)` and a yield to the loop: the same loop, no commit;
- ledger: `claim` then `await async_commit()` (journal line written in the
  executor, callers arriving during a write sharing the next one; the flush to the
  disk follows within a second, in the background);
- old: `claim` into a dict, then the whole dict saved with `Store.async_save` per
  group of callers (the approach the ledger replaces; Store writes are not fsynced).

`--preload` keys are in each ledger before the round (a snapshot, for the ledger).
The median round is printed: commits/s, ratio to the floor, writes, p50/p99
latency of one claim + commit, and the event loop thread's CPU time per commit
(what competes with a webhook's HTTP handling). A measurement: the exit status is 0 whatever the
numbers.
"""

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
import logging
from pathlib import Path
import statistics
import sys
import tempfile
import time
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import STORAGE_DIR, Store

from custom_components.commhub.ledger import Ledger

FLOOR, LEDGER, OLD = "floor", "ledger", "old"


@dataclass(slots=True)
class Sample:
    """One target's share of one round."""

    seconds: float = 0.0
    loop_cpu: float = 0.0  # CPU seconds of the event loop's thread
    latencies: list[float] = field(default_factory=list)
    writes: int = 0

    @property
    def rate(self) -> float:
        """Commits (or claims, for the floor) per second."""
        return len(self.latencies) / self.seconds

    @property
    def cpu_us(self) -> float:
        """Event-loop CPU per commit (or claim), in µs."""
        return self.loop_cpu / len(self.latencies) * 1e6

    def quantile(self, q: int) -> float:
        """The q-th percentile latency, in ms."""
        cuts = statistics.quantiles(self.latencies, n=100, method="inclusive")
        return cuts[q - 1] * 1000


class WholeStoreLedger:
    """The old approach: the whole key map saved through a Store per caller group."""

    def __init__(self, hass: HomeAssistant, key: str) -> None:
        """An empty ledger saved under the Store key `key`."""
        self.hass = hass
        self.store: Store[dict[str, Any]] = Store(hass, 1, key)
        self.keys: dict[str, float] = {}
        self.writes = 0
        self._group: asyncio.Future[None] | None = None
        self._writer: asyncio.Task[None] | None = None

    def claim(self, key: str, stamp: float) -> bool:
        """Remember the key; whether it is new."""
        if key in self.keys:
            return False
        self.keys[key] = stamp
        return True

    async def commit(self) -> None:
        """Return once a save that started after this call has finished."""
        if (group := self._group) is None:
            group = self._group = self.hass.loop.create_future()
        if self._writer is None:
            self._writer = self.hass.async_create_task(self._write(), eager_start=False)
        await asyncio.shield(group)

    async def _write(self) -> None:
        while (group := self._group) is not None:
            self._group = None
            await self.store.async_save({"keys": self.keys})
            self.writes += 1
            group.set_result(None)
        self._writer = None


async def drive(
    keys: list[str], concurrency: int, step: Callable[[str], Awaitable[None]]
) -> Sample:
    """Run `step` once per key, `concurrency` callers at a time."""
    sample = Sample(latencies=[0.0] * len(keys))
    queue = iter(enumerate(keys))

    async def caller() -> None:
        for index, key in queue:
            start = time.perf_counter()
            await step(key)
            sample.latencies[index] = time.perf_counter() - start

    start, cpu = time.perf_counter(), time.thread_time()
    await asyncio.gather(*(caller() for _ in range(concurrency)))
    sample.seconds = time.perf_counter() - start
    sample.loop_cpu = time.thread_time() - cpu
    return sample


async def ledger_with(
    hass: HomeAssistant, key: str, preload: dict[str, float]
) -> Ledger:
    """A loaded ledger holding `preload` in its snapshot."""
    ledger = Ledger(hass, key)
    await ledger.async_load()
    if preload:
        ledger.remember(preload)
        await ledger.async_commit()
        await ledger.async_close()
        ledger = Ledger(hass, key)
        await ledger.async_load()
    return ledger


def journal_lines(hass: HomeAssistant, key: str) -> int:
    """Lines in the ledger's journals: one per write."""
    storage = Path(hass.config.path(STORAGE_DIR))
    return sum(
        path.read_bytes().count(b"\n") for path in storage.glob(f"{key}.journal.*")
    )


async def run_round(
    hass: HomeAssistant, args: argparse.Namespace, number: int
) -> dict[str, Sample]:
    """Floor, ledger and old approach on fresh ledgers, in an order that rotates."""
    now = time.time()
    preload = {f"preload-{number}-{i}": now for i in range(args.preload)}
    samples: dict[str, Sample] = {}
    order = [FLOOR, LEDGER, OLD]
    for target in order[number % 3 :] + order[: number % 3]:
        keys = [f"{target}-{number}-{i}" for i in range(args.commits)]
        key = f"bench.{target}.{number}"
        if target == OLD:
            old = WholeStoreLedger(hass, key)
            old.keys.update(preload)

            async def old_step(k: str, old: WholeStoreLedger = old) -> None:
                old.claim(k, time.time())
                await old.commit()

            samples[target] = await drive(keys, args.concurrency, old_step)
            samples[target].writes = old.writes
            continue
        ledger = await ledger_with(hass, key, preload)
        if target == FLOOR:

            async def floor_step(k: str, ledger: Ledger = ledger) -> None:
                ledger.claim([k], time.time())
                await asyncio.sleep(0)

            samples[target] = await drive(keys, args.concurrency, floor_step)
        else:

            async def ledger_step(k: str, ledger: Ledger = ledger) -> None:
                ledger.claim([k], time.time())
                await ledger.async_commit()

            samples[target] = await drive(keys, args.concurrency, ledger_step)
            samples[target].writes = await hass.async_add_executor_job(
                journal_lines, hass, key
            )
        await ledger.async_remove()
    return samples


def report(args: argparse.Namespace, rounds: list[dict[str, Sample]]) -> None:
    """Every round, then the median round (by the ledger's ratio to the floor)."""
    print(
        f"{args.commits} distinct keys, {args.concurrency} concurrent callers, "
        f"{args.preload} keys preloaded, {args.rounds} rounds"
    )
    for number, samples in enumerate(rounds, 1):
        for target, sample in samples.items():
            writes = f"{sample.writes:5d} writes" if target != FLOOR else " " * 12
            print(
                f"round {number} {target:6s} {sample.rate:9.0f}/s  {writes}  "
                f"p50 {sample.quantile(50):6.2f} ms  p99 {sample.quantile(99):6.2f} ms  "
                f"loop CPU {sample.cpu_us:5.1f} µs each"
            )
    median = sorted(rounds, key=lambda s: s[LEDGER].rate / s[FLOOR].rate)[
        len(rounds) // 2
    ]
    floor, ledger, old = median[FLOOR], median[LEDGER], median[OLD]
    print("median round:")
    print(
        f"  floor (claim, no commit): {floor.rate:.0f} claims/s, "
        f"loop CPU {floor.cpu_us:.1f} µs each"
    )
    print(
        f"  ledger: {ledger.rate:.0f} commits/s = {ledger.rate / floor.rate:.3f} x floor"
        f" ({args.commits / ledger.writes:.1f} commits per write, "
        f"loop CPU {ledger.cpu_us:.1f} µs each)"
    )
    print(
        f"  old (Store.async_save per group): {old.rate:.0f} commits/s = "
        f"{old.rate / floor.rate:.3f} x floor"
        f" ({args.commits / old.writes:.1f} commits per write, "
        f"loop CPU {old.cpu_us:.1f} µs each)"
    )
    print(f"  ledger ÷ old: {ledger.rate / old.rate:.2f}")


async def run(args: argparse.Namespace) -> None:
    """One Home Assistant in a temporary directory; the rounds; the report."""
    with tempfile.TemporaryDirectory(prefix="commhub-ledger-bench-") as config_dir:
        hass = HomeAssistant(config_dir)
        try:
            rounds = [await run_round(hass, args, n) for n in range(args.rounds)]
        finally:
            await hass.async_stop(force=True)
    report(args, rounds)


def main() -> None:
    """Parse the arguments and run."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--commits", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--preload", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if args.commits < 2 or args.concurrency < 1 or args.rounds < 1:
        parser.error("need --commits >= 2, --concurrency >= 1 and --rounds >= 1")
    logging.basicConfig(level=logging.ERROR)
    asyncio.run(run(args))
    sys.exit(0)


if __name__ == "__main__":
    main()
