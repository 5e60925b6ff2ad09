"""The shared ledger: keys durable before anything is fired, never lost, never twice."""

import asyncio
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
import json
import os
from pathlib import Path
import threading
import time
from typing import Any
from unittest.mock import AsyncMock, patch

from homeassistant.core import CoreState, HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.commhub import ledger as ledger_module
from custom_components.commhub.ledger import (
    SYNC_DELAY,
    DailyCounter,
    Ledger,
    LedgerError,
)

KEY = "commhub.test_ledger.entry"
NOW = 1_800_000_000.0  # epoch seconds, far from the wall clock on purpose
DAY = date(2027, 1, 15)
LONE = "\ud800"  # a lone surrogate: valid JSON, not valid UTF-8
real_write_all = ledger_module._write_all
real_fdatasync = os.fdatasync


@pytest.fixture(autouse=True)
def wall_clock() -> Any:
    """Loading forgets keys older than the window: make NOW the time of loading."""
    with patch.object(ledger_module.time, "time", return_value=NOW + 60):
        yield


def storage(hass: HomeAssistant) -> Path:
    """The `.storage` directory of the test's Home Assistant."""
    return Path(hass.config.path(".storage"))


def journals(hass: HomeAssistant) -> dict[str, list[str]]:
    """Each journal file's lines."""
    if not storage(hass).is_dir():
        return {}
    return {
        path.name: path.read_text().splitlines()
        for path in sorted(storage(hass).glob(f"{KEY}.journal.*"))
    }


def writes(hass: HomeAssistant) -> int:
    """Journal lines: one per write."""
    return sum(len(lines) for lines in journals(hass).values())


async def loaded(
    hass: HomeAssistant,
    migrate: Callable[[dict[str, Any]], dict[str, Any] | None] | None = None,
) -> Ledger:
    """A ledger of KEY, loaded."""
    ledger = Ledger(hass, KEY)
    await ledger.async_load(migrate)
    return ledger


async def commit_keys(ledger: Ledger, *keys: str, stamp: float = NOW) -> list[str]:
    """Claim and commit: the caller's protocol."""
    fresh = ledger.claim(keys, stamp)
    await ledger.async_commit()
    return fresh


class Gate:
    """Stands for the journal's write: holds each until opened, can fail some."""

    def __init__(
        self, failures: list[bool] | None = None, *, opened: bool = False
    ) -> None:
        """`failures[i]`: whether call i raises (after it is let through)."""
        self.entered = threading.Event()
        self.opened = threading.Event()
        if opened:
            self.opened.set()
        self.failures = failures or []

    def __call__(self, fd: int, data: bytes) -> None:
        """Wait to be opened; then fail or write."""
        self.entered.set()
        self.opened.wait(10)
        if self.failures and self.failures.pop(0):
            raise OSError(28, "No space left on device")
        real_write_all(fd, data)

    async def wait_entered(self, hass: HomeAssistant) -> None:
        """Until a write is held at the gate."""
        await hass.async_add_executor_job(self.entered.wait, 10)
        self.entered.clear()


class Flushes:
    """Stands for fdatasync: names the files flushed, can make some flushes fail."""

    def __init__(self, failures: list[bool] | None = None) -> None:
        """`failures[i]`: whether flush i raises."""
        self.files: list[str] = []
        self.failures = failures or []

    def __call__(self, fd: int) -> None:
        """Record the file; then fail or flush."""
        self.files.append(Path(os.readlink(f"/proc/self/fd/{fd}")).name)
        if self.failures and self.failures.pop(0):
            raise OSError(5, "Input/output error")
        real_fdatasync(fd)


async def later(hass: HomeAssistant, seconds: float) -> None:
    """Let `seconds` pass for Home Assistant's timers (from the patched clock)."""
    async_fire_time_changed(hass, dt_util.utc_from_timestamp(time.time() + seconds))
    await hass.async_block_till_done()


