"""Hipcall: user status and missed calls, each call reported exactly once."""

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
import hashlib
import time
from typing import Any, override

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_API_TOKEN
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey

from ...api.hipcall import (
    HIPCALL_API_URL,
    HipcallCall,
    HipcallClient,
    HipcallUser,
    parse_call_v3,
)
from ...api.records import MalformedRecordError, Page
from ...const import CONF_BASE_URL, DOMAIN, EVENT_MISSED_CALL, LOGGER
from ...coordinator import StoredCoordinator, scan_interval
from ...provider import Interval, entry_account_id
from ...stored import stored_time
from ...webhooks import InvalidPayloadError

type HipcallConfigEntry = ConfigEntry[HipcallCoordinator]

EVENT_INCOMING_CALL = "commhub_incoming_call"
# The one webhook kind: Hipcall posts every call event to one URL.
WEBHOOK_KIND = "call"
CALL_EVENTS = ("call_init", "call_hangup")

INTERVAL = Interval(default=30, minimum=10, maximum=3600)
# A quiet poll's time is written at least this often (the lookback horizon).
SAVE_EVERY = timedelta(minutes=1)
# Calls found after a restart or outage are still reported if they are this recent.
CATCH_UP_WINDOW = timedelta(hours=24)
# A call record can show up a little after its end; the baseline leaves room.
BASELINE_MARGIN = timedelta(minutes=1)
POSITION = ("last_poll_at", "last_missed_at", "resume_page")

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
        "has_voicemail": call.has_voicemail,
        "catch_up": catch_up,
    }


# What a sign-in read, for the setup that follows it (a 100-user account on the
# 2021 API is ten pages: reading them twice nearly spends a minute's budget).
SIGNED_IN: HassKey[dict[tuple[str, str], tuple[float, Page[HipcallUser]]]] = HassKey(
    f"{DOMAIN}_hipcall_signed_in"
)
SIGNED_IN_FOR = 60.0


def remember_signed_in(
    hass: HomeAssistant, base_url: str, token: str, users: Page[HipcallUser]
) -> None:
    """Keep the users a sign-in read for the setup that follows it."""
    key = (base_url, hashlib.sha256(token.encode()).hexdigest())
    hass.data.setdefault(SIGNED_IN, {})[key] = (time.monotonic(), users)


def signed_in_users(
    hass: HomeAssistant, base_url: str, token: str
) -> Page[HipcallUser] | None:
    """The users a sign-in just read (once, and only for a minute)."""
    key = (base_url, hashlib.sha256(token.encode()).hexdigest())
    read_at, users = hass.data.get(SIGNED_IN, {}).pop(key, (0.0, None))
    return users if time.monotonic() - read_at < SIGNED_IN_FOR else None


def webhook_kind(payload: Mapping[str, Any]) -> str | None:
    """Hipcall's deliveries are call events (others are not subscribed to)."""
    return WEBHOOK_KIND if payload.get("event") in CALL_EVENTS else None


def pushed_call(payload: Mapping[str, Any]) -> tuple[str, HipcallCall]:
    """The event and call of a delivery (InvalidPayloadError if malformed)."""
    event, data = payload.get("event"), payload.get("data")
    if event not in CALL_EVENTS:
        raise InvalidPayloadError("the 'event' field is invalid")
    if not isinstance(data, dict):
        raise InvalidPayloadError("the 'data' field is invalid")
    try:
        return event, parse_call_v3(data)
    except MalformedRecordError as err:
        raise InvalidPayloadError(f"the 'data.{err.field}' field is invalid") from err


def incoming_call_data(entry: ConfigEntry, call: HipcallCall) -> dict[str, Any]:
    """The `commhub_incoming_call` event's data."""
    return {
        "config_entry_id": entry.entry_id,
        "service": "hipcall",
        "uuid": call.uuid,
        "started_at": call.started_at.isoformat(),
        "caller_number": call.caller_number,
        "callee_number": call.callee_number,
        "user_id": call.user_id,
        "direction": call.direction,
    }


