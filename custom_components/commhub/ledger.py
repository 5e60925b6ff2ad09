"""The keys an entry has already reported, durable before anything is fired.

One ledger per entry remembers keys (call uuids, message ids, report keys, content
keys) for a window, with a baseline time, a small JSON `position` for its owner and
daily counters. The owner's protocol:

    fresh = ledger.claim(keys, stamp)     # in memory: the keys not known before
    try:
        await ledger.async_commit()       # written before it returns
    except LedgerError:
        ledger.release(fresh)             # reported again next time
        raise
    ... fire the events of `fresh` ...

On disk, next to Home Assistant's Store files in `.storage/`:

- `<key>`: a snapshot, written through a `Store` (version 2, atomic):
  `{"generation": g, "baseline_at": iso | None, "position": {...},
  "counters": {name: {"day": "YYYY-MM-DD", "count": n}}, "keys": {key: stamp},
  "escaped_keys": {json(key): stamp}}`. Keys that are not valid UTF-8 (lone
  surrogates) sit in `escaped_keys` as their JSON text; `position` is that text too
  when it holds such strings.
- `<key>.journal.<n>`: append-only JSON lines, each one commit: `keys` added (with
  their stamps), `drop` (released keys) and, when they changed, `baseline_at`,
  `position` and `counters`. The snapshot holds every journal numbered below its
  generation; loading replays the others in order, skipping a torn line.

A commit appends only what changed since the last one, in the executor; callers
arriving while a write runs share the next one. A written commit survives Home
Assistant crashing or restarting (it is the operating system's to write out, as
every Store file is). The journal is flushed to the disk (fdatasync) in the
background within `SYNC_DELAY` of a write and when the ledger closes, as the
recorder commits in batches: a power cut loses at most that last stretch, and SD
cards are not worn by one flush per delivery, nor webhooks kept waiting on it.

When the journals hold more entries than the ledger has keys (and at least
`COMPACT_AFTER`), a snapshot is written in the background and the journals it holds
are deleted.

The snapshot form, also what `async_load`'s `migrate` returns for a legacy payload:
`{"baseline_at": ..., "position": {...}, "counters": {...}, "keys": {key: stamp}}`.
"""

import asyncio
from collections.abc import Callable, Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass
from datetime import date, datetime, timedelta
import json
import logging
import os
from pathlib import Path
import time
from typing import Any

from homeassistant.core import CALLBACK_TYPE, HassJob, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.event import async_call_later
from homeassistant.helpers.storage import STORAGE_DIR, Store
import orjson

from .stored import stored_time

_LOGGER = logging.getLogger(__name__)

STORAGE_VERSION = 2  # version 1 is the legacy ledgers' whole-Store payload
# Forgetting expired keys walks them all: once a minute is enough.
PRUNE_EVERY = 60.0
# Journal entries (keys, drops and lines) below which no snapshot is taken.
COMPACT_AFTER = 10_000
# Seconds from a write to the flush of the journal to the disk.
SYNC_DELAY = 1.0

type Migrate = Callable[[dict[str, Any]], dict[str, Any] | None]
type CounterState = tuple[date | None, int]


class LedgerError(HomeAssistantError):
    """A commit did not reach the disk, or the ledger is closed."""


@dataclass(slots=True)
class DailyCounter:
    """A count for one local day; another day starts from zero."""

    day: date | None = None
    count: int = 0

    def count_on(self, today: date) -> int:
        """The count of `today` (0 if the count is of another day)."""
        return self.count if self.day == today else 0

    def add(self, n: int, today: date) -> None:
        """Add `n` to today's count."""
        self.count = self.count_on(today) + n
        self.day = today

    def state(self) -> CounterState:
        """What `restore` takes back, e.g. after a failed commit."""
        return self.day, self.count

    def restore(self, state: CounterState) -> None:
        """Return to a `state()`."""
        self.day, self.count = state


