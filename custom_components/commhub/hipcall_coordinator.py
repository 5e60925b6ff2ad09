"""Hipcall: user status and missed calls, each call reported exactly once."""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, override

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_API_TOKEN
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, issue_registry as ir
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.util import dt as dt_util

from .api import CommHubApiError
from .api.hipcall import (
    HIPCALL_API_URL,
    HipcallCall,
    HipcallClient,
    HipcallUser,
)
from .call_ledger import CallLedger
from .const import (
    CONF_BASE_URL,
    DEFAULT_HIPCALL_SCAN_INTERVAL,
    DOMAIN,
    EVENT_MISSED_CALL,
    LOGGER,
    SERVICE_HIPCALL,
)
from .coordinator import scan_interval
from .errors import update_failed
from .stored_coordinator import StoredCoordinator

type HipcallConfigEntry = ConfigEntry[HipcallCoordinator]

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
    return f"hipcall_user_{entry.unique_id or entry.entry_id}_{user_id}"


def missed_call_data(
    entry: ConfigEntry, call: HipcallCall, *, catch_up: bool
) -> dict[str, Any]:
    """The `commhub_missed_call` event's data."""
    return {
        "config_entry_id": entry.entry_id,
        "service": SERVICE_HIPCALL,
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
    service_title = "Hipcall"

    def __init__(self, hass: HomeAssistant, entry: HipcallConfigEntry) -> None:
        """Create the client for the entry's account."""
        super().__init__(
            hass, entry, scan_interval(entry, DEFAULT_HIPCALL_SCAN_INTERVAL)
        )
        self.client = HipcallClient(
            async_get_clientsession(hass),
            entry.data[CONF_API_TOKEN],
            entry.data.get(CONF_BASE_URL, HIPCALL_API_URL),
        )
        self.ledger: CallLedger | None = None
        self._users: dict[int, HipcallUser] = {}
        self._extensions: dict[int, str] = {}
        self._users_due = datetime.min.replace(tzinfo=dt_util.UTC)

    @override
    async def _async_setup(self) -> None:
        stored = await self._store.async_load()
        if stored is not None:
            self.ledger = CallLedger.from_dict(stored)

    @override
    async def _async_update_data(self) -> HipcallData:
        now = dt_util.utcnow()
        try:
            if now >= self._users_due:
                await self._poll_users()
                self._users_due = now + max(
                    USERS_INTERVAL, self.update_interval or USERS_INTERVAL
                )
            new_calls = await self._poll_calls(now)
        except CommHubApiError as err:
            self._healthy_since = None
            raise update_failed(self.hass, self.config_entry, err) from err
        ir.async_delete_issue(
            self.hass, DOMAIN, f"payment_required_{self.config_entry.entry_id}"
        )
        assert self.ledger is not None  # _poll_calls sets it
        missed = self.ledger.record(new_calls, now, dt_util.now().date())
        if new_calls or self.ledger.resume_page is not None:
            # Saved before firing: a failed save repeats the poll, never an event.
            await self._store.async_save(self.ledger.as_dict())
        else:
            self._store.async_delay_save(self.ledger.as_dict, 60)
        for call in missed:
            catch_up = (
                self._healthy_since is None or call.finished_at < self._healthy_since
            )
            self.hass.bus.async_fire(
                EVENT_MISSED_CALL,
                missed_call_data(self.config_entry, call, catch_up=catch_up),
            )
        if self._healthy_since is None:
            self._healthy_since = now
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
        gone = self._users.keys() - users.keys()
        self._users = users
        if gone:
            self._remove_user_devices(gone)

    def _remove_user_devices(self, user_ids: set[int]) -> None:
        registry = dr.async_get(self.hass)
        entry = self.config_entry
        for user_id in user_ids:
            device = registry.async_get_device_by_identifier(
                (DOMAIN, user_identifier(entry, user_id)), entry.entry_id
            )
            if device is not None:
                registry.async_update_device(
                    device.id, remove_config_entry_id=entry.entry_id
                )

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