class HipcallCoordinator(StoredCoordinator[HipcallData]):
    """Polls new call records every interval and the users every few minutes."""

    config_entry: HipcallConfigEntry
    store_name = "hipcall_calls"
    baseline_margin = None  # taken with the first page of calls
    provider_name = "Hipcall"

    def __init__(self, hass: HomeAssistant, entry: HipcallConfigEntry) -> None:
        """Create the client for the entry's account."""
        super().__init__(hass, entry, scan_interval(entry, INTERVAL.default))
        self.client = HipcallClient(
            async_get_clientsession(hass),
            entry.data[CONF_API_TOKEN],
            entry.data.get(CONF_BASE_URL, HIPCALL_API_URL),
        )
        self._users: dict[int, HipcallUser] = {}
        self._extensions: dict[int, str] = {}
        self._users_due = datetime.min.replace(tzinfo=dt_util.UTC)

    @staticmethod
    @override
    def migrate(legacy: dict[str, Any]) -> dict[str, Any] | None:
        """The `CallLedger` Store of CommHub ≤ 1.2 (version 1): uuid → end time."""
        seen = legacy.get("seen")
        return {
            "baseline_at": legacy.get("baseline_at"),
            "position": {key: legacy.get(key) for key in POSITION},
            "counters": {
                "today": {
                    "day": legacy.get("counted_day"),
                    "count": legacy.get("counted"),
                }
            },
            "keys": {
                uuid: at.timestamp()
                for uuid, value in (seen.items() if isinstance(seen, dict) else [])
                if (at := stored_time(value)) is not None
            },
        }

    @override
    async def _async_poll(self) -> HipcallData:
        now = dt_util.utcnow()
        # Presence changes by the minute on the current API: its users each poll.
        due = now >= self._users_due
        if due or self.client.current:
            await self._poll_users(extensions=due)
        if due:
            self._users_due = now + max(
                USERS_INTERVAL, self.update_interval or USERS_INTERVAL
            )
        if self.client.current:
            await self._poll_missed_calls(now)
        elif self.ledger.baseline_at is None:
            await self._take_baseline(now, (await self.client.calls_page(1)).items)
        else:
            await self._report(now, *await self._poll_calls(now))
        return self._data()

    def _data(self) -> HipcallData:
        return HipcallData(
            users=self._users,
            extensions=self._extensions,
            counted_day=self.today.day,
            counted=self.today.count,
            last_missed_at=stored_time(self.ledger.position.get("last_missed_at")),
        )

    async def _take_baseline(self, now: datetime, calls: list[HipcallCall]) -> None:
        """The first setup: the calls listed now are history, never reported."""
        self.ledger.baseline_at = now - BASELINE_MARGIN
        newest = max((c.started_at for c in calls if c.missing_call), default=None)
        await self.async_record(
            (call.uuid for call in calls),
            position={
                "last_poll_at": now.isoformat(),
                "last_missed_at": newest.isoformat() if newest else None,
            },
        )

    async def _report(
        self, now: datetime, calls: list[HipcallCall], resume_page: int | None
    ) -> None:
        """Remember the new calls (durably), then fire the missed ones, oldest first."""
        position: dict[str, Any] = {"resume_page": resume_page}
        last_poll = stored_time(self.ledger.position.get("last_poll_at"))
        if calls or resume_page or last_poll is None or now - last_poll >= SAVE_EVERY:
            position["last_poll_at"] = now.isoformat()
        missed = sorted(
            (call for call in calls if call.missing_call),
            key=lambda call: (call.finished_at, call.started_at, call.uuid),
        )
        last_missed = stored_time(self.ledger.position.get("last_missed_at"))
        if missed:
            newest = max(call.started_at for call in missed)
            if last_missed is None or newest > last_missed:
                position["last_missed_at"] = newest.isoformat()
        missed_uuids = {call.uuid for call in missed}
        fresh = set(
            await self.async_record(
                (call.uuid for call in calls),
                lambda uuids: sum(uuid in missed_uuids for uuid in uuids),
                position,
            )
        )
        for call in missed:
            if call.uuid in fresh:
                self.hass.bus.async_fire(
                    EVENT_MISSED_CALL,
                    missed_call_data(
                        self.config_entry,
                        call,
                        catch_up=self.is_catch_up(call.finished_at),
                    ),
                )

    async def _poll_missed_calls(self, now: datetime) -> None:
        """Current API: the server filters; a quiet poll is one request.

        Missed calls since local midnight (or since the lookback, when that is
        earlier), newest first: the count is today's, the unknown ones are new.
        """
        midnight = dt_util.start_of_local_day()
        last_poll = stored_time(self.ledger.position.get("last_poll_at"))
        horizon = max((last_poll or now) - LOOKBACK, now - CATCH_UP_WINDOW)
        since = min(midnight, horizon)
        calls: list[HipcallCall] = []
        for _ in range(MAX_PAGES_PER_POLL):
            page = await self.client.missed_calls(since, offset=len(calls))
            self._warn_malformed("call", page.malformed)
            calls.extend(page.items)
            reached = not page.items or page.items[-1].started_at < horizon
            if len(calls) + len(page.malformed) >= page.count or (
                reached and since >= midnight
            ):
                break
        today = (
            page.count
            if since >= midnight
            else sum(call.started_at >= midnight for call in calls)
        )
        if self.ledger.baseline_at is None:
            # History is counted, never fired.
            self.today.restore((midnight.date(), today))
            await self._take_baseline(now, calls)
            return
        fresh = [call for call in calls if not self._is_known(call, now)]
        detailed = [await self.client.call_detail(call) for call in fresh]
        self.today.restore((midnight.date(), today - len(detailed)))
        await self._report(now, detailed, None)

    async def async_handle_webhook(self, payload: dict[str, Any]) -> None:
        """A call event pushed by Hipcall: fired at once, each once."""
        event, call = pushed_call(payload)
        if event == "call_init":
            if call.direction == "inbound" and await self.async_record(
                [f"ringing:{call.uuid}"]
            ):
                self.hass.bus.async_fire(
                    EVENT_INCOMING_CALL, incoming_call_data(self.config_entry, call)
                )
            return
        if not call.missing_call:
            return
        # The same key as polling's: whichever sees the call first fires it.
        if await self.async_record(
            [call.uuid], len, {"last_missed_at": self._newest_missed(call)}
        ):
            self.hass.bus.async_fire(
                EVENT_MISSED_CALL,
                missed_call_data(self.config_entry, call, catch_up=False),
            )
            # Not async_set_updated_data: pushes must not postpone the polls.
            self.data = self._data()
            self.async_update_listeners_soon()

    def _newest_missed(self, call: HipcallCall) -> str | None:
        last = stored_time(self.ledger.position.get("last_missed_at"))
        newest = max(call.started_at, last) if last else call.started_at
        return newest.isoformat()

    def is_owner(self, user_id: int) -> bool:
        """Whether the user is the account's owner (whose id keys the entry)."""
        return str(user_id) == entry_account_id(self.config_entry)

    async def async_set_presence(self, user_id: int, state: str) -> None:
        """Set a user's presence, and show it at once."""
        await self.client.set_presence(user_id, state)
        user = self._users.get(user_id)
        if user is not None:
            self._users[user_id] = replace(
                user, status=state, state_changed_at=dt_util.utcnow()
            )
            self.async_update_listeners()

    async def _poll_users(self, *, extensions: bool = True) -> None:
        page = (
            signed_in_users(
                self.hass, self.client.base_url, self.config_entry.data[CONF_API_TOKEN]
            )
            or await self.client.list_users()
        )
        self._warn_malformed("user", page.malformed)
        users = {user.id: user for user in page.items}
        # A user whose record is malformed now is still there: keep what we knew.
        for record in page.malformed:
            if record.identity and record.identity.isdigit():
                known = self._users.get(int(record.identity))
                if known is not None:
                    users[known.id] = known
        self._users = users
        if extensions:
            self._extensions = await self.client.extensions_by_user(users.values())

    def _is_known(self, call: HipcallCall, now: datetime) -> bool:
        """Whether the call was seen before or ended too early to report."""
        cutoff = max(self.ledger.baseline_at or now, now - CATCH_UP_WINDOW)
        return self.ledger.knows(call.uuid) or call.finished_at < cutoff

    async def _poll_calls(self, now: datetime) -> tuple[list[HipcallCall], int | None]:
        """Calls not reported before, from as many pages as it takes (bounded).

        Also the page to go on from next poll, when the page bound cut it short.
        """
        position = self.ledger.position
        horizon = (stored_time(position.get("last_poll_at")) or now) - LOOKBACK
        resume = position.get("resume_page")
        resume = resume if isinstance(resume, int) else None
        found: dict[str, HipcallCall] = {}
        page: int | None = 1
        for _ in range(MAX_PAGES_PER_POLL):
            assert page is not None
            result = await self.client.calls_page(page)
            self._warn_malformed("call", result.malformed)
            fresh = [
                call
                for call in result.items
                if call.uuid not in found and not self._is_known(call, now)
            ]
            found.update((call.uuid, call) for call in fresh)
            reached_back = not result.items or any(
                call.started_at < horizon for call in result.items
            )
            page = result.next_page
            if page is None or (not fresh and reached_back):
                # A poll cut short by the page bound goes on where it stopped.
                page, resume = resume, None
                if page is None:
                    return list(found.values()), None
        LOGGER.debug("Call history continues next poll at page %s", page)
        return list(found.values()), page