class _Group(asyncio.Future[None]):
    """The outcome of one write, awaited by every caller it carries.

    A cancelled caller must not cancel the others' write: the future refuses
    cancellation, and the caller's task is cancelled once the write is done.
    """

    def cancel(self, msg: object = None) -> bool:
        """Refuse: others wait for this write too."""
        return False


@dataclass(frozen=True, slots=True)
class _Batch:
    """What one write appends, and what it changed, to undo if it fails."""

    line: bytes  # empty when nothing changed
    adds: dict[str, float]
    drops: set[str]
    meta: bytes  # the JSON of baseline, position and counters after this write
    entries: int


class _SnapshotStore(Store[dict[str, Any]]):
    """The snapshot's Store; it turns a legacy (version 1) payload into a snapshot."""

    legacy: Migrate | None = None

    async def _async_migrate_func(
        self, old_major_version: int, old_minor_version: int, old_data: Any
    ) -> dict[str, Any]:
        """The snapshot form of a legacy payload; {} when it is unusable."""
        converted = self.legacy(old_data) if self.legacy else None
        return converted or {}


class _Journal:
    """The numbered journal files of one ledger; file I/O runs in the executor."""

    def __init__(self, directory: Path, key: str) -> None:
        """No file is opened before the first append."""
        self.directory = directory
        self.prefix = f"{key}.journal."
        # Where appends go; the event loop moves it on (compaction, failed write).
        self.generation = 0
        self._fd: int | None = None
        self._fd_generation = -1
        self._size = 0

    def path(self, generation: int) -> Path:
        """The file of a generation."""
        return self.directory / f"{self.prefix}{generation}"

    def files(self) -> dict[int, Path]:
        """The journal files on disk, by generation."""
        try:
            names = os.listdir(self.directory)
        except FileNotFoundError:
            return {}
        found: dict[int, Path] = {}
        for name in names:
            number = name.removeprefix(self.prefix)
            if name.startswith(self.prefix) and number.isascii() and number.isdigit():
                found[int(number)] = self.directory / name
        return found

    def append(self, data: bytes) -> None:
        """Append; on failure raise, and later appends go to a new file."""
        try:
            _write_all(self._open(), data)
        except OSError:
            self._abandon()
            raise
        self._size += len(data)

    def sync(self) -> None:
        """Flush the appended lines to the disk; on failure raise, and move on."""
        if self._fd is None:
            return
        try:
            os.fdatasync(self._fd)
        except OSError:
            # What the failed flush held may be lost at a power cut: never add to it.
            self.generation += 1
            raise

    def _abandon(self) -> None:
        """After a failed append: undo what may have landed, move to a new file."""
        if self._fd is not None:
            # Best effort: a failed commit must not be replayed as if it had landed.
            with suppress(OSError):
                os.ftruncate(self._fd, self._size)
        # The file may still end in a torn line: never append after it.
        self.generation += 1

    def _open(self) -> int:
        """The file of the current generation, created (durably) if needed."""
        if self._fd is not None and self._fd_generation == self.generation:
            return self._fd
        self.close()
        self.directory.mkdir(parents=True, exist_ok=True)
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC
        self._fd = os.open(self.path(self.generation), flags, 0o644)
        self._fd_generation = self.generation
        self._size = os.fstat(self._fd).st_size
        # The new name must survive a crash as well as what is written to it.
        directory = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
        return self._fd

    def close(self) -> None:
        """Flush and close the open file, if any."""
        if self._fd is not None:
            with suppress(OSError):  # a failed append may have left it unflushable
                os.fdatasync(self._fd)
            os.close(self._fd)
            self._fd = None

    def replay(self, since: int) -> tuple[list[dict[str, Any]], int]:
        """The records of generations `since` and later; the first free generation.

        Older files are held by the snapshot: they are deleted.
        """
        self.delete_below(since)
        records: list[dict[str, Any]] = []
        files = self.files()
        for generation in sorted(files):
            records.extend(_records(files[generation].read_bytes()))
        return records, max([since, *(n + 1 for n in files)])

    def delete_below(self, generation: int | None) -> None:
        """Delete the files of generations below `generation` (None: all)."""
        for number, path in self.files().items():
            if generation is None or number < generation:
                with suppress(OSError):
                    path.unlink()


