"""Client for the Mobiniti API v1: messages, contacts, sends, unsubscribes, lookups."""

import asyncio
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
import json
import re
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp

from .errors import CommHubRequestError, CommHubResponseError
from .http import HttpClient, RawResponse
from .records import (
    MalformedRecordError,
    Page,
    optional_field,
    parse_records,
    required_field,
)

MOBINITI_API_URL = "https://api.mobiniti.com"
OAUTH_AUTHORIZE_URL = "https://app.mobiniti.com/oauth/authorize"
OAUTH_TOKEN_URL = "https://app.mobiniti.com/oauth/token"
# Only the scopes CommHub's features need: validation and polling, sending,
# scheduling, unsubscribing and carrier lookups.
SCOPES: tuple[str, ...] = (
    "messages.view",
    "messages.create",
    "message.schedule.create",
    "contacts.view",
    "contacts.update",
    "phone-numbers.lookup",
)
MAX_UNSUBSCRIBE = 100  # numbers per PATCH /v1/contacts/unsubscribe
MAX_LOOKUP = 10  # numbers per POST /v1/phone-numbers/lookup
MAX_BATCH = 100  # numbers per POST /v1/message/batch
# The API's largest page ("the default and max number of results being 100").
PAGE_LIMIT = 100
# The document: "1 request per second for each route".
ROUTE_INTERVAL = 1.0
# Scheduling: the document's path first, then the one Mobiniti's own PHP client uses.
SCHEDULE_PATHS: tuple[str, str] = ("/v1/message/schedule", "/v1/messages/schedule")
# Statuses that prove a path has no scheduling route, so nothing was scheduled there.
NO_ROUTE = frozenset({404, 405})
E164_RE = re.compile(r"\+[1-9][0-9]{1,14}")


def is_e164(number: str) -> bool:
    """Whether `number` is an E.164 phone number (`+` and 2-15 digits)."""
    return E164_RE.fullmatch(number) is not None


def parse_mobiniti_time(value: str) -> datetime:
    """An ISO 8601 time with an offset ("Z", "+00:00" or "+0000"), in UTC.

    ValueError for anything else, naive times included: the API always says UTC,
    so a time without an offset is not one of its times.
    """
    try:
        parsed = datetime.fromisoformat(value)
    except TypeError as err:  # not a string at all
        raise ValueError(f"not a time: {value!r}") from err
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError(f"time without an offset: {value!r}")
    return parsed.astimezone(UTC)


