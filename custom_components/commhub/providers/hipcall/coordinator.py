"""Hipcall: user status and missed calls, each call reported exactly once."""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, override

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_API_TOKEN
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.util import dt as dt_util

from ...api.hipcall import (
    HIPCALL_API_URL,
    HipcallCall,
    HipcallClient,
    HipcallUser,
)
from ...const import CONF_BASE_URL, EVENT_MISSED_CALL, LOGGER
from ...coordinator import StoredCoordinator, scan_interval
from ...provider import Interval, entry_account_id
from .ledger import CallLedger

type HipcallConfigEntry = ConfigEntry[HipcallCoordinator]

INTERVAL = Interval(default=30, minimum=10, maximum=3600)
# Unsent positions are written at least this often (the lookback horizon).
SAVE_EVERY = timedelta(minutes=1)

# User status changes slowly; missed calls matter within seconds.
USERS_INTERVAL = timedelta(minutes=5)
# Pages of call records one poll may read; a long outage is caught up over polls.
MAX_PAGES_PER_POLL = 5
# Calls are listed when they end, so a long one can sit below newer calls:
# each poll reads back at least this far before the previous poll.
LOOKBACK = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class HipcallData:
    """One poll of a Hipcall account."""

    users: dict[int, HipcallUser] = field(default_factory=dict)
    extensions: dict[int, str] = field(default_factory=dict)
    counted_day: date | None = None
    counted: int = 0
    last_missed_at: datetime | None = None

    def missed_today(self) -> int:
        """Missed calls received since local midnight."""
        return self.counted if self.counted_day == dt_util.now().date() else 0


def user_identifier(entry: ConfigEntry, user_id: int) -> str:
    """Registry identifier of a Hipcall user of this account."""
    return f"hipcall_user_{entry_account_id(entry)}_{user_id}"


def missed_call_data(
    entry: ConfigEntry, call: HipcallCall, *, catch_up: bool
) -> dict[str, Any]:
    """The `commhub_missed_call` event's data."""
    return {
        "config_entry_id": entry.entry_id,
        "service": "hipcall",
        "uuid": call.uuid,
        "started_at": call.started_at.isoformat(),
        "ended_at": call.ended_at.isoformat() if call.ended_at else None,
        "caller_number": call.caller_number,
        "callee_number": call.callee_number,
        "user_id": call.user_id,
        "reason": call.reason,
        "direction": call.direction,
        "call_duration": call.call_duration,
        "catch_up": catch_up,
    }


class HipcallCoordinator(StoredCoordinator[HipcallData]):
    """Polls new call records every interval and the users every few minutes."""

    config_entry: HipcallConfigEntry
    store_name = "hipcall_calls"
    provider_name = "Hipcall"

    def __init__(self, hass: HomeAssistant, entry: HipcallConfigEntry) -> None:
        """Create the client for the entry's account."""
        super().__init__(hass, entry, scan_interval(entry, INTERVAL.default))
        self.client = HipcallClient(
            async_get_clientsession(hass),
            entry.data[CONF_API_TOKEN],
            entry.data.get(CONF_BASE_URL, HIPCALL_API_URL),
        )
        self.ledger: CallLedger | None = None
        self._users: dict[int, HipcallUser] = {}
        self._extensions: dict[int, str] = {}
        self._users_due = datetime.min.replace(tzinfo=dt_util.UTC)
        self._saved_at = datetime.min.replace(tzinfo=dt_util.UTC)

    @override
    async def _async_setup(self) -> None:
        stored = await self._store.async_load()
        if stored is not None:
            self.ledger = CallLedger.from_dict(stored)

    @override
    async def _async_poll(self) -> HipcallData:
        now = dt_util.utcnow()
        if now >= self._users_due:
            await self._poll_users()
            self._users_due = now + max(
                USERS_INTERVAL, self.update_interval or USERS_INTERVAL
            )
        new_calls = await self._poll_calls(now)
        assert self.ledger is not None  # _poll_calls sets it
        before = self.ledger.as_dict()
        missed = self.ledger.record(new_calls, now, dt_util.now().date())
        if (
            new_calls
            or self.ledger.resume_page is not None
            or (now - self._saved_at >= SAVE_EVERY)
        ):
            # Saved before firing: a failed save forgets the poll, never an event.
            try:
                await self._store.async_save(self.ledger.as_dict())
            except Exception:
                self.ledger = CallLedger.from_dict(before)
                raise
            self._saved_at = now
        for call in missed:
            self.hass.bus.async_fire(
                EVENT_MISSED_CALL,
                missed_call_data(
                    self.config_entry,
                    call,
                    catch_up=self.is_catch_up(call.finished_at),
                ),
            )
        return HipcallData(
            users=self._users,
            extensions=self._extensions,
            counted_day=self.ledger.counted_day,
            counted=self.ledger.counted,
            last_missed_at=self.ledger.last_missed_at,
        )

    async def _poll_users(self) -> None:
        page = await self.client.list_users()
        self._warn_malformed("user", page.malformed)
        self._extensions = await self.client.list_extensions()
        users = {user.id: user for user in page.items}
        # A user whose record is malformed now is still there: keep what we knew.
        for record in page.malformed:
            if record.identity and record.identity.isdigit():
                known = self._users.get(int(record.identity))
                if known is not None:
                    users[known.id] = known
        self._users = users

    async def _poll_calls(self, now: datetime) -> list[HipcallCall]:
        """Calls not reported before, from as many pages as it takes (bounded)."""
        if self.ledger is None:
            first = await self.client.calls_page(1)
            self.ledger = CallLedger.from_baseline(first.items, now)
            await self._store.async_save(self.ledger.as_dict())
            return []
        ledger = self.ledger
        horizon = (ledger.last_poll_at or now) - LOOKBACK
        found: dict[str, HipcallCall] = {}
        page: int | None = 1
        for _ in range(MAX_PAGES_PER_POLL):
            assert page is not None
            result = await self.client.calls_page(page)
            self._warn_malformed("call", result.malformed)
            fresh = [
                call
                for call in result.items
                if call.uuid not in found and not ledger.is_known(call, now)
            ]
            found.update((call.uuid, call) for call in fresh)
            reached_back = not result.items or any(
                call.started_at < horizon for call in result.items
            )
            page = result.next_page
            if page is None or (not fresh and reached_back):
                # A poll cut short by the page bound goes on where it stopped.
                page, ledger.resume_page = ledger.resume_page, None
                if page is None:
                    return list(found.values())
        ledger.resume_page = page
        LOGGER.debug("Call history continues next poll at page %s", page)
        return list(found.values())