class Ledger:
    """The keys an entry reported within a window, its baseline, position, counters."""

    def __init__(
        self, hass: HomeAssistant, key: str, window: timedelta = timedelta(hours=24)
    ) -> None:
        """An empty ledger; `async_load` reads what the Store key `key` holds."""
        self.hass = hass
        self.key = key
        self.window = window
        self.baseline_at: datetime | None = None
        self.position: dict[str, Any] = {}
        self._keys: dict[str, float] = {}
        self._counters: dict[str, DailyCounter] = {}
        self._store = _SnapshotStore(
            hass,
            STORAGE_VERSION,
            key,
            atomic_writes=True,
            serialize_in_event_loop=False,
        )
        self._journal = _Journal(Path(hass.config.path(STORAGE_DIR)), key)
        self._pending: dict[str, float] = {}  # remembered, not yet handed to a write
        self._drops: set[str] = set()  # released, maybe on disk: to drop there
        self._failed: set[str] = set()  # their write failed: not on disk
        self._meta_sent = b""  # the meta of the last write started
        self._meta_durable = b""  # the meta of the last write that landed
        self._journaled = 0  # journal entries the snapshot does not hold
        self._pruned_at = 0.0
        self._group: asyncio.Future[None] | None = None  # waiting for the next write
        self._writing: asyncio.Future[None] | None = None  # the write running
        self._writer: asyncio.Task[None] | None = None
        self._sync_due = False  # a flush is to run when no write waits
        self._cancel_sync: CALLBACK_TYPE | None = None  # the flush's timer
        self._compaction: asyncio.Task[None] | None = None
        self._closed = False

    def __len__(self) -> int:
        """How many keys are remembered."""
        return len(self._keys)

    async def async_load(self, migrate: Migrate | None = None) -> bool:
        """Read the snapshot and replay the journals; whether a ledger was stored.

        `migrate` turns a legacy payload (Store version 1) into the snapshot form
        (see the module's docstring); None means it is unusable.
        """
        self._store.legacy = migrate
        snapshot = await self._store.async_load()
        usable = isinstance(snapshot, dict) and bool(snapshot)
        if isinstance(snapshot, dict):
            self._apply(snapshot)
        since = _whole(snapshot.get("generation")) if isinstance(snapshot, dict) else 0
        records, generation = await self.hass.async_add_executor_job(
            self._journal.replay, since
        )
        self._journaled = sum(self._apply(record) for record in records)
        self._journal.generation = generation
        self.prune(time.time())
        self._meta_sent = self._meta_durable = _encode(self._meta())
        return usable or bool(records)

    def knows(self, key: str) -> bool:
        """Whether the key is remembered."""
        return key in self._keys

    def claim(self, keys: Iterable[str], stamp: float) -> list[str]:
        """Remember the keys at `stamp`; return those not known before, in order."""
        if stamp - self._pruned_at >= PRUNE_EVERY:
            self.prune(stamp)
        known, pending = self._keys, self._pending
        fresh = []
        for key in keys:
            if key not in known:
                known[key] = pending[key] = stamp
                fresh.append(key)
        return fresh

    def remember(self, items: Mapping[str, float]) -> None:
        """Remember keys with their own stamps, known or not."""
        self._keys.update(items)
        self._pending.update(items)

    def release(self, keys: Iterable[str]) -> None:
        """Forget keys (their events were not fired): they are fresh again."""
        for key in keys:
            if self._keys.pop(key, None) is None:
                continue
            self._failed.discard(key)
            if self._pending.pop(key, None) is None:
                self._drops.add(key)

    def counter(self, name: str) -> DailyCounter:
        """The daily counter `name` (saved with the next commit)."""
        return self._counters.setdefault(name, DailyCounter())

    def prune(self, now: float) -> None:
        """Forget the keys stamped before the window that ends at `now`."""
        oldest = now - self.window.total_seconds()
        self._keys = {
            key: stamp for key, stamp in self._keys.items() if stamp >= oldest
        }
        self._failed &= self._keys.keys()
        self._pruned_at = now

    async def async_commit(self) -> None:
        """Return once every change so far is on disk; raise LedgerError if not.

        Callers arriving while a write runs share the next one. Without changes
        nothing is written (but a write that may hold the caller's is waited for).
        """
        if self._closed:
            raise LedgerError(f"The ledger {self.key} is closed")
        if (
            not (self._pending or self._drops)
            and _encode(self._meta()) == self._meta_sent
        ):
            if self._writing is not None:
                await self._writing
            return
        if (group := self._group) is None:
            group = self._group = _Group(loop=self.hass.loop)
        self._start_writer()
        await group

    async def async_close(self) -> None:
        """Finish the writes under way, snapshot the journals; nothing is written later.

        Changes not committed yet are not saved. Call it from the entry's unload.
        """
        self._closed = True
        self._stop_sync_timer()
        await self._drain()
        if self._journaled:
            await self._compact(*self._rotate())
        await self.hass.async_add_executor_job(self._journal.close)

    async def async_remove(self) -> None:
        """Delete the ledger's files (the entry is removed); nothing is written later."""
        self._closed = True
        self._stop_sync_timer()
        await self._drain()
        await self.hass.async_add_executor_job(self._journal.close)
        await self._store.async_remove()
        await self.hass.async_add_executor_job(self._journal.delete_below, None)

    async def _drain(self) -> None:
        """Wait for the writes and the compaction under way."""
        while tasks := {t for t in (self._writer, self._compaction) if t is not None}:
            await asyncio.wait(tasks)

    def _start_writer(self) -> None:
        """Run the writes (and flushes) that are due, if nothing runs them yet."""
        if self._writer is None:
            self._writer = self.hass.async_create_task(
                self._write_groups(), f"{self.key} ledger writes", eager_start=False
            )

    async def _write_groups(self) -> None:
        """One write per group of waiting callers, then a flush if one is due.

        Writes and flushes run one at a time: the journal file is never flushed
        while an append moves it on to a new one.
        """
        try:
            while True:
                if (group := self._group) is not None:
                    self._group = None
                    self._writing = group
                    await self._write_group(group)
                    self._writing = None
                elif self._sync_due:
                    self._sync_due = False
                    await self._sync()
                else:
                    return
        finally:
            self._writer = self._writing = None

    @callback
    def _sync_soon(self, _now: datetime) -> None:
        """The flush's delay is over: run it once no write waits."""
        self._cancel_sync = None
        self._sync_due = True
        self._start_writer()

    def _stop_sync_timer(self) -> None:
        """No timed flush: closing flushes instead."""
        if self._cancel_sync is not None:
            self._cancel_sync()
            self._cancel_sync = None
        self._sync_due = False

    async def _sync(self) -> None:
        """Flush the journal; a failure is logged (the next snapshot holds the keys)."""
        try:
            await self.hass.async_add_executor_job(self._journal.sync)
        except OSError as err:
            _LOGGER.warning("Could not flush the journal of %s: %s", self.key, err)

    async def _write_group(self, group: asyncio.Future[None]) -> None:
        """Append what changed; settle the group's callers with the outcome."""
        try:
            batch = self._capture()
        except (TypeError, ValueError) as err:
            _fail(group, LedgerError(f"The position of {self.key} is not JSON: {err}"))
            return
        try:
            if batch.line:
                await self.hass.async_add_executor_job(self._journal.append, batch.line)
        except BaseException as err:
            self._undo(batch)
            failure = LedgerError(f"Could not write the journal of {self.key}: {err}")
            failure.__cause__ = err
            _fail(group, failure)
            if not isinstance(err, Exception):
                raise
            return
        self._landed(batch)
        group.set_result(None)

    def _capture(self) -> _Batch:
        """Take the changes not yet written; raises (changing nothing) if not JSON."""
        meta = self._meta()
        text = _encode(meta)
        record = meta if text != self._meta_sent else {}
        adds, self._pending = self._pending, {}
        drops, self._drops = self._drops, set()
        self._meta_sent = text
        if adds:
            record["keys"] = adds
        if drops:
            record["drop"] = sorted(drops)
        line = _encode(record) + b"\n" if record else b""
        return _Batch(line, adds, drops, text, 1 + len(adds) + len(drops))

    def _undo(self, batch: _Batch) -> None:
        """A write failed: its keys are not on disk, its drops and meta still due."""
        self._failed.update(batch.adds)
        self._drops |= batch.drops
        self._meta_sent = self._meta_durable

    def _landed(self, batch: _Batch) -> None:
        """A write landed: flush it soon; snapshot the journals past the bound."""
        self._failed.difference_update(batch.adds)
        self._meta_durable = batch.meta
        self._journaled += batch.entries
        if batch.line and self._cancel_sync is None and not self._closed:
            # Dropped at shutdown: the system writes the file out; nothing waits on it.
            self._cancel_sync = async_call_later(
                self.hass,
                SYNC_DELAY,
                HassJob(self._sync_soon, "flush the journal", cancel_on_shutdown=True),
            )
        if (
            not self._closed
            and self._compaction is None
            and self._journaled > max(COMPACT_AFTER, len(self._keys))
        ):
            self._compaction = self.hass.async_create_task(
                self._compact(*self._rotate()),
                f"{self.key} ledger snapshot",
                eager_start=False,
            )

    def _rotate(self) -> tuple[dict[str, Any], int, int]:
        """Start a new journal generation: the snapshot of the older ones.

        Called with no write running. Returns the snapshot, its generation and the
        entries it takes out of the journals.
        """
        generation = self._journal.generation + 1
        self._journal.generation = generation
        entries, self._journaled = self._journaled, 0
        return self._snapshot(generation), generation, entries

    async def _compact(
        self, snapshot: dict[str, Any], generation: int, entries: int
    ) -> None:
        """Write the snapshot; then delete the journals it holds."""
        try:
            if await self._save_snapshot(snapshot, generation):
                await self.hass.async_add_executor_job(
                    self._journal.delete_below, generation
                )
            else:
                self._journaled += entries
        finally:
            self._compaction = None

    async def _save_snapshot(self, snapshot: dict[str, Any], generation: int) -> bool:
        """Whether the snapshot is on disk (the Store logs a failed write, not raise)."""
        if self.hass.is_stopping:
            # The Store would write at the final write, after the ledger is closed.
            return False
        try:
            await self._store.async_save(snapshot)
            stored = await self._store.async_load()
        except (HomeAssistantError, OSError) as err:
            _LOGGER.warning("Could not write the snapshot of %s: %s", self.key, err)
            return False
        if isinstance(stored, dict) and stored.get("generation") == generation:
            return True
        _LOGGER.warning("The snapshot of %s did not land; journal kept", self.key)
        return False

    def _snapshot(self, generation: int) -> dict[str, Any]:
        """What is on disk as one Store payload (changes not written are left out)."""
        meta = json.loads(self._meta_durable)
        if not _is_utf8(json.dumps(meta["position"], ensure_ascii=False)):
            meta["position"] = json.dumps(meta["position"])
        keys: dict[str, float] = {}
        escaped: dict[str, float] = {}
        for key, stamp in self._keys.items():
            if key in self._pending or key in self._failed:
                continue
            if _is_utf8(key):
                keys[key] = stamp
            else:
                escaped[json.dumps(key)] = stamp
        return {"generation": generation, **meta, "keys": keys, "escaped_keys": escaped}

    def _meta(self) -> dict[str, Any]:
        """Baseline, position and counters, in their JSON form."""
        return {
            "baseline_at": self.baseline_at.isoformat() if self.baseline_at else None,
            "position": self.position,
            "counters": {
                name: {"day": counter.day.isoformat(), "count": counter.count}
                for name, counter in self._counters.items()
                if counter.day is not None
            },
        }

    def _apply(self, form: Mapping[str, Any]) -> int:
        """Apply a snapshot or journal record, skipping what is malformed; its size."""
        drops = form.get("drop")
        drops = (
            [key for key in drops if isinstance(key, str)]
            if isinstance(drops, list)
            else []
        )
        for key in drops:
            self._keys.pop(key, None)
        keys = _stamps(form.get("keys"))
        keys.update(_unescaped(form.get("escaped_keys")))
        self._keys.update(keys)
        if "baseline_at" in form:
            self.baseline_at = stored_time(form["baseline_at"])
        if "position" in form:
            self.position = _position(form["position"])
        if "counters" in form:
            stored = _counters(form["counters"])
            for name in self._counters.keys() | stored.keys():
                self.counter(name).restore(stored.get(name, (None, 0)))
        return 1 + len(drops) + len(keys)


