"""Mobiniti: six webhook kinds fired once, a polling fallback, unsubscribes today."""

from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime, timedelta
from http import HTTPStatus
from typing import Any, override

from aiohttp import ClientError
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_ACCESS_TOKEN
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import OAuth2TokenRequestReauthError
from homeassistant.helpers import config_entry_oauth2_flow
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.util import dt as dt_util

from ...api import (
    CommHubAuthError,
    CommHubConnectionError,
    CommHubRequestError,
)
from ...api.mobiniti import MOBINITI_API_URL, MobinitiClient
from ...const import CONF_BASE_URL, CONF_POLLING, DOMAIN
from ...coordinator import StoredCoordinator, scan_interval
from ...provider import Interval
from ...stored import stored_time
from .events import (
    MobinitiEvent,
    event_from_contact,
    event_from_message,
    event_from_webhook,
)

type MobinitiConfigEntry = ConfigEntry[MobinitiCoordinator]

INTERVAL = Interval(default=60, minimum=60, maximum=3600)
# Records can be listed a little late: each poll reads back this far before the last.
LOOKBACK = timedelta(minutes=10)
MAX_PAGES_PER_POLL = 5
# Polling reports nothing older than the ledger remembers deliveries.
DEDUPE_WINDOW = timedelta(hours=24)


def _token_source(
    hass: HomeAssistant, entry: ConfigEntry
) -> tuple[str | Callable[[], Awaitable[str]], str]:
    """A personal access token, or an OAuth2 session's always-valid token."""
    if CONF_ACCESS_TOKEN in entry.data:
        return entry.data[CONF_ACCESS_TOKEN], entry.data.get(
            CONF_BASE_URL, MOBINITI_API_URL
        )

    async def oauth_token() -> str:
        # Refresh failures join the client's hierarchy: one mapping for polls and actions.
        try:
            implementation = (
                await config_entry_oauth2_flow.async_get_config_entry_implementation(
                    hass, entry
                )
            )
            session = config_entry_oauth2_flow.OAuth2Session(
                hass, entry, implementation
            )
            await session.async_ensure_token_valid()
        except OAuth2TokenRequestReauthError as err:
            raise CommHubAuthError("the token could not be refreshed") from err
        except ClientError as err:  # the other token request errors included
            raise CommHubConnectionError("the token refresh failed") from err
        return str(session.token["access_token"])

    return oauth_token, MOBINITI_API_URL


