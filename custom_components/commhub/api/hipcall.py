"""Client for the Hipcall API: the current one (v3) and the 2021 one (v20211124).

The generation is the last path segment of the base URL. Records of both map to
the same typed results; what only one generation has raises `UnsupportedError`.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp

from .errors import CommHubResponseError
from .http import HttpClient, RawResponse
from .ratelimit import RequestBudget
from .records import (
    MalformedRecord,
    MalformedRecordError,
    Page,
    optional_field,
    optional_time,
    parse_records,
    required_field,
    required_time,
)

HIPCALL_API_URL = "https://api.hipcall.com/api/v20211124"
CURRENT = "v3"
LEGACY = "v20211124"
# Where an account may live, tried in this order when no base URL is given.
KNOWN_API_URLS = (
    "https://use.hipcall.com.tr/api/v3",
    "https://use.hipcall.co.uk/api/v3",
    "https://use.hipcall.com/api/v3",
    HIPCALL_API_URL,
)
# The current API pages by limit/offset; 100 is its largest page.
PAGE_LIMIT = 100
# The documented budget: x-ratelimit-limit 30 per minute.
RATE_LIMIT = 30
RATE_WINDOW = 60.0
# Listing more pages than this means something is wrong with the paging itself.
MAX_LIST_PAGES = 50

MISSED_CALL_REASONS = {
    1: "out_of_business_hours",
    2: "short_abandoned",
    3: "abandoned",
    4: "callback",
}
UNKNOWN_REASON = "unknown"
DIRECTIONS = {1: "inbound", 2: "outbound", 3: "internal"}
# Presence states of the current API (what its users show).
PRESENCE_STATES = ("available", "away", "break", "busy", "unknown")
# What a user can choose; the others Hipcall sets itself.
SETTABLE_STATES = ("available", "away", "break", "busy")
COMMENTABLE_PATHS = {"contact": "contacts", "company": "companies", "deal": "deals"}


def api_generation(base_url: str) -> str:
    """`v3` for the current API, else the 2021 API's `v20211124`."""
    return CURRENT if base_url.rstrip("/").rsplit("/", 1)[-1] == CURRENT else LEGACY


class UnsupportedError(Exception):
    """What the entry's API generation does not have."""


@dataclass(frozen=True, slots=True)
class HipcallUser:
    """A user (phone team member) of the account."""

    id: int
    name: str
    status: str
    email: str | None = None
    title: str | None = None
    owner: bool = False
    default_extension_id: int | None = None
    last_logged_in: datetime | None = None
    state_changed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class HipcallCall:
    """A call detail record (CDR)."""

    uuid: str
    started_at: datetime
    ended_at: datetime | None
    missing_call: bool
    reason: str | None  # a MISSED_CALL_REASONS name for missed calls, else None
    direction: str | None
    user_id: int | None
    caller_number: str | None
    callee_number: str | None
    call_duration: int | None
    has_voicemail: bool = False

    @property
    def finished_at(self) -> datetime:
        """When the record came to be (its end, or its start when it has none)."""
        return self.ended_at or self.started_at


def parse_user(record: Mapping[str, Any]) -> HipcallUser:
    """A user from its list representation."""
    user_id = required_field(record, "id", int)
    return HipcallUser(
        id=user_id,
        name=optional_field(record, "full_name", str)
        or optional_field(record, "name", str)
        or f"User {user_id}",
        status=required_field(record, "status", str),
        email=optional_field(record, "email", str) or None,
        title=optional_field(record, "title", str) or None,
        owner=optional_field(record, "owner", bool) or False,
        default_extension_id=optional_field(record, "default_extension_id", int),
        last_logged_in=optional_time(record, "last_logged_in"),
    )