async def test_claim_commit_reload_recognises_keys(hass: HomeAssistant) -> None:
    """Fresh keys come back in order, once; a reload knows them."""
    ledger = await loaded(hass)
    assert len(ledger) == 0
    assert await commit_keys(ledger, "b", "a", "b", "c") == ["b", "a", "c"]
    assert await commit_keys(ledger, "a", "d") == ["d"]
    assert ledger.knows("a")
    assert not ledger.knows("z")
    assert len(ledger) == 4

    again = await loaded(hass)
    assert all(again.knows(key) for key in "abcd")
    assert again.claim(["a", "e"], NOW) == ["e"]
    await again.async_close()
    await ledger.async_close()


async def test_first_load_finds_nothing(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    """No snapshot, no journal: not a usable ledger; baseline not taken."""
    ledger = Ledger(hass, KEY)
    assert await ledger.async_load() is False
    assert ledger.baseline_at is None
    assert ledger.position == {}
    await ledger.async_close()
    assert journals(hass) == {}
    assert KEY not in hass_storage


async def test_keys_expire_after_the_window(hass: HomeAssistant) -> None:
    """A key stamped before now - window is forgotten, and fresh again."""
    ledger = Ledger(hass, KEY, window=timedelta(hours=1))
    await ledger.async_load()
    await commit_keys(ledger, "old", stamp=NOW - 3600)
    await commit_keys(ledger, "recent", stamp=NOW - 60)
    # Claims prune at most once a minute; prune() does it now.
    assert ledger.claim(["x"], NOW + 1) == ["x"]
    assert ledger.knows("old")
    ledger.prune(NOW + 1)
    assert not ledger.knows("old")
    assert ledger.knows("recent")
    assert ledger.claim(["old"], NOW + 120) == ["old"]
    assert ledger.knows("recent")
    await ledger.async_close()


async def test_loading_forgets_expired_keys(hass: HomeAssistant) -> None:
    """What expired while Home Assistant was down is not loaded."""
    ledger = await loaded(hass)
    await commit_keys(ledger, "expired", stamp=NOW - 86_400 - 120)
    await commit_keys(ledger, "kept", stamp=NOW - 10)
    again = await loaded(hass)
    assert not again.knows("expired")
    assert again.knows("kept")
    await again.async_close()
    await ledger.async_close()


async def test_release_makes_keys_fresh_again(hass: HomeAssistant) -> None:
    """Released before or after a commit, a key is reported again, after reload too."""
    ledger = await loaded(hass)
    await commit_keys(ledger, "committed", "kept")
    uncommitted = ledger.claim(["uncommitted"], NOW)
    ledger.release([*uncommitted, "committed", "unknown"])
    await ledger.async_commit()
    assert not ledger.knows("committed")
    assert not ledger.knows("uncommitted")
    assert json.loads(journals(hass)[f"{KEY}.journal.0"][-1]) == {"drop": ["committed"]}

    again = await loaded(hass)
    assert not again.knows("committed")
    assert not again.knows("uncommitted")
    assert again.knows("kept")
    assert again.claim(["committed"], NOW) == ["committed"]
    await again.async_close()
    await ledger.async_close()


async def test_remember_records_stamps_without_freshness(hass: HomeAssistant) -> None:
    """Known or not, remembered keys take their own stamps."""
    ledger = Ledger(hass, KEY, window=timedelta(hours=1))
    await ledger.async_load()
    await commit_keys(ledger, "a", stamp=NOW - 3000)
    ledger.remember({"a": NOW, "b": NOW - 100})
    await ledger.async_commit()
    ledger.prune(NOW + 1000)
    assert ledger.knows("a")
    again = Ledger(hass, KEY, window=timedelta(hours=1))
    await again.async_load()
    again.prune(NOW + 1000)
    assert again.knows("a")
    assert again.knows("b")
    await again.async_close()
    await ledger.async_close()


async def test_baseline_position_and_counters_survive_reload(
    hass: HomeAssistant,
) -> None:
    """Saved with the next commit, in the journal and in the snapshot."""
    ledger = await loaded(hass)
    baseline = datetime(2027, 1, 15, 8, 30, tzinfo=UTC)
    ledger.baseline_at = baseline
    ledger.position["last_poll_at"] = "2027-01-15T09:00:00+00:00"
    ledger.position["resume_page"] = 3
    ledger.counter("missed").add(2, DAY)
    await ledger.async_commit()
    assert writes(hass) == 1

    again = await loaded(hass)
    assert again.baseline_at == baseline
    assert again.position == {
        "last_poll_at": "2027-01-15T09:00:00+00:00",
        "resume_page": 3,
    }
    assert again.counter("missed").count_on(DAY) == 2
    await again.async_close()  # now from the snapshot
    third = await loaded(hass)
    assert third.baseline_at == baseline
    assert third.position["resume_page"] == 3
    assert third.counter("missed").count_on(DAY) == 2
    assert journals(hass) == {}
    await third.async_close()
    await ledger.async_close()


async def test_unchanged_position_and_repeats_do_not_write(
    hass: HomeAssistant,
) -> None:
    """A repeat delivery (nothing fresh, nothing changed) writes nothing."""
    ledger = await loaded(hass)
    await commit_keys(ledger, "a", "b")
    assert await commit_keys(ledger, "a", "b") == []
    await ledger.async_commit()
    assert writes(hass) == 1
    ledger.position["page"] = 1
    await ledger.async_commit()
    assert writes(hass) == 2
    await ledger.async_close()


def test_daily_counter_counts_per_day() -> None:
    """Another day reads 0 and restarts at 0; a state can be restored."""
    counter = DailyCounter()
    assert counter.count_on(DAY) == 0
    counter.add(2, DAY)
    counter.add(1, DAY)
    assert counter.count_on(DAY) == 3
    assert counter.count_on(DAY + timedelta(days=1)) == 0
    before = counter.state()
    counter.add(1, DAY + timedelta(days=1))
    assert counter.count_on(DAY + timedelta(days=1)) == 1
    assert counter.count_on(DAY) == 0
    counter.restore(before)
    assert counter.count_on(DAY) == 3


async def test_counters_held_before_load_are_updated_in_place(
    hass: HomeAssistant,
) -> None:
    """An owner's counter object follows the load; one not stored is reset."""
    ledger = await loaded(hass)
    ledger.counter("unsubscribes").add(4, DAY)
    await ledger.async_commit()
    again = Ledger(hass, KEY)
    unsubscribes = again.counter("unsubscribes")
    other = again.counter("other")
    other.add(1, DAY)
    await again.async_load()
    assert unsubscribes.count_on(DAY) == 4
    assert other.count_on(DAY) == 0
    await again.async_close()
    await ledger.async_close()


async def test_failed_commit_restores_counters_and_reports_again(
    hass: HomeAssistant,
) -> None:
    """The owner's protocol after a failed write: release, restore; then retry."""
    ledger = await loaded(hass)
    counter = ledger.counter("missed")
    before = counter.state()
    fresh = ledger.claim(["a"], NOW)
    counter.add(1, DAY)
    with (
        patch.object(ledger_module, "_write_all", Gate([True], opened=True)),
        pytest.raises(LedgerError),
    ):
        await ledger.async_commit()
    ledger.release(fresh)
    counter.restore(before)
    assert await commit_keys(ledger, "a") == ["a"]
    counter.add(1, DAY)
    await ledger.async_commit()
    again = await loaded(hass)
    assert again.knows("a")
    assert again.counter("missed").count_on(DAY) == 1
    await again.async_close()
    await ledger.async_close()


def legacy_mobiniti(data: dict[str, Any]) -> dict[str, Any] | None:
    """A migrate hook: the old Mobiniti ledger's payload in snapshot form."""
    if "baseline_at" not in data:
        return None
    return {
        "baseline_at": data["baseline_at"],
        "position": {"last_poll_at": data.get("last_poll_at")},
        "counters": {
            "unsubscribes": {"day": data["counted_day"], "count": data["counted"]}
        },
        "keys": data["keys"],
    }


async def test_legacy_payload_is_migrated(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    """A version 1 payload goes through the hook, and is saved as a snapshot."""
    hass_storage[KEY] = {
        "version": 1,
        "key": KEY,
        "data": {
            "baseline_at": "2027-01-14T00:00:00+00:00",
            "keys": {"old key": NOW - 30},
            "last_poll_at": "2027-01-15T00:00:00+00:00",
            "counted_day": DAY.isoformat(),
            "counted": 5,
        },
    }
    ledger = await loaded(hass, legacy_mobiniti)
    assert ledger.baseline_at == datetime(2027, 1, 14, tzinfo=UTC)
    assert ledger.knows("old key")
    assert ledger.position == {"last_poll_at": "2027-01-15T00:00:00+00:00"}
    assert ledger.counter("unsubscribes").count_on(DAY) == 5
    assert hass_storage[KEY]["version"] == 2
    await commit_keys(ledger, "new key")

    again = await loaded(hass, legacy_mobiniti)
    assert again.knows("old key")
    assert again.knows("new key")
    await again.async_close()
    await ledger.async_close()


@pytest.mark.parametrize(
    "migrate", [None, legacy_mobiniti], ids=["no hook", "unusable"]
)
async def test_unusable_legacy_payload(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    migrate: Callable[[dict[str, Any]], dict[str, Any] | None] | None,
) -> None:
    """Without a hook, or when it returns None, the ledger starts empty."""
    hass_storage[KEY] = {"version": 1, "key": KEY, "data": {"seen": {}}}
    ledger = Ledger(hass, KEY)
    assert await ledger.async_load(migrate) is False
    assert len(ledger) == 0
    await ledger.async_close()


async def test_journal_replay_skips_a_torn_last_line(hass: HomeAssistant) -> None:
    """A crash in the middle of a write loses that write only."""
    ledger = await loaded(hass)
    await commit_keys(ledger, "a")
    await commit_keys(ledger, "b")
    await ledger.async_remove()
    storage(hass).mkdir(exist_ok=True)
    path = storage(hass) / f"{KEY}.journal.0"
    path.write_text(
        f'{{"keys": {{"a": {NOW}}}}}\n'
        "[1, 2]\n"
        f'{{"drop": "x", "keys": {{"b": {NOW}, "bad": "stamp", "flag": true}}, '
        '"counters": 7, "position": 5, "baseline_at": "2027-01-15T00:00:00"}\n'
        f'{{"keys": {{"c": {NOW}'
    )
    again = Ledger(hass, KEY)
    assert await again.async_load() is True
    assert again.knows("a")
    assert again.knows("b")
    assert not again.knows("c")
    assert not again.knows("bad")
    assert not again.knows("flag")
    assert again.position == {}
    assert again.baseline_at is None  # naive: not a usable time
    # Appends never follow the torn line: they go to a new file.
    await commit_keys(again, "d")
    assert [json.loads(line) for line in journals(hass)[f"{KEY}.journal.1"]] == [
        {"keys": {"d": NOW}}
    ]
    third = await loaded(hass)
    assert all(third.knows(key) for key in "abd")
    await third.async_close()
    await again.async_close()


async def test_malformed_snapshot_fields_are_skipped(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    """A damaged snapshot loads what it can."""
    hass_storage[KEY] = {
        "version": 2,
        "key": KEY,
        "data": {
            "generation": -3,
            "baseline_at": 12,
            "position": "{not json",
            "counters": {
                "no day": {"count": 1},
                "bad day": {"day": "yesterday", "count": 1},
                "not a dict": 3,
                "bool count": {"day": DAY.isoformat(), "count": True},
                "good": {"day": DAY.isoformat(), "count": 2},
            },
            "keys": {"a": NOW, "b": "x"},
            "escaped_keys": {"not json": NOW, '"ok"': NOW, "5": NOW},
        },
    }
    ledger = await loaded(hass)
    assert ledger.baseline_at is None
    assert ledger.position == {}
    assert ledger.counter("good").count_on(DAY) == 2
    assert ledger.counter("bool count").count_on(DAY) == 0
    assert ledger.knows("a")
    assert ledger.knows("ok")
    assert len(ledger) == 2
    await ledger.async_close()


async def test_bad_baseline_strings_are_skipped(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    """A baseline that is not an ISO time is not taken; nor is a counters list."""
    hass_storage[KEY] = {
        "version": 2,
        "key": KEY,
        "data": {"baseline_at": "soon", "counters": [], "keys": {}},
    }
    ledger = await loaded(hass)
    assert ledger.baseline_at is None
    await ledger.async_close()


async def test_compaction_keeps_everything(
    hass: HomeAssistant, hass_storage: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the bound, a snapshot replaces the journals; nothing is lost."""
    monkeypatch.setattr(ledger_module, "COMPACT_AFTER", 5)
    ledger = await loaded(hass)
    ledger.baseline_at = datetime(2027, 1, 1, tzinfo=UTC)
    ledger.position["page"] = 7
    # 3 journal entries per commit (a line, two keys): the second passes 5.
    for number in range(4):
        await commit_keys(ledger, f"k{number}a", f"k{number}b")
    await hass.async_block_till_done()
    snapshot = hass_storage[KEY]["data"]
    assert snapshot["generation"] == 1
    assert set(snapshot["keys"]) == {"k0a", "k0b", "k1a", "k1b"}
    assert snapshot["position"] == {"page": 7}
    assert list(journals(hass)) == [f"{KEY}.journal.1"]
    await commit_keys(ledger, "after")
    assert len(journals(hass)[f"{KEY}.journal.1"]) == 3

    again = await loaded(hass)
    assert all(again.knows(f"k{n}{s}") for n in range(4) for s in "ab")
    assert again.knows("after")
    assert again.position == {"page": 7}
    assert again.baseline_at == datetime(2027, 1, 1, tzinfo=UTC)
    await again.async_close()
    await ledger.async_close()


async def test_stale_journals_below_the_snapshot_are_deleted(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    """A crash after the snapshot but before the delete: the leftovers go at load."""
    ledger = await loaded(hass)
    await commit_keys(ledger, "a")
    await ledger.async_close()
    stale = storage(hass) / f"{KEY}.journal.0"
    stale.write_text(f'{{"drop": ["a"], "keys": {{"stale": {NOW}}}}}\n')
    (storage(hass) / f"{KEY}.journal.x").write_text("not a journal\n")
    assert hass_storage[KEY]["data"]["generation"] == 1
    again = await loaded(hass)
    assert again.knows("a")
    assert not again.knows("stale")
    assert not stale.exists()
    assert (storage(hass) / f"{KEY}.journal.x").exists()
    await again.async_close()


async def test_snapshot_leaves_out_what_is_not_on_disk(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    """Claims not committed, and keys of a failed write, are not in a snapshot."""
    ledger = await loaded(hass)
    await commit_keys(ledger, "durable")
    ledger.claim(["failed"], NOW)
    with (
        patch.object(ledger_module, "_write_all", Gate([True], opened=True)),
        pytest.raises(LedgerError),
    ):
        await ledger.async_commit()
    ledger.claim(["pending"], NOW)
    ledger.position["changed"] = True  # not committed either
    await ledger.async_close()
    snapshot = hass_storage[KEY]["data"]
    assert snapshot["keys"] == {"durable": NOW}
    assert snapshot["position"] == {}
    again = await loaded(hass)
    assert not again.knows("failed")
    assert not again.knows("pending")
    await again.async_close()


async def test_concurrent_commits_share_writes(hass: HomeAssistant) -> None:
    """Callers arriving together, or while a write runs, share one write."""
    ledger = await loaded(hass)
    results = await asyncio.gather(
        *(commit_keys(ledger, f"key{n}", "shared") for n in range(20))
    )
    assert sum(len(fresh) for fresh in results) == 21
    assert writes(hass) == 1

    gate = Gate()
    with patch.object(ledger_module, "_write_all", gate):
        first = hass.async_create_task(commit_keys(ledger, "first"))
        await gate.wait_entered(hass)
        # Nothing fresh, but its key is in the write under way: it waits for it.
        repeat = hass.async_create_task(commit_keys(ledger, "first"))
        later = [
            hass.async_create_task(commit_keys(ledger, f"later{n}")) for n in range(10)
        ]
        await asyncio.sleep(0)
        assert not repeat.done()
        gate.opened.set()
        await asyncio.gather(first, *later, repeat)
    assert writes(hass) == 3
    assert repeat.result() == []
    await ledger.async_close()


async def test_a_cancelled_caller_does_not_cancel_the_shared_write(
    hass: HomeAssistant,
) -> None:
    """A caller that gives up (its request went away) leaves the others' write be."""
    ledger = await loaded(hass)
    gate = Gate()
    with patch.object(ledger_module, "_write_all", gate):
        quitter = hass.async_create_task(commit_keys(ledger, "quitter"))
        stayer = hass.async_create_task(commit_keys(ledger, "stayer"))
        await gate.wait_entered(hass)
        quitter.cancel()
        await asyncio.sleep(0)
        assert not stayer.done()
        gate.opened.set()
        assert await stayer == ["stayer"]
        with pytest.raises(asyncio.CancelledError):
            await quitter
    await ledger.async_close()
    reloaded = await loaded(hass)
    assert reloaded.knows("stayer")
    assert reloaded.knows("quitter")


async def test_group_released_before_its_write_writes_nothing(
    hass: HomeAssistant,
) -> None:
    """Changes undone before the write starts leave it nothing to append."""
    ledger = await loaded(hass)
    fresh = ledger.claim(["a"], NOW)
    waiting = hass.async_create_task(ledger.async_commit(), eager_start=False)
    await asyncio.sleep(0)  # it joined a group; the writer has not run yet
    ledger.release(fresh)
    await waiting
    assert writes(hass) == 0
    await ledger.async_close()


async def test_failed_write_raises_to_every_waiter_and_the_next_works(
    hass: HomeAssistant,
) -> None:
    """The group whose write failed raises; the next group, and retries, land."""
    ledger = await loaded(hass)
    await commit_keys(ledger, "before")
    gate = Gate([True, False])
    with patch.object(ledger_module, "_write_all", gate):
        failing = [
            hass.async_create_task(commit_keys(ledger, f"lost{n}")) for n in range(5)
        ]
        await gate.wait_entered(hass)
        next_group = [
            hass.async_create_task(commit_keys(ledger, f"next{n}")) for n in range(3)
        ]
        await asyncio.sleep(0)
        gate.opened.set()
        outcomes = await asyncio.gather(*failing, return_exceptions=True)
        await asyncio.gather(*next_group)
    assert all(isinstance(outcome, LedgerError) for outcome in outcomes)
    assert isinstance(outcomes[0].__cause__, OSError)
    for number in range(5):
        ledger.release([f"lost{number}"])
    # The failed write was cut off its file; later writes go to a new one.
    assert {
        name: [json.loads(line) for line in lines]
        for name, lines in journals(hass).items()
    } == {
        f"{KEY}.journal.0": [{"keys": {"before": NOW}}],
        f"{KEY}.journal.1": [{"keys": dict.fromkeys(("next0", "next1", "next2"), NOW)}],
    }
    assert await commit_keys(ledger, "lost0") == ["lost0"]

    again = await loaded(hass)
    assert again.knows("lost0")
    assert not again.knows("lost1")
    assert all(again.knows(f"next{n}") for n in range(3))
    await again.async_close()
    await ledger.async_close()


async def test_failure_to_create_the_journal_raises(hass: HomeAssistant) -> None:
    """A journal that cannot be opened fails the commit; the next one works."""
    ledger = await loaded(hass)
    ledger.claim(["a"], NOW)
    with (
        patch.object(os, "open", side_effect=PermissionError(13, "Permission denied")),
        pytest.raises(LedgerError),
    ):
        await ledger.async_commit()
    ledger.release(["a"])
    assert await commit_keys(ledger, "a") == ["a"]
    again = await loaded(hass)
    assert again.knows("a")
    await again.async_close()
    await ledger.async_close()


async def test_cancelled_write_raises_to_its_callers(hass: HomeAssistant) -> None:
    """Shutdown cancelling the writer does not leave its callers waiting."""
    ledger = await loaded(hass)
    gate = Gate()
    with patch.object(ledger_module, "_write_all", gate):
        caller = hass.async_create_task(commit_keys(ledger, "a"))
        await gate.wait_entered(hass)
        writer = ledger._writer
        assert writer is not None
        writer.cancel()
        with pytest.raises(LedgerError):
            await caller
        gate.opened.set()
        await hass.async_block_till_done()
    ledger.release(["a"])
    assert await commit_keys(ledger, "a") == ["a"]
    await ledger.async_close()


async def test_position_that_is_not_json_fails_the_commit(
    hass: HomeAssistant,
) -> None:
    """The owner's mistake raises, keeps what is pending, and poisons nothing."""
    ledger = await loaded(hass)
    ledger.claim(["a"], NOW)
    ledger.position["bad"] = object()
    with pytest.raises(LedgerError, match="not JSON"):
        await ledger.async_commit()
    del ledger.position["bad"]
    await ledger.async_commit()
    assert (await loaded(hass)).knows("a")
    await ledger.async_close()


async def test_lone_surrogates_commit_reload_and_poison_nothing(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    """Any key a sender posts is durable and recognised, journal or snapshot."""
    ledger = await loaded(hass)
    ledger.position["sender"] = f"name {LONE}"
    assert await commit_keys(ledger, LONE, f"x{LONE}y", "Zoë 😀") == [
        LONE,
        f"x{LONE}y",
        "Zoë 😀",
    ]
    assert await commit_keys(ledger, "after") == ["after"]
    from_journal = await loaded(hass)
    assert from_journal.knows(LONE)
    assert from_journal.knows(f"x{LONE}y")
    assert from_journal.position == {"sender": f"name {LONE}"}
    assert from_journal.claim([LONE, "Zoë 😀"], NOW) == []

    await ledger.async_close()
    snapshot = hass_storage[KEY]["data"]
    assert set(snapshot["escaped_keys"]) == {json.dumps(LONE), json.dumps(f"x{LONE}y")}
    assert set(snapshot["keys"]) == {"Zoë 😀", "after"}
    assert isinstance(snapshot["position"], str)
    from_snapshot = await loaded(hass)
    assert from_snapshot.knows(LONE)
    assert from_snapshot.knows("Zoë 😀")
    assert from_snapshot.position == {"sender": f"name {LONE}"}
    assert await commit_keys(from_snapshot, "later", f"{LONE}2") == [
        "later",
        f"{LONE}2",
    ]
    await from_snapshot.async_close()
    assert hass_storage[KEY]["data"]["generation"] == 2
    final = await loaded(hass)
    assert final.knows("later")
    assert final.knows(f"{LONE}2")
    await final.async_close()


async def test_close_snapshots_and_nothing_is_written_later(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    """Close finishes the writes under way, leaves no journal, refuses commits."""
    ledger = await loaded(hass)
    await commit_keys(ledger, "a")
    gate = Gate()
    with patch.object(ledger_module, "_write_all", gate):
        under_way = hass.async_create_task(commit_keys(ledger, "b"))
        await gate.wait_entered(hass)
        closing = hass.async_create_task(ledger.async_close())
        await asyncio.sleep(0)
        assert not closing.done()
        gate.opened.set()
        await asyncio.gather(under_way, closing)
    assert journals(hass) == {}
    stored = json.dumps(hass_storage[KEY])
    ledger.claim(["c"], NOW)
    with pytest.raises(LedgerError, match="closed"):
        await ledger.async_commit()
    await ledger.async_close()  # twice: nothing to do
    await hass.async_block_till_done(wait_background_tasks=True)
    assert journals(hass) == {}
    assert json.dumps(hass_storage[KEY]) == stored
    again = await loaded(hass)
    assert again.knows("a")
    assert again.knows("b")
    assert not again.knows("c")
    await again.async_close()


async def test_remove_deletes_everything_even_during_compaction(
    hass: HomeAssistant, hass_storage: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Remove waits for a snapshot under way; no file is left, none comes back."""
    monkeypatch.setattr(ledger_module, "COMPACT_AFTER", 1)
    ledger = await loaded(hass)
    go_on = asyncio.Event()
    save = ledger_module._SnapshotStore.async_save

    async def slow_save(store: Any, data: dict[str, Any]) -> None:
        await go_on.wait()
        await save(store, data)

    with patch.object(ledger_module._SnapshotStore, "async_save", slow_save):
        await commit_keys(ledger, "a", "b")
        assert ledger._compaction is not None
        removing = hass.async_create_task(ledger.async_remove())
        await asyncio.sleep(0)
        assert not removing.done()
        go_on.set()
        await removing
    await hass.async_block_till_done(wait_background_tasks=True)
    assert KEY not in hass_storage
    assert journals(hass) == {}
    with pytest.raises(LedgerError):
        await ledger.async_commit()
    assert await Ledger(hass, KEY).async_load() is False


async def test_remove_of_a_ledger_never_loaded(hass: HomeAssistant) -> None:
    """Removing an entry's ledger needs no load: it deletes what is on disk."""
    ledger = await loaded(hass)
    await commit_keys(ledger, "a")
    await Ledger(hass, KEY).async_remove()
    assert journals(hass) == {}
    await ledger.async_close()


async def test_no_snapshot_while_stopping(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    """The Store would write after close while stopping: the journal stays."""
    ledger = await loaded(hass)
    await commit_keys(ledger, "a")
    hass.set_state(CoreState.stopping)
    try:
        await ledger.async_close()
    finally:
        hass.set_state(CoreState.running)
    assert KEY not in hass_storage
    assert list(journals(hass)) == [f"{KEY}.journal.0"]
    again = await loaded(hass)
    assert again.knows("a")
    await again.async_close()
    assert journals(hass) == {}


async def test_snapshot_that_fails_or_does_not_land_keeps_the_journal(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Journals go only once a snapshot is read back; a later close retries."""
    ledger = await loaded(hass)
    await commit_keys(ledger, "a")
    with patch.object(
        ledger_module._SnapshotStore, "async_save", side_effect=OSError("read-only")
    ):
        await ledger.async_close()
    assert "Could not write the snapshot" in caplog.text
    assert list(journals(hass)) == [f"{KEY}.journal.0"]

    again = await loaded(hass)
    await commit_keys(again, "b")
    with patch.object(ledger_module._SnapshotStore, "async_save", AsyncMock()):
        await again.async_close()
    assert "did not land" in caplog.text
    assert KEY not in hass_storage
    assert len(journals(hass)) == 2

    third = await loaded(hass)
    assert third.knows("a")
    assert third.knows("b")
    await third.async_close()
    assert journals(hass) == {}
    assert set(hass_storage[KEY]["data"]["keys"]) == {"a", "b"}


async def test_writes_are_flushed_soon_after_not_before_the_commit_returns(
    hass: HomeAssistant,
) -> None:
    """A commit returns once written; one flush follows for the writes of a second."""
    ledger = await loaded(hass)
    flushes = Flushes()
    journal = f"{KEY}.journal.0"
    with patch.object(os, "fdatasync", flushes):
        await commit_keys(ledger, "a")
        await commit_keys(ledger, "b")
        assert flushes.files == []
        await later(hass, SYNC_DELAY)
        assert flushes.files == [journal]
        await later(hass, 10 * SYNC_DELAY)  # nothing new: no flush
        assert flushes.files == [journal]
        await commit_keys(ledger, "c")
        await later(hass, 20 * SYNC_DELAY)
        assert flushes.files == [journal, journal]
        await commit_keys(ledger, "d")
        await ledger.async_close()  # flushes now: no timer outlives the ledger
        assert len(flushes.files) == 3
        await later(hass, 30 * SYNC_DELAY)
        assert len(flushes.files) == 3
    again = await loaded(hass)
    assert all(again.knows(key) for key in "abcd")
    await again.async_close()


async def test_a_failed_flush_is_logged_and_later_writes_go_to_a_new_file(
    hass: HomeAssistant, caplog: pytest.LogCaptureFixture
) -> None:
    """Nobody waits on a flush, so its failure is a warning; the file is done with."""
    ledger = await loaded(hass)
    with patch.object(os, "fdatasync", Flushes([True])):
        await commit_keys(ledger, "a")
        await later(hass, SYNC_DELAY)
        assert "Could not flush the journal of commhub.test_ledger.entry" in caplog.text
        assert await commit_keys(ledger, "b") == ["b"]
    assert set(journals(hass)) == {f"{KEY}.journal.0", f"{KEY}.journal.1"}
    again = await loaded(hass)
    assert again.knows("a")
    assert again.knows("b")
    await again.async_close()
    await ledger.async_close()


async def test_a_ledger_left_open_at_shutdown_leaves_no_timer(
    hass: HomeAssistant,
) -> None:
    """An entry Home Assistant stops without unloading: the flush's timer is dropped.

    The test harness fails a test that leaves a timer behind when it stops.
    """
    ledger = await loaded(hass)
    await commit_keys(ledger, "a")
    assert ledger._cancel_sync is not None
