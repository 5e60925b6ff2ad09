"""Client for the Hipcall API v20211124."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp

from .errors import CommHubResponseError
from .http import HttpClient, RawResponse
from .ratelimit import RequestBudget
from .records import (
    MalformedRecord,
    Page,
    optional_field,
    optional_time,
    parse_records,
    required_field,
    required_time,
)

HIPCALL_API_URL = "https://api.hipcall.com/api/v20211124"
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
    )


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

    async def list_users(self) -> Page[HipcallUser]:
        """Every user on every page; also proves the token."""
        return await self._all_pages("/users", parse_user)

    async def list_extensions(self) -> dict[int, str]:
        """Extension numbers by extension id."""

        def parse(record: Mapping[str, Any]) -> tuple[int, str]:
            return required_field(record, "id", int), required_field(
                record, "number", str
            )

        return dict((await self._all_pages("/extensions", parse)).items)

    async def calls_page(self, page: int) -> Page[HipcallCall]:
        """One page of call detail records."""
        return await self._page("/cdrs", page, parse_call)

    async def _create(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        data = (await self.request("POST", path, json=dict(body))).json_object()
        created = data.get("data", data)
        if not isinstance(created, dict):
            raise CommHubResponseError(f"{path} answer without the created record")
        return created

    async def create_task(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """Create a task; returns it as the API gives it."""
        return await self._create("/tasks", body)

    async def add_comment(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """Comment on a company, contact or deal; returns the comment."""
        return await self._create("/comments", body)