def parse_call(record: Mapping[str, Any]) -> HipcallCall:
    """A call from its list representation."""
    missing_call = required_field(record, "missing_call", bool)
    reason_code = optional_field(record, "missing_call_reason", int)
    direction = optional_field(record, "direction", int)
    return HipcallCall(
        uuid=required_field(record, "uuid", str),
        started_at=required_time(record, "started_at"),
        ended_at=optional_time(record, "ended_at"),
        missing_call=missing_call,
        reason=MISSED_CALL_REASONS.get(reason_code or 0, UNKNOWN_REASON)
        if missing_call
        else None,
        direction=DIRECTIONS.get(direction or 0),
        user_id=optional_field(record, "user_id", int),
        caller_number=optional_field(record, "caller_number", str),
        callee_number=optional_field(record, "callee_number", str),
        call_duration=optional_field(record, "call_duration", int),
        has_voicemail=_has_voicemail(record),
    )


def parse_user_v3(record: Mapping[str, Any]) -> HipcallUser:
    """A user of the current API: presence `state` instead of `status`."""
    user_id = required_field(record, "id", int)
    names = (optional_field(record, k, str) for k in ("first_name", "last_name"))
    state = optional_field(record, "state", str)
    return HipcallUser(
        id=user_id,
        name=optional_field(record, "full_name", str)
        or " ".join(n for n in names if n)
        or f"User {user_id}",
        status=state if state in PRESENCE_STATES else "unknown",
        email=optional_field(record, "email", str) or None,
        title=optional_field(record, "title", str) or None,
        owner=optional_field(record, "owner", bool) or False,
        state_changed_at=optional_time(record, "state_changed_at"),
    )


def parse_call_v3(record: Mapping[str, Any]) -> HipcallCall:
    """A call of the current API: a list item, or a detail (webhook data too)."""
    missing_call = optional_field(record, "missing_call", bool) or False
    reason = optional_field(record, "missing_call_reason", str)
    direction = optional_field(record, "direction", str)
    return HipcallCall(
        uuid=required_field(record, "uuid", str),
        started_at=required_time(record, "started_at"),
        ended_at=optional_time(record, "ended_at"),
        missing_call=missing_call,
        reason=(reason if reason in MISSED_CALL_REASONS.values() else UNKNOWN_REASON)
        if missing_call
        else None,
        direction=direction if direction in DIRECTIONS.values() else None,
        user_id=optional_field(record, "user_id", int),
        caller_number=optional_field(record, "caller_number", str),
        callee_number=optional_field(record, "callee_number", str),
        call_duration=optional_field(record, "call_duration", int),
        has_voicemail=_has_voicemail(record),
    )


def _has_voicemail(record: Mapping[str, Any]) -> bool:
    return any(record.get(key) for key in ("voicemail_url", "voicemail_id"))