class MobinitiCoordinator(StoredCoordinator[date]):
    """Checks the token; with the polling fallback on, reads new unsubscribes and
    inbound messages. Webhook deliveries arrive through `async_handle_webhook`.

    The data is the local day the last update happened on (the daily count is in
    the ledger).
    """

    config_entry: MobinitiConfigEntry
    store_name = "mobiniti_events"
    provider_name = "Mobiniti"

    def __init__(self, hass: HomeAssistant, entry: MobinitiConfigEntry) -> None:
        """Create the client for the entry's account."""
        self.polling = bool(entry.options.get(CONF_POLLING))
        super().__init__(
            hass,
            entry,
            scan_interval(entry, INTERVAL.default) if self.polling else None,
        )
        token, base_url = _token_source(hass, entry)
        self.client = MobinitiClient(async_get_clientsession(hass), token, base_url)

    @staticmethod
    @override
    def migrate(legacy: dict[str, Any]) -> dict[str, Any] | None:
        """The `EventLedger` Store of CommHub ≤ 1.2 (version 1)."""
        counted_day = legacy.get("counted_day")
        return {
            "baseline_at": legacy.get("baseline_at"),
            "position": {"last_poll_at": legacy.get("last_poll_at")},
            "counters": {"today": {"day": counted_day, "count": legacy.get("counted")}},
            "keys": legacy.get("keys"),
        }

    def unsubscribes_today(self) -> int:
        """Unsubscribes received since local midnight."""
        return self.count_today()

    @override
    async def _async_poll(self) -> date:
        now = dt_util.utcnow()
        if not self.polling:
            await self._check_token()
            return dt_util.now().date()
        events = [
            *await self._poll_unsubscribes(now),
            *await self._poll_inbound(now),
        ]
        events.sort(key=lambda event: event.at or now)
        await self._report(events, polled=True, last_poll_at=now.isoformat())
        return dt_util.now().date()

    async def _check_token(self) -> None:
        """A 401 starts reauth; a token without the contacts scope still works.

        Not the config flow's route: setting up right after it waits for nothing.
        """
        try:
            await self.client.check_token("contacts")
        except CommHubRequestError as err:
            if err.status != HTTPStatus.FORBIDDEN:
                raise

    def _since(self, now: datetime) -> datetime:
        """Read back to here: the last poll (minus a margin) or the cutoff."""
        # Polling turned on later starts from now, not from a day of history.
        last = stored_time(self.ledger.position.get("last_poll_at")) or now
        baseline = self.ledger.baseline_at or now
        return max(baseline, now - DEDUPE_WINDOW, last - LOOKBACK)

    async def _poll_unsubscribes(self, now: datetime) -> list[MobinitiEvent]:
        """Contacts newest-updated first, back to the last poll (bounded)."""
        since = self._since(now)
        events: list[MobinitiEvent] = []
        page: int | None = 1
        for _ in range(MAX_PAGES_PER_POLL):
            assert page is not None
            result = await self.client.contacts_by_update(page)
            self._warn_malformed("contact", result.malformed)
            events.extend(
                event_from_contact(contact)
                for contact in result.items
                if contact.unsubscribed_at is not None
                and contact.unsubscribed_at >= since
            )
            page = result.next_page
            if page is None or any(c.updated_at < since for c in result.items):
                break
        return events

    async def _poll_inbound(self, now: datetime) -> list[MobinitiEvent]:
        """Incoming messages created since the last poll (bounded)."""
        events: list[MobinitiEvent] = []
        since = self._since(now)
        page: int | None = 1
        for _ in range(MAX_PAGES_PER_POLL):
            assert page is not None
            result = await self.client.incoming_messages(since, page)
            self._warn_malformed("message", result.malformed)
            events.extend(event_from_message(message) for message in result.items)
            page = result.next_page
            if page is None:
                break
        return events

    async def async_handle_webhook(self, kind: str, payload: dict[str, Any]) -> None:
        """A delivery: validated, then fired unless it was reported before.

        One event, so none of `_report`'s grouping (a delivery path is a hot one).
        """
        event = event_from_webhook(kind, payload)
        unsubscribe = event.kind == "unsubscribe"
        if await self.async_record((event.key,), len if unsubscribe else None):
            self._fire(event, polled=False)
            if unsubscribe:
                self.async_update_listeners_soon()

    async def _report(
        self, events: Sequence[MobinitiEvent], *, polled: bool, **position: Any
    ) -> None:
        """Fire the events not reported before, once; persisted before firing."""
        by_key = {event.key: event for event in events}
        fresh = [
            by_key[key]
            for key in await self.async_record(by_key, _unsubscribes, position)
        ]
        for event in fresh:
            self._fire(event, polled)
        if any(event.kind == "unsubscribe" for event in fresh):
            self.async_update_listeners_soon()

    def _fire(self, event: MobinitiEvent, polled: bool) -> None:
        """The bus event of a fresh event (a polled message may be a catch-up)."""
        data = {
            "config_entry_id": self.config_entry.entry_id,
            "service": "mobiniti",
            **event.data,
        }
        if event.kind == "inbound_message":
            data["catch_up"] = polled and self.is_catch_up(event.at)
        self.hass.bus.async_fire(f"{DOMAIN}_{event.kind}", data)


def _unsubscribes(keys: list[str]) -> int:
    """The unsubscribes of these keys: today's count."""
    return sum(key.startswith("unsubscribe:") for key in keys)
