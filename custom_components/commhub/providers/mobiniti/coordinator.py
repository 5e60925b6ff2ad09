"""Mobiniti: six webhook kinds fired once, a polling fallback, unsubscribes today."""

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
import hashlib
from http import HTTPStatus
import json
from typing import Any, override

from aiohttp import ClientError
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_ACCESS_TOKEN
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import OAuth2TokenRequestReauthError
from homeassistant.helpers import config_entry_oauth2_flow
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.util import dt as dt_util
import voluptuous as vol

from ...api import (
    CommHubAuthError,
    CommHubConnectionError,
    CommHubRequestError,
)
from ...api.mobiniti import (
    MOBINITI_API_URL,
    MobinitiClient,
    MobinitiContact,
    MobinitiMessage,
    parse_mobiniti_time,
)
from ...const import CONF_BASE_URL, CONF_POLLING, DOMAIN
from ...coordinator import StoredCoordinator, scan_interval
from ...provider import Interval
from ...stored import stored_time
from ...webhooks import InvalidPayloadError

type MobinitiConfigEntry = ConfigEntry[MobinitiCoordinator]

WEBHOOK_KINDS = (
    "unsubscribe",
    "inbound_message",
    "delivery_report",
    "contact_status",
    "bounce",
    "rejection",
)
CONTACT_STATUSES = ("suspended", "deactivated", "resumed", "transferred")
INTERVAL = Interval(default=60, minimum=60, maximum=3600)
# Records can be listed a little late: each poll reads back this far before the last.
LOOKBACK = timedelta(minutes=10)
MAX_PAGES_PER_POLL = 5
# Polling reports nothing older than the ledger remembers deliveries.
DEDUPE_WINDOW = timedelta(hours=24)


def _time(value: Any) -> str:
    """A payload time as a normalised ISO 8601 string (so keys and data match)."""
    if not isinstance(value, str):
        raise vol.Invalid("not a time")
    try:
        return parse_mobiniti_time(value).isoformat()
    except ValueError as err:
        raise vol.Invalid("not a time") from err


def _optional_time(value: Any) -> str | None:
    return None if value is None else _time(value)


TEXT = vol.Any(None, str)
CONTACT = {
    vol.Required("id"): str,
    vol.Optional("first_name"): TEXT,
    vol.Optional("last_name"): TEXT,
    vol.Optional("email"): TEXT,
    vol.Optional("created_at"): _optional_time,
    vol.Optional("updated_at"): _optional_time,
}
COUNT = vol.All(int, vol.Range(min=0))
CODE = vol.Any(str, int)
SCHEMAS: dict[str, vol.Schema] = {
    "unsubscribe": vol.Schema(
        {
            **CONTACT,
            vol.Required("phone_number"): TEXT,
            vol.Optional("to"): TEXT,
            vol.Required("unsubscribed_at"): _optional_time,
        },
        extra=vol.ALLOW_EXTRA,
    ),
    "inbound_message": vol.Schema(
        {
            **CONTACT,
            vol.Required("phone_number"): TEXT,
            vol.Required("message"): TEXT,
            vol.Optional("short_code"): TEXT,
            vol.Optional("unsubscribed_at"): _optional_time,
            vol.Required("received_at"): _time,
        },
        extra=vol.ALLOW_EXTRA,
    ),
    "delivery_report": vol.Schema(
        {
            vol.Required("total_messages"): COUNT,
            vol.Required("statuses"): [
                vol.Schema(
                    {
                        vol.Required("code"): CODE,
                        vol.Optional("status"): TEXT,
                        vol.Optional("count"): COUNT,
                        vol.Optional("recipients"): [str],
                        vol.Optional("success"): bool,
                        vol.Optional("bounce"): bool,
                    },
                    extra=vol.ALLOW_EXTRA,
                )
            ],
            vol.Required("messages"): [dict],
        },
        extra=vol.ALLOW_EXTRA,
    ),
    "contact_status": vol.Schema(
        {
            **CONTACT,
            vol.Required("phone_number"): str,
            vol.Required("status"): vol.In(CONTACT_STATUSES),
            vol.Optional("previous_phone_number"): TEXT,
        },
        extra=vol.ALLOW_EXTRA,
    ),
    "bounce": vol.Schema(
        {
            **CONTACT,
            vol.Required("phone_number"): str,
            vol.Required("bounces"): COUNT,
            vol.Optional("unsubscribed_at"): _optional_time,
        },
        extra=vol.ALLOW_EXTRA,
    ),
    "rejection": vol.Schema(
        {
            vol.Required("code"): CODE,
            vol.Required("message"): str,
            vol.Required("description"): str,
        },
        extra=vol.ALLOW_EXTRA,
    ),
}


def webhook_kind(payload: Mapping[str, Any]) -> str | None:
    """A delivery's kind by its shape, for URLs without `?kind=`."""
    if "total_messages" in payload:
        return "delivery_report"
    if "bounces" in payload:
        return "bounce"
    if "received_at" in payload:
        return "inbound_message"
    if "status" in payload and "id" in payload:
        return "contact_status"
    if "to" in payload or "unsubscribed_at" in payload:
        return "unsubscribe"
    if "description" in payload and "code" in payload:
        return "rejection"
    return None