def _api_time(at: datetime) -> str:
    """A time as the current API writes it (UTC, to the second)."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, slots=True)
class CallList:
    """Missed calls of a filtered list (newest first) and how many match in all."""

    items: list[HipcallCall]
    malformed: list[MalformedRecord]
    count: int


def _next_page(links: object) -> int | None:
    """The page number `links.next` points at (None on the last page).

    Only the number is taken: the link's host is never sent the token.
    """
    if not isinstance(links, dict):
        raise CommHubResponseError("list without links")
    url = links.get("next")
    if url is None:
        return None
    if not isinstance(url, str):
        raise CommHubResponseError("links.next is not a URL")
    try:
        return int(parse_qs(urlsplit(url).query)["page"][0])
    except (KeyError, ValueError) as err:
        raise CommHubResponseError("links.next without a page number") from err


class HipcallClient(HttpClient):
    """One Hipcall account, authenticated by its API token."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        api_token: str,
        base_url: str = HIPCALL_API_URL,
        **kwargs: Any,
    ) -> None:
        """Authenticate with the account's API token."""
        kwargs.setdefault("budget", RequestBudget(RATE_LIMIT, RATE_WINDOW))
        super().__init__(session, base_url, **kwargs)
        self._authorization = f"Bearer {api_token}"
        self.generation = api_generation(base_url)

    @property
    def current(self) -> bool:
        """Whether the entry speaks the current API (v3)."""
        return self.generation == CURRENT

    def _require_current(self, what: str) -> None:
        if not self.current:
            raise UnsupportedError(f"{what} needs Hipcall's current API (v3)")

    def _auth_headers(self) -> Mapping[str, str]:
        return {"Authorization": self._authorization, "Accept": "application/json"}

    def _error_message(self, response: RawResponse) -> str:
        try:
            data = response.json_object()
        except CommHubResponseError:
            return super()._error_message(response)
        message = data.get("message")
        errors = data.get("errors")
        if isinstance(errors, dict):
            # Validation answers list every field's problems; the message has one.
            details = [
                text
                for texts in errors.values()
                if isinstance(texts, list)
                for text in texts
                if isinstance(text, str)
            ]
            if details:
                return " ".join(details)
        return (
            message
            if isinstance(message, str) and message
            else super()._error_message(response)
        )

    async def _page[T](
        self, path: str, page: int, parse: Callable[[Mapping[str, Any]], T]
    ) -> Page[T]:
        body = (await self.request("GET", path, params={"page": page})).json_object()
        data = body.get("data")
        if not isinstance(data, list):
            raise CommHubResponseError("list without data")
        items, malformed = parse_records(data, parse)
        return Page(items, malformed, _next_page(body.get("links")))

    async def _all_pages[T](
        self, path: str, parse: Callable[[Mapping[str, Any]], T]
    ) -> Page[T]:
        items: list[T] = []
        malformed: list[MalformedRecord] = []
        page: int | None = 1
        for _ in range(MAX_LIST_PAGES):
            if page is None:
                return Page(items, malformed, None)
            result = await self._page(path, page, parse)
            items.extend(result.items)
            malformed.extend(result.malformed)
            if result.next_page is not None and result.next_page <= page:
                raise CommHubResponseError("links.next goes backwards")
            page = result.next_page
        raise CommHubResponseError(f"{path} has more than {MAX_LIST_PAGES} pages")

    async def _offset_page(
        self, path: str, offset: int, params: Mapping[str, str]
    ) -> tuple[list[Any], int]:
        """One page of the current API's lists: its records and the total count."""
        query = {**params, "limit": str(PAGE_LIMIT), "offset": str(offset)}
        body = (await self.request("GET", path, params=query)).json_object()
        data, meta = body.get("data"), body.get("meta")
        if not isinstance(data, list):
            raise CommHubResponseError("list without data")
        count = meta.get("count") if isinstance(meta, dict) else None
        if not isinstance(count, int) or isinstance(count, bool):
            raise CommHubResponseError("list without meta.count")
        return data, count

    async def _all_offsets[T](
        self,
        path: str,
        parse: Callable[[Mapping[str, Any]], T],
        params: Mapping[str, str] | None = None,
    ) -> tuple[Page[T], int]:
        """Every record of a current-API list, and its count."""
        records: list[Any] = []
        for _ in range(MAX_LIST_PAGES):
            data, count = await self._offset_page(path, len(records), params or {})
            records.extend(data)
            if not data or len(records) >= count:
                items, malformed = parse_records(records, parse)
                return Page(items, malformed, None), count
        raise CommHubResponseError(f"{path} has more than {MAX_LIST_PAGES} pages")

    async def list_users(self) -> Page[HipcallUser]:
        """Every user on every page; also proves the token."""
        if self.current:
            return (await self._all_offsets("/users", parse_user_v3))[0]
        return await self._all_pages("/users", parse_user)

    async def extensions_by_user(self, users: Iterable[HipcallUser]) -> dict[int, str]:
        """Each user's extension number (the default one on the 2021 API)."""

        def parse(record: Mapping[str, Any]) -> tuple[Any, str]:
            number = record.get("number")
            if not isinstance(number, str | int) or isinstance(number, bool):
                raise MalformedRecordError("number")
            target = optional_field(record, "target_type", str) or ""
            key = (
                (target.lower(), optional_field(record, "target_id", int))
                if self.current
                else required_field(record, "id", int)
            )
            return key, str(number)

        if self.current:
            page = (await self._all_offsets("/extensions", parse))[0]
            numbers = dict(page.items)
            return {
                user.id: numbers[("user", user.id)]
                for user in users
                if ("user", user.id) in numbers
            }
        numbers = dict((await self._all_pages("/extensions", parse)).items)
        return {
            user.id: numbers[user.default_extension_id]
            for user in users
            if user.default_extension_id in numbers
        }

    async def calls_page(self, page: int) -> Page[HipcallCall]:
        """One page of the 2021 API's call detail records."""
        return await self._page("/cdrs", page, parse_call)

    async def missed_calls(self, since: datetime, offset: int = 0) -> CallList:
        """Missed calls that started since `since`, newest first (current API)."""
        self._require_current("Listing missed calls by filter")
        params = {
            "sort": "started_at.desc",
            "missing_call[eq]": "true",
            "started_at[gte]": _api_time(since),
        }
        data, count = await self._offset_page("/calls", offset, params)
        items, malformed = parse_records(data, parse_call_v3)
        return CallList(items, malformed, count)

    async def get_call(self, uuid: str, started_at: datetime) -> dict[str, Any]:
        """A call's details as the API gives them (its start's UTC day finds it)."""
        day = started_at.astimezone(UTC)
        if self.current:
            path, params = f"/calls/{uuid}", {"date": day.strftime("%Y-%m-%d")}
        else:
            path, params = f"/cdrs/{day:%Y/%m/%d}/{uuid}", {}
        body = (await self.request("GET", path, params=params)).json_object()
        call = body.get("data", body)
        if not isinstance(call, dict):
            raise CommHubResponseError("call answer without the call")
        return call

    async def call_detail(self, call: HipcallCall) -> HipcallCall:
        """The call with its caller, callee, user and reason."""
        record = await self.get_call(call.uuid, call.started_at)
        try:
            return (parse_call_v3 if self.current else parse_call)(record)
        except MalformedRecordError as err:
            raise CommHubResponseError(f"call detail: {err.field}") from err

    async def set_presence(self, user_id: int, state: str) -> None:
        """Set a user's presence state (current API)."""
        self._require_current("Setting a presence")
        await self.request("PATCH", f"/users/{user_id}", json={"state": state})

    async def call(self, user_id: int, number: str, ring_user_first: bool) -> str:
        """Ring the user, then bridge to the number; the call's id (current API)."""
        self._require_current("Click to call")
        created = await self._create(
            f"/users/{user_id}/call",
            {"callee_number": number, "ring_user_first": ring_user_first},
        )
        call_id = created.get("id")
        if not isinstance(call_id, str | int) or isinstance(call_id, bool):
            raise CommHubResponseError("click to call answer without an id")
        return str(call_id)

    async def _create(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        data = (await self.request("POST", path, json=dict(body))).json_object()
        created = data.get("data", data)
        if not isinstance(created, dict):
            raise CommHubResponseError(f"{path} answer without the created record")
        return created

    async def create_task(self, task: Mapping[str, Any]) -> dict[str, Any]:
        """Create a task in the form the generation takes; returns it.

        `task`: name, description, due_date (aware datetime), assign_to, priority,
        contact_ids, company_ids, deal_ids.
        """
        body = dict(task)
        due = body.pop("due_date", None)
        if self.current:
            if "assign_to" in body:
                body["assign_to_user_id"] = body.pop("assign_to")
            if due is not None:
                body["due_date"] = _api_time(due)
        elif due is not None:
            # The document's form: local time, "20220612 12:12:12".
            body["due_date"] = due.strftime("%Y%m%d %H:%M:%S")
        return await self._create("/tasks", body)

    async def add_comment(
        self, commentable_type: str, commentable_id: int, content: str
    ) -> dict[str, Any]:
        """Comment on a company, contact or deal; returns the comment."""
        if self.current:
            path = f"/{COMMENTABLE_PATHS[commentable_type]}/{commentable_id}/comments"
            return await self._create(path, {"content": content})
        return await self._create(
            "/comments",
            {
                "commentable_type": commentable_type,
                "commentable_id": commentable_id,
                "content": content,
            },
        )