def _encode(value: Any) -> bytes:
    """JSON in UTF-8; a lone surrogate, which UTF-8 cannot hold, as its escape."""
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError:
        return json.dumps(value).encode()


def _write_all(fd: int, data: bytes) -> None:
    """Write all of `data` (a write may take only part of it)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _fail(group: asyncio.Future[None], err: BaseException) -> None:
    """Raise `err` to the group's callers (retrieved: all of them may be gone)."""
    group.set_exception(err)
    group.exception()


def _records(data: bytes) -> list[dict[str, Any]]:
    """The JSON lines of a journal; a torn or damaged line is skipped."""
    records = []
    for line in data.split(b"\n"):
        with suppress(ValueError):
            if isinstance(record := json.loads(line), dict):
                records.append(record)
    return records


def _is_utf8(text: str) -> bool:
    """Whether the text encodes as UTF-8 (no lone surrogates), as orjson needs."""
    if text.isascii():
        return True
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _json(text: str) -> object:
    """The value of a JSON text; None if it is not JSON."""
    try:
        return json.loads(text)
    except ValueError:
        return None


def _is_number(value: object) -> bool:
    """Whether a stored value is a number (JSON true/false are not)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def _whole(value: object) -> int:
    """A stored non-negative int; 0 for anything else."""
    if isinstance(value, int) and not isinstance(value, bool):
        return max(value, 0)
    return 0


def _stamps(value: object) -> dict[str, float]:
    """The key → stamp pairs of a stored map."""
    if not isinstance(value, dict):
        return {}
    return {
        key: float(stamp)
        for key, stamp in value.items()
        if isinstance(key, str) and _is_number(stamp)
    }


def _unescaped(value: object) -> dict[str, float]:
    """The key → stamp pairs of a map whose keys are JSON texts."""
    return {
        key: stamp
        for text, stamp in _stamps(value).items()
        if isinstance(key := _json(text), str)
    }


def _position(value: object) -> dict[str, Any]:
    """A stored position: an object, or its JSON text (see `_snapshot`)."""
    if isinstance(value, str):
        value = _json(value)
    return value if isinstance(value, dict) else {}


def _counters(value: object) -> dict[str, CounterState]:
    """The stored counters' states, by name."""
    if not isinstance(value, dict):
        return {}
    states: dict[str, CounterState] = {}
    for name, raw in value.items():
        if not isinstance(raw, dict):
            continue
        try:
            day = date.fromisoformat(raw["day"])
        except KeyError, TypeError, ValueError:
            continue
        count = raw.get("count")
        if (
            isinstance(name, str)
            and isinstance(count, int)
            and not isinstance(count, bool)
        ):
            states[name] = (day, count)
    return states