def format_mobiniti_time(value: datetime) -> str:
    """A time as the document's rule says: UTC `YYYY-MM-DDThh:mm:ss.SSSZ`.

    ValueError for a naive time: its zone is unknown, and guessing would send a
    scheduled message hours early or late.
    """
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("a Mobiniti time needs a time zone")
    moment = value.astimezone(UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


@dataclass(frozen=True, slots=True)
class MobinitiMessage:
    """A message of GET /v1/messages."""

    id: str
    contact_id: str | None
    phone_number: str | None
    message: str | None
    created_at: datetime  # aware, UTC


@dataclass(frozen=True, slots=True)
class MobinitiContact:
    """A contact of GET /v1/contacts."""

    id: str
    phone_number: str | None
    first_name: str | None
    last_name: str | None
    email: str | None
    unsubscribed_at: datetime | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class MobinitiSent:
    """What a send returned for one number."""

    id: str | None
    phone_number: str | None


@dataclass(frozen=True, slots=True)
class MobinitiScheduled:
    """A scheduled message just created."""

    id: str | None
    phone_number: str | None
    send_at: datetime | None


def _optional_time(record: Mapping[str, Any], key: str) -> datetime | None:
    value = optional_field(record, key, str)
    if value is None:
        return None
    try:
        return parse_mobiniti_time(value)
    except ValueError as err:
        raise MalformedRecordError(key) from err


def _first_time(record: Mapping[str, Any], key: str, *fallbacks: str) -> datetime:
    """The record's `key` time, else the first of `fallbacks` it has."""
    for name in (key, *fallbacks):
        value = _optional_time(record, name)
        if value is not None:
            return value
    raise MalformedRecordError(key)


def parse_message(record: Mapping[str, Any]) -> MobinitiMessage:
    """A message from its API representation."""
    return MobinitiMessage(
        id=required_field(record, "id", str),
        contact_id=optional_field(record, "contact_id", str),
        phone_number=optional_field(record, "phone_number", str),
        message=optional_field(record, "message", str),
        created_at=_first_time(record, "created_at", "received_at"),
    )


def parse_contact(record: Mapping[str, Any]) -> MobinitiContact:
    """A contact from its API representation."""
    return MobinitiContact(
        id=required_field(record, "id", str),
        phone_number=optional_field(record, "phone_number", str),
        first_name=optional_field(record, "first_name", str),
        last_name=optional_field(record, "last_name", str),
        email=optional_field(record, "email", str),
        unsubscribed_at=_optional_time(record, "unsubscribed_at"),
        updated_at=_first_time(record, "updated_at", "unsubscribed_at", "created_at"),
    )


def _text(record: Mapping[str, Any], key: str) -> str | None:
    value = record.get(key)
    return value if isinstance(value, str) and value else None


def _sent(record: object, phone_number: str) -> MobinitiSent:
    """What a send answered for one number; Mobiniti accepted it whatever the shape."""
    if not isinstance(record, dict):
        return MobinitiSent(None, phone_number)
    return MobinitiSent(
        _text(record, "id"), _text(record, "phone_number") or phone_number
    )


def _scheduled(record: object, phone_number: str) -> MobinitiScheduled:
    """What scheduling answered; accepted whatever the shape."""
    if not isinstance(record, dict):
        return MobinitiScheduled(None, phone_number, None)
    try:
        send_at = _optional_time(record, "send_at")
    except MalformedRecordError:
        send_at = None
    return MobinitiScheduled(
        _text(record, "id"), _text(record, "phone_number") or phone_number, send_at
    )


def _positive_int(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    return None


def _next_page(body: Mapping[str, Any]) -> int | None:
    """The page after this one from `meta.pagination` (None on the last page).

    `links.next` wins; without it `current_page < total_pages` says there is more.
    Only the page number is taken from the link: its host is never sent the token.
    """
    meta = body.get("meta")
    pagination = meta.get("pagination") if isinstance(meta, dict) else None
    if not isinstance(pagination, dict):
        return None
    links = pagination.get("links")
    url = links.get("next") if isinstance(links, dict) else None
    if url is not None:
        if not isinstance(url, str):
            raise CommHubResponseError("links.next is not a URL")
        try:
            page = int(parse_qs(urlsplit(url).query)["page"][0])
        except (KeyError, ValueError) as err:
            raise CommHubResponseError("links.next without a page number") from err
        return page
    current = _positive_int(pagination.get("current_page"))
    total = _positive_int(pagination.get("total_pages"))
    if current is not None and total is not None and current < total:
        return current + 1
    return None


def _chunks[T](items: Sequence[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


class RouteThrottle:
    """At most one request per `interval` seconds per route key; callers queue in
    order (never dropped)."""

    def __init__(
        self, interval: float = ROUTE_INTERVAL, clock: Callable[[], float] | None = None
    ) -> None:
        """Start with every route free."""
        self.interval = interval
        self._clock = clock
        self._ready: dict[str, float] = {}  # key -> when its next request may go

    def _now(self) -> float:
        # time.monotonic is looked up per call so a frozen test clock applies.
        return self._clock() if self._clock else time.monotonic()

    def _prune(self, now: float) -> None:
        if len(self._ready) > 64:
            self._ready = {k: at for k, at in self._ready.items() if at > now}

    async def wait(self, key: str) -> None:
        """Return when the caller may send; reserves the slot.

        The slot is taken before sleeping, so callers are served in the order they
        called (each `interval` after the one before), even if one is cancelled.
        """
        now = self._now()
        self._prune(now)
        at = max(now, self._ready.get(key, now))
        self._ready[key] = at + self.interval
        if at > now:
            await asyncio.sleep(at - now)

    def done(self, key: str) -> None:
        """The request sent in a slot has been answered: keep the next one
        `interval` after now too.

        The service counts from when a request arrives, which is some time after
        the slot began; counting from the answer keeps a slower request followed by
        a faster one from arriving less than `interval` apart.
        """
        now = self._now()
        self._ready[key] = max(self._ready.get(key, now), now + self.interval)


class MobinitiClient(HttpClient):
    """One Mobiniti account, authenticated by a personal or OAuth access token."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        token: str | Callable[[], Awaitable[str]],
        base_url: str = MOBINITI_API_URL,
        *,
        route_interval: float = ROUTE_INTERVAL,
        **kwargs: Any,
    ) -> None:
        """Authenticate with `token`: a personal access token, or an async callable
        returning a valid OAuth access token (called before every request).

        Whatever the callable raises (e.g. Home Assistant's token refresh errors)
        reaches the caller unchanged.
        """
        super().__init__(session, base_url, **kwargs)
        self._token = token
        self.throttle = RouteThrottle(route_interval, clock=kwargs.get("clock"))
        # One request per route at a time, so the throttle can count from answers.
        self._route_locks: dict[str, asyncio.Lock] = {}
        # The scheduling path tried first: the last one that worked.
        self._schedule_path = SCHEDULE_PATHS[0]

    async def _access_token(self) -> str:
        if isinstance(self._token, str):
            return self._token
        return await self._token()

    def _auth_headers(self) -> Mapping[str, str]:
        # Authorization is added per request: an OAuth token may change.
        return {"Accept": "application/json"}

    async def request(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> RawResponse:
        """Send one request in its route's turn (1 per `route_interval` seconds)."""
        token = await self._access_token()
        # Waiting for a slot is pointless while the service has said to hold off.
        self._raise_if_blocked()
        key = f"{method.upper()} {path.partition('?')[0]}"
        lock = self._route_locks.setdefault(key, asyncio.Lock())
        async with lock:
            self._raise_if_blocked()  # a 429 may have come while this one queued
            await self.throttle.wait(key)
            try:
                return await super().request(
                    method,
                    path,
                    headers={**(headers or {}), "Authorization": f"Bearer {token}"},
                    **kwargs,
                )
            finally:
                self.throttle.done(key)

    def _error_message(self, response: RawResponse) -> str:
        """The body's `message` and the field messages of `errors`."""
        try:
            data = response.json_object()
        except CommHubResponseError:
            return super()._error_message(response)
        message = data.get("message")
        errors = data.get("errors")
        details: list[str] = []
        if isinstance(errors, dict):
            for field, texts in errors.items():
                items = texts if isinstance(texts, list) else [texts]
                details.extend(
                    f"{field}: {text}" for text in items if isinstance(text, str)
                )
        parts = [message] if isinstance(message, str) and message else []
        if details:
            parts.append("; ".join(details))
        return ": ".join(parts) or super()._error_message(response)

    async def _send(self, method: str, path: str, body: Mapping[str, Any]) -> Any:
        """A write: its answer's `data` (or the whole answer, None if empty).

        The document gives no answer bodies: a 2xx means Mobiniti accepted the
        request, so an answer of another shape is never turned into a failure.
        """
        response = await self.request(method, path, json=dict(body))
        try:
            answer = json.loads(response.body) if response.body.strip() else None
        except ValueError:
            return None
        if isinstance(answer, dict) and "data" in answer:
            return answer["data"]
        return answer

    async def _page[T](
        self,
        path: str,
        params: Mapping[str, str | int],
        page: int,
        parse: Callable[[Mapping[str, Any]], T],
    ) -> Page[T]:
        response = await self.request(
            "GET", path, params={**params, "limit": PAGE_LIMIT, "page": page}
        )
        body = response.json_object()
        data = body.get("data")
        if not isinstance(data, list):
            raise CommHubResponseError(f"{path} list without data")
        items, malformed = parse_records(data, parse)
        next_page = _next_page(body)
        if next_page is not None and next_page <= page:
            raise CommHubResponseError("links.next goes backwards")
        return Page(items, malformed, next_page)

    async def check_token(self, resource: str = "messages") -> None:
        """Prove the token with a cheap GET its scopes allow (one record)."""
        await self.request("GET", f"/v1/{resource}", params={"limit": 1})

    async def oldest_message_id(self) -> str | None:
        """The account's first message: it identifies the account to every token.

        Also proves the token (a cheap GET its scopes allow). None when the
        account has no message yet.
        """
        response = await self.request(
            "GET", "/v1/messages", params={"sort": "created_at", "limit": 1}
        )
        records = response.json_object().get("data")
        first = records[0] if isinstance(records, list) and records else None
        message_id = first.get("id") if isinstance(first, dict) else None
        return message_id if isinstance(message_id, str) and message_id else None

    async def incoming_messages(
        self, since: datetime, page: int = 1
    ) -> Page[MobinitiMessage]:
        """One page of the messages received since `since`, oldest first."""
        params = {
            "filter[type]": "INCOMING_ALL",
            "filter[created_at_min]": format_mobiniti_time(since),
            "sort": "created_at",
        }
        return await self._page("/v1/messages", params, page, parse_message)

    async def contacts_by_update(self, page: int = 1) -> Page[MobinitiContact]:
        """One page of the contacts, most recently updated first."""
        params = {"sort": "-updated_at"}
        return await self._page("/v1/contacts", params, page, parse_contact)

    async def send_message(self, phone_number: str, message: str) -> MobinitiSent:
        """Send one message to one phone number (E.164)."""
        body = {"phone_number": phone_number, "message": message}
        return _sent(await self._send("POST", "/v1/message", body), phone_number)

    async def send_batch(
        self, phone_numbers: Sequence[str], message: str
    ) -> list[MobinitiSent]:
        """Send one message to each number (at most MAX_BATCH), in order."""
        if not phone_numbers:
            return []
        body = {"phone_numbers": list(phone_numbers), "message": message}
        data = await self._send("POST", "/v1/message/batch", body)
        records = data if isinstance(data, list) else []
        return [
            _sent(records[i] if i < len(records) else None, number)
            for i, number in enumerate(phone_numbers)
        ]

    async def schedule_message(
        self, phone_number: str, message: str, send_at: datetime
    ) -> MobinitiScheduled:
        """Schedule a message for `send_at` (aware; ValueError if naive)."""
        body = {
            "phone_number": phone_number,
            "message": message,
            "send_at": format_mobiniti_time(send_at),
        }
        return _scheduled(await self._post_schedule(body), phone_number)

    async def _post_schedule(self, body: Mapping[str, Any]) -> Any:
        """POST to the path that worked last; on a 404 or 405 to the other one once.

        Only those answers prove nothing was scheduled, so no other error is
        retried (never two scheduled messages). The path that works is kept.
        """
        first = self._schedule_path
        try:
            return await self._send("POST", first, body)
        except CommHubRequestError as err:
            if err.status not in NO_ROUTE:
                raise
            refused = err
        other = SCHEDULE_PATHS[1] if first == SCHEDULE_PATHS[0] else SCHEDULE_PATHS[0]
        try:
            data = await self._send("POST", other, body)
        except CommHubRequestError as err:
            # Neither path took it: the answer of the path tried first is the one told.
            if err.status in NO_ROUTE:
                raise refused from err
            raise
        self._schedule_path = other
        return data

    async def unsubscribe(self, phone_numbers: Sequence[str]) -> int:
        """Unsubscribe the numbers, MAX_UNSUBSCRIBE per request; how many were.

        Where Mobiniti's answer has no `unsubscribed` count, every number sent
        counts (it accepted the request).
        """
        total = 0
        for chunk in _chunks(phone_numbers, MAX_UNSUBSCRIBE):
            answer = await self._send(
                "PATCH", "/v1/contacts/unsubscribe", {"phone_numbers": chunk}
            )
            count = answer.get("unsubscribed") if isinstance(answer, dict) else None
            if isinstance(count, int) and not isinstance(count, bool):
                total += count
            else:
                total += len(chunk)
        return total

    async def lookup_carriers(
        self, phone_numbers: Sequence[str]
    ) -> list[dict[str, Any]]:
        """Each number's carrier, MAX_LOOKUP numbers per request, in order."""
        results: list[dict[str, Any]] = []
        for chunk in _chunks(phone_numbers, MAX_LOOKUP):
            data = await self._send(
                "POST", "/v1/phone-numbers/lookup", {"phone_numbers": chunk}
            )
            if not isinstance(data, list) or not all(
                isinstance(item, dict) for item in data
            ):
                raise CommHubResponseError("lookup answer without a list of results")
            results.extend(data)
        return results