def _content_key(kind: str, payload: Mapping[str, Any]) -> str:
    """A key for a delivery that has no natural id: its content."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return f"{kind}:{hashlib.sha256(canonical.encode()).hexdigest()}"


def _second(at: str | None) -> str | None:
    """A time to the second: the same moment however precisely each path gives it."""
    return at[:19] if at else None


def unsubscribe_key(contact_id: str, unsubscribed_at: str | None) -> str:
    """The same unsubscribe, whether posted or polled."""
    return f"unsubscribe:{contact_id}:{_second(unsubscribed_at)}"


def inbound_key(sender: str | None, received_at: str, text: str | None) -> str:
    """The same inbound message, whether posted or polled: who, when, what."""
    digest = hashlib.sha256((text or "").encode()).hexdigest()[:16]
    return f"inbound_message:{sender}:{_second(received_at)}:{digest}"


@dataclass(frozen=True, slots=True)
class MobinitiEvent:
    """One event to fire: its kind, dedupe key, data and when it happened."""

    kind: str
    key: str
    data: dict[str, Any]
    at: datetime | None = None


def event_from_webhook(kind: str, payload: dict[str, Any]) -> MobinitiEvent:
    """The event a delivery stands for (InvalidPayloadError if it does not validate)."""
    try:
        valid = SCHEMAS[kind](payload)
    except vol.Invalid as err:
        path = ".".join(str(part) for part in err.path) or "body"
        raise InvalidPayloadError(f"the {path!r} field is invalid") from err
    contact = {
        "contact_id": valid.get("id"),
        "phone_number": valid.get("phone_number"),
    }
    if kind == "unsubscribe":
        at = valid["unsubscribed_at"] or valid.get("updated_at")
        return MobinitiEvent(
            kind,
            unsubscribe_key(valid["id"], at),
            {
                **contact,
                "to": valid.get("to"),
                "unsubscribed_at": valid["unsubscribed_at"],
                "first_name": valid.get("first_name"),
                "last_name": valid.get("last_name"),
                "email": valid.get("email"),
            },
        )
    if kind == "inbound_message":
        return MobinitiEvent(
            kind,
            inbound_key(
                valid["phone_number"] or valid["id"],
                valid["received_at"],
                valid["message"],
            ),
            {
                "phone_number": valid["phone_number"],
                "message": valid["message"],
                "received_at": valid["received_at"],
                "contact_id": valid["id"],
            },
        )
    data: dict[str, Any]
    if kind == "delivery_report":
        data = {
            "total_messages": valid["total_messages"],
            "statuses": valid["statuses"],
            "messages": valid["messages"],
        }
    elif kind == "contact_status":
        data = {
            **contact,
            "status": valid["status"],
            "previous_phone_number": valid.get("previous_phone_number"),
        }
    elif kind == "bounce":
        data = {**contact, "bounces": valid["bounces"]}
    else:
        data = {
            "code": valid["code"],
            "message": valid["message"],
            "description": valid["description"],
        }
    return MobinitiEvent(kind, _content_key(kind, payload), data)


def event_from_contact(contact: MobinitiContact) -> MobinitiEvent:
    """The unsubscribe a polled contact shows."""
    at = contact.unsubscribed_at.isoformat() if contact.unsubscribed_at else None
    return MobinitiEvent(
        "unsubscribe",
        unsubscribe_key(contact.id, at),
        {
            "contact_id": contact.id,
            "phone_number": contact.phone_number,
            "to": None,
            "unsubscribed_at": at,
            "first_name": contact.first_name,
            "last_name": contact.last_name,
            "email": contact.email,
        },
        contact.unsubscribed_at,
    )


def event_from_message(message: MobinitiMessage) -> MobinitiEvent:
    """The inbound message a polled message is."""
    received_at = message.created_at.isoformat()
    return MobinitiEvent(
        "inbound_message",
        inbound_key(
            message.phone_number or message.contact_id, received_at, message.message
        ),
        {
            "phone_number": message.phone_number,
            "message": message.message,
            "received_at": received_at,
            "contact_id": message.contact_id,
        },
        message.created_at,
    )


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
        """A delivery: validated, then fired unless it was reported before."""
        event = event_from_webhook(kind, payload)
        await self._report([event], polled=False)

    async def _report(
        self, events: Sequence[MobinitiEvent], *, polled: bool, **position: Any
    ) -> None:
        """Fire the events not reported before, once; persisted before firing."""
        by_key = {event.key: event for event in events}
        fresh = [
            by_key[key]
            for key in await self.async_record(
                by_key,
                lambda keys: sum(k.startswith("unsubscribe:") for k in keys),
                position,
            )
        ]
        for event in fresh:
            data = {
                "config_entry_id": self.config_entry.entry_id,
                "service": "mobiniti",
                **event.data,
            }
            if event.kind == "inbound_message":
                data["catch_up"] = polled and self.is_catch_up(event.at)
            self.hass.bus.async_fire(f"{DOMAIN}_{event.kind}", data)
        if any(event.kind == "unsubscribe" for event in fresh):
            self.async_update_listeners_soon()
