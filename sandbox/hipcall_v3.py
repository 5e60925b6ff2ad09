"""Hipcall's current API ("v3") for the Hipcall sandbox (see `sandbox/hipcall.py`).

Written from Hipcall's own code (the `hipcall-sdk` 0.2.1 package's models and async
client; the Ruby and Elixir SDKs post tasks flat) and Hipcall's help pages on
webhooks. Both API generations serve one account: users,
calls, extensions, tasks and comments are shared with the 2021 API, so a call added
or rung once appears in both, in each generation's shape.

URL scheme (relative to the sandbox root; the service prefix is `/hipcall`):
- `/hipcall/api/v3/…` — the sandbox's own host; accepts the account's token always.
- `/hipcall/<host>/api/v3/…` for each regional host in `V3_HOSTS`
  (`use.hipcall.com.tr`, `use.hipcall.co.uk`, `use.hipcall.com`) and
  `/hipcall/api.hipcall.com/api/v20211124/…` for the 2021 API's host: a known
  Hipcall base URL `https://<host>/api/…` maps to `<root>/hipcall/<host>/api/…`, so a
  test can stand the sandbox in for every known host by rewriting the scheme and host
  alone. Such a host accepts the account's token only when it is one of the
  account's hosts (`HipcallSandbox.hosts`, set with `PUT /_control/hipcall/hosts`);
  elsewhere the token is unknown (401), as it is on a region that does not hold the
  account. The vendor's SDK appends `/api/v3` itself: its base URL is
  `<root>/hipcall` or `<root>/hipcall/<host>`.

What this module decides where Hipcall's code is silent:
- Errors are Phoenix's: `{"errors": {"detail": <HTTP reason>}}` (400, 401, 404, 405,
  429, 5xx), validation errors 422 `{"errors": {<field>: [<Ecto message>, …]}}`.
  Bad query parameters (limit outside 1-100, negative offset, unknown sort, an
  unreadable filter value, a missing or unreadable call `date`) are 400.
- Lists answer `{"data": [...], "meta": {"count", "limit", "offset"}}`; `count` is the
  number of records matching the filters (not the page). `limit` defaults to 10.
- Calls are listed once they have ended (the SDK's list item and detail both require
  `ended_at`): a ringing call is seen by webhook only. `sort` is `started_at.desc`
  (default) or `started_at.asc`; equal starts list the most recently added first
  (last when ascending). `GET /calls/{uuid}` needs `date`, the UTC date the call
  started on; another date is 404.
- Times are `2024-11-17T10:41:00Z`; enums are names. `record_url` and
  `voicemail_url` are pre-signed-looking links that expire an hour after the answer
  that carries them (`X-Amz-Expires=3600`); they are never served.
- Presence: `state` is one of `PRESENCE_STATES`; a user can choose
  `CHOOSABLE_STATES` (`PATCH /users/{id}`), `unknown` is the system's (never logged
  in / offline). `GET /users/{id}/stats/today` counts the user's answered calls of the
  day (the user's `timezone`) by direction and the seconds spent in each state since
  midnight; `time_to_remain` is the rest of the day, so the six add up to the day.
- Only rate-limited answers carry a rate header (`Retry-After`): the current API
  documents none. The budget is the 2021 API's, per token and shared by both.
- Webhooks: JSON POSTs `{"event": "call_init" | "call_hangup", "data": {call detail}}`
  to the account's target URL, at once, one attempt each (Hipcall documents no
  retries); `call_init` when a call starts ringing (`ended_at`, `missing_call`,
  `call_duration`, `hangup_by`, `missing_call_reason` null), `call_hangup` when it
  ends.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping, Sequence
import contextlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
import hashlib
from http import HTTPStatus
import json
import re
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiohttp import web
from multidict import MultiMapping

from .core import ServiceError, post_json

if TYPE_CHECKING:
    from .hipcall import Call, HipcallSandbox

V3 = "/api/v3"
V3_HOSTS = ("use.hipcall.com.tr", "use.hipcall.co.uk", "use.hipcall.com")
LEGACY_HOST = "api.hipcall.com"
KNOWN_HOSTS = (*V3_HOSTS, LEGACY_HOST)
CT_JSON_V3 = "application/json; charset=utf-8"
V3_HEADERS = {
    "Content-Type": CT_JSON_V3,
    "cache-control": "max-age=0, private, must-revalidate",
}
Z_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
DEFAULT_LIMIT = 10
MAX_LIMIT = 100
SIGNED_FOR = timedelta(hours=1)
DEFAULT_TIMEZONE = "Europe/Istanbul"

PRESENCE_STATES = ("available", "away", "break", "busy", "unknown")
CHOOSABLE_STATES = ("available", "away", "break", "busy")
PRIORITIES = ("low", "medium", "high")
WEBHOOK_EVENTS = ("call_init", "call_hangup")
WEBHOOK_USER_AGENT = "Hipcall-Webhook/1.0 (sandbox)"
WEBHOOK_TIMEOUT = 10.0

# The 2021 API's codes and the current API's names for them.
DIRECTION_NAMES = {1: "inbound", 2: "outbound", 3: "internal"}
REASON_NAMES = {
    1: "out_of_business_hours",
    2: "short_abandoned",
    3: "abandoned",
    4: "callback",
}
HANGUP_BY_NAMES = {1: "user", 2: "contact", 3: "system"}
CALLER_TYPE_NAMES = {1: "contact", 2: "user"}
CALLEE_TYPE_NAMES = {1: "contact", 2: "user", 3: "greeting", 4: "team"}
CHANNEL_TYPE_NAMES = {1: "number", 2: "web_widget"}
VOICEMAIL_TYPE_NAMES = {1: "user", 2: "account"}
_NAMED_FIELDS: dict[str, Mapping[int, str]] = {
    "direction": DIRECTION_NAMES,
    "missing_call_reason": REASON_NAMES,
    "hangup_by": HANGUP_BY_NAMES,
    "caller_type": CALLER_TYPE_NAMES,
    "callee_type": CALLEE_TYPE_NAMES,
    "channel_type": CHANNEL_TYPE_NAMES,
    "voicemail_type": VOICEMAIL_TYPE_NAMES,
}
_TIME_FIELDS = frozenset({"started_at", "ended_at", "answered_at", "bridged_at"})
CALL_ITEM_KEYS = (
    "uuid",
    "started_at",
    "ended_at",
    "direction",
    "call_duration",
    "first_touch_duration",
    "missing_call",
    "answered_at",
    "bridged_at",
)
_DETAIL_FROM_RECORD = (
    *CALL_ITEM_KEYS,
    "user_id",
    "contact_id",
    "channel_type",
    "channel_id",
    "missing_call_reason",
    "caller_id",
    "caller_type",
    "caller_number",
    "callee_id",
    "callee_type",
    "callee_number",
    "hangup_by",
    "voicemail_type",
    "voicemail_id",
)
_STAT_STATES = ("available", "away", "break", "busy", "remain", "unknown")
COMMENTABLES = {"contacts": "contact", "companies": "company", "deals": "deal"}


# -- times and names -----------------------------------------------------------------


def z_time(moment: datetime) -> str:
    """A time as the current API writes it: 2024-11-17T10:41:00Z."""
    return moment.astimezone(UTC).strftime(Z_FORMAT)


def parse_iso(value: str) -> datetime | None:
    """An ISO 8601 date or time (naive means UTC), None when unreadable."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _as_z(value: object) -> object:
    """A stored time in the current API's format; anything unreadable as it is."""
    if isinstance(value, str) and (moment := parse_iso(value)) is not None:
        return z_time(moment)
    return value


def _named(key: str, value: object) -> object:
    """A 2021 code as its name; names and unknown values pass through unchanged."""
    names = _NAMED_FIELDS.get(key)
    if names is None or not isinstance(value, int) or isinstance(value, bool):
        return value
    return names.get(value, value)


def _convert(key: str, value: object) -> object:
    if key in _TIME_FIELDS:
        return _as_z(value)
    if key == "contact_id" and value == 0:  # the 2021 API's "no contact"
        return None
    if key == "missing_call_reason" and value == 0:  # not missed: no reason
        return None
    return _named(key, value)


def presign(url: str, now: datetime) -> str:
    """A pre-signed-looking link that expires `SIGNED_FOR` after `now`."""
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    signature = hashlib.sha256(f"{url}|{stamp}".encode()).hexdigest()
    joiner = "&" if "?" in url else "?"
    return (
        f"{url}{joiner}X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date={stamp}"
        f"&X-Amz-Expires={int(SIGNED_FOR.total_seconds())}&X-Amz-Signature={signature}"
    )


def _signed(value: object, now: datetime) -> object:
    return presign(value, now) if isinstance(value, str) else value


# -- views -----------------------------------------------------------------------------


def call_item(record: Mapping[str, Any]) -> dict[str, Any]:
    """A call as `GET /calls` lists it (nine fields only)."""
    return {key: _convert(key, record.get(key)) for key in CALL_ITEM_KEYS}


def call_detail(
    record: Mapping[str, Any], call_flow: Sequence[Mapping[str, Any]], now: datetime
) -> dict[str, Any]:
    """A call as `GET /calls/{uuid}` and the webhooks show it."""
    detail = {key: _convert(key, record.get(key)) for key in _DETAIL_FROM_RECORD}
    channel_is_number = record.get("channel_type") == 1
    detail.update(
        {
            "number_id": record.get("channel_id") if channel_is_number else None,
            "credited": False,
            "related_id": None,
            "related_type": None,
            "record_url": _signed(record.get("record_url"), now),
            "voicemail_url": _signed(record.get("voicemail_url"), now),
            "callback_time": None,
            "callback_cdr_uuid": None,
            "callback_user_id": None,
            "call_flow": [
                {**step, "timestamp": _as_z(step.get("timestamp"))}
                for step in call_flow
            ],
        }
    )
    return detail


@dataclass
class Profile:
    """What the current API adds to a user: presence, time zone, suspension.

    `history` holds (since, state) pairs, oldest first, for the day's statistics;
    `overrides` are merged last into the API's view (tests corrupt records there).
    """

    state: str
    changed_at: datetime
    timezone: str = DEFAULT_TIMEZONE
    suspended: bool = False
    history: list[tuple[datetime, str]] = field(default_factory=list)
    overrides: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.history:
            self.history.append((self.changed_at, self.state))

    def set_state(self, state: str, at: datetime) -> None:
        """Move to a state from `at` on."""
        self.state, self.changed_at = state, at
        self.history.append((at, state))


def user_summary(user: Mapping[str, Any]) -> dict[str, Any]:
    """A user as comments name their author."""
    first, last = _split_name(user.get("name"))
    return {
        "id": user.get("id"),
        "email": user.get("email"),
        "first_name": first,
        "last_name": last,
        "full_name": user.get("full_name"),
    }


def user_view(
    user: Mapping[str, Any], profile: Profile, numbers: Iterable[Mapping[str, Any]]
) -> dict[str, Any]:
    """A user as the current API shows it (derived from the shared record)."""
    number_id = user.get("default_number_id")
    number = next((n for n in numbers if n.get("id") == number_id), None)
    view = {
        **user_summary(user),
        "title": user.get("title"),
        "locale": user.get("locale"),
        "timezone": profile.timezone,
        "owner": user.get("owner"),
        "suspended": profile.suspended,
        "state": profile.state,
        "state_changed_at": z_time(profile.changed_at),
        "default_number": {
            "id": number.get("id"),
            "name": number.get("name"),
            "number": number.get("number"),
        }
        if number is not None
        else None,
    }
    view.update(profile.overrides)
    return view


def _split_name(name: object) -> tuple[str | None, str | None]:
    if not isinstance(name, str):
        return None, None
    first, _, last = name.strip().partition(" ")
    return first or None, last.strip() or None


def extension_view(
    extension: Mapping[str, Any], names: Mapping[tuple[object, object], str]
) -> dict[str, Any]:
    """An extension as the current API lists it: no id, the target's name."""
    number = extension.get("number")
    if isinstance(number, str) and re.fullmatch(r"[1-9]\d*", number):
        number = int(number)
    target = (extension.get("target_type"), extension.get("target_id"))
    return {
        "name": names.get(target, ""),
        "number": number,
        "target_id": extension.get("target_id"),
        "target_type": extension.get("target_type"),
    }


def task_view(task: Mapping[str, Any], links: Mapping[str, Any]) -> dict[str, Any]:
    """A task as the current API shows it (the shared record plus its links)."""
    return {
        "id": task.get("id"),
        "name": task.get("name"),
        "description": task.get("description"),
        "done": task.get("done"),
        "done_at": _as_z(task.get("done_at")),
        "assign_to_user_id": task.get("assign_to"),
        "auto_assign_to_user": links.get("auto_assign_to_user", False),
        "company_ids": list(links.get("company_ids", [])),
        "contact_ids": list(links.get("contact_ids", [])),
        "deal_ids": list(links.get("deal_ids", [])),
        "due_date": _as_z(task.get("due_date")),
        "priority": task.get("priority") or None,
        "task_list_id": task.get("task_list_id"),
    }


def today_stats(
    user_id: int, profile: Profile, calls: Iterable[Call], now: datetime
) -> dict[str, Any]:
    """`GET /users/{id}/stats/today`: answered calls and seconds per state today."""
    zone = _zone(profile.timezone)
    today = now.astimezone(zone).date()
    midnight = datetime.combine(today, time(), zone)
    tomorrow = datetime.combine(today + timedelta(days=1), time(), zone)
    totals = {1: [0, 0], 2: [0, 0]}  # direction → [count, seconds]
    for call in calls:
        record = call.record
        if (
            record.get("user_id") == user_id
            and record.get("missing_call") is False
            and record.get("direction") in totals
            and midnight <= call.started_at
            and call.ended_at <= now
        ):
            seconds = record.get("call_duration")
            totals[record["direction"]][0] += 1
            totals[record["direction"]][1] += seconds if isinstance(seconds, int) else 0
    return {
        "user_id": user_id,
        "date": today.isoformat(),
        "timezone": profile.timezone,
        "calls": {
            name: {
                "count": count,
                "total_duration": seconds,
                "avg_duration": seconds // count if count else 0,
            }
            for name, (count, seconds) in zip(
                ("inbound", "outbound"), totals.values(), strict=True
            )
        },
        "states": {
            f"time_to_{state}": seconds
            for state, seconds in _state_seconds(
                profile, midnight, now, tomorrow
            ).items()
        },
    }


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except ZoneInfoNotFoundError, ValueError:
        return ZoneInfo("UTC")


def _state_seconds(
    profile: Profile, start: datetime, now: datetime, end: datetime
) -> dict[str, int]:
    seconds = dict.fromkeys(_STAT_STATES, 0)
    history = profile.history
    for index, (since, state) in enumerate(history):
        until = history[index + 1][0] if index + 1 < len(history) else now
        span = (min(until, now) - max(since, start)).total_seconds()
        if span > 0:
            key = state if state in seconds and state != "remain" else "unknown"
            seconds[key] += int(span)
    # The rest of the day, so that the six add up to its length (DST days too).
    seconds["remain"] = int((end - start).total_seconds()) - sum(seconds.values())
    return seconds


# -- errors and query parameters ------------------------------------------------------


class V3Error(ServiceError):
    """An error of the current API; `fields` makes it a 422 with field errors."""

    def __init__(
        self,
        status: int,
        detail: str | None = None,
        *,
        fields: Mapping[str, list[str]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(status, detail or HTTPStatus(status).phrase, headers)
        self.fields = dict(fields or {})


def error_body(error: ServiceError) -> dict[str, Any]:
    """Phoenix's error shape; bare HTTP errors (faults, throttle) say the phrase."""
    if isinstance(error, V3Error):
        if error.fields:
            return {"errors": error.fields}
        return {"errors": {"detail": error.message}}
    try:
        phrase = HTTPStatus(error.status).phrase
    except ValueError:
        phrase = error.message
    return {"errors": {"detail": phrase}}


def v3_json(data: object, status: int = 200) -> web.Response:
    """A JSON answer as the current API sends it."""
    return web.Response(
        status=status, body=json.dumps(data).encode(), headers=V3_HEADERS
    )


def _bad_request(detail: str) -> V3Error:
    return V3Error(400, detail)


def _query_int(query: MultiMapping[str], key: str) -> int | None:
    raw = query.get(key)
    if raw is None:
        return None
    if not re.fullmatch(r"-?\d+", raw.strip()):
        raise _bad_request(f"{key} must be an integer")
    return int(raw)


def page_window(query: MultiMapping[str]) -> tuple[int, int]:
    """`limit` (1-100, default 10) and `offset` (≥ 0, default 0)."""
    limit = _query_int(query, "limit")
    offset = _query_int(query, "offset")
    limit = DEFAULT_LIMIT if limit is None else limit
    if not 1 <= limit <= MAX_LIMIT:
        raise _bad_request(f"limit must be between 1 and {MAX_LIMIT}")
    if offset is not None and offset < 0:
        raise _bad_request("offset must not be negative")
    return limit, offset or 0


def paged(items: Sequence[Any], query: MultiMapping[str]) -> dict[str, Any]:
    """One page of a list with the current API's meta."""
    limit, offset = page_window(query)
    return {
        "data": list(items[offset : offset + limit]),
        "meta": {"count": len(items), "limit": limit, "offset": offset},
    }


def _query_time(query: MultiMapping[str], key: str) -> datetime | None:
    raw = query.get(key)
    if raw is None:
        return None
    moment = parse_iso(raw)
    if moment is None:
        raise _bad_request(f"{key} must be an ISO 8601 time")
    return moment


def _query_choice(
    query: MultiMapping[str], key: str, options: Sequence[str]
) -> str | None:
    raw = query.get(key)
    if raw is not None and raw not in options:
        raise _bad_request(f"{key} must be one of {', '.join(options)}")
    return raw


@dataclass
class CallQuery:
    """The call list's sort and filters, read from the query string."""

    descending: bool
    missing: bool | None
    since: datetime | None
    until: datetime | None
    direction: str | None
    user_id: int | None
    shortest: int | None
    longest: int | None
    digits: str

    @classmethod
    def read(cls, query: MultiMapping[str]) -> CallQuery:
        """Parse (400 for anything unreadable)."""
        sort = _query_choice(query, "sort", ("started_at.desc", "started_at.asc"))
        missing = _query_choice(query, "missing_call[eq]", ("true", "false"))
        direction = _query_choice(
            query, "direction[eq]", tuple(DIRECTION_NAMES.values())
        )
        return cls(
            descending=sort != "started_at.asc",
            missing=None if missing is None else missing == "true",
            since=_query_time(query, "started_at[gte]"),
            until=_query_time(query, "started_at[lte]"),
            direction=direction,
            user_id=_query_int(query, "user_id[eq]"),
            shortest=_query_int(query, "call_duration[gte]"),
            longest=_query_int(query, "call_duration[lte]"),
            digits=re.sub(r"\D", "", query.get("q", "")),
        )

    def matches(self, call: Call) -> bool:
        """Whether a call passes every filter given."""
        record = call.record
        duration = record.get("call_duration")
        checks = (
            self.missing is None or record.get("missing_call") is self.missing,
            self.since is None or call.started_at >= self.since,
            self.until is None or call.started_at <= self.until,
            self.direction is None
            or _named("direction", record.get("direction")) == self.direction,
            self.user_id is None or record.get("user_id") == self.user_id,
            self.shortest is None
            or (isinstance(duration, int) and duration >= self.shortest),
            self.longest is None
            or (isinstance(duration, int) and duration <= self.longest),
            not self.digits or self._number_matches(record),
        )
        return all(checks)

    def _number_matches(self, record: Mapping[str, Any]) -> bool:
        numbers = (record.get("caller_number"), record.get("callee_number"))
        return any(
            isinstance(n, str) and self.digits in re.sub(r"\D", "", n) for n in numbers
        )


# -- request bodies (Ecto's messages) -------------------------------------------------

BLANK = "can't be blank"
INVALID = "is invalid"


class Changeset:
    """Field checks of one request body, collected per field like Ecto's."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data
        self.errors: dict[str, list[str]] = {}

    def fail(self, key: str, message: str) -> None:
        """Add a message for a field."""
        self.errors.setdefault(key, []).append(message)

    def given(self, key: str, *, required: bool = False) -> bool:
        """Whether the field has a value to check; reports it when required."""
        value = self.data.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.fail(key, BLANK)
            return False
        return True

    def check(
        self,
        key: str,
        valid: Callable[[Any], bool],
        *,
        required: bool = False,
        message: str = INVALID,
    ) -> None:
        """Fail the field when it is given and `valid` says no."""
        if self.given(key, required=required) and not valid(self.data[key]):
            self.fail(key, message)

    def text(self, key: str, *, required: bool = False, at_most: int = 0) -> None:
        """A string, at most `at_most` characters long when that is set."""
        self.check(key, lambda v: isinstance(v, str), required=required)
        value = self.data.get(key)
        if at_most and isinstance(value, str) and len(value) > at_most:
            self.fail(key, f"should be at most {at_most} character(s)")

    def raise_if_invalid(self) -> None:
        """422 with every collected error."""
        if self.errors:
            raise V3Error(422, fields=self.errors)


def is_int(value: object) -> bool:
    """An integer, never a boolean."""
    return isinstance(value, int) and not isinstance(value, bool)


def _is_int_list(value: object) -> bool:
    return isinstance(value, list) and all(is_int(item) for item in value)


def _is_time(value: object) -> bool:
    return isinstance(value, str) and parse_iso(value) is not None


async def read_body(request: web.Request) -> dict[str, Any]:
    """The JSON object body ({} for anything else, as a missing body reads)."""
    try:
        data = json.loads(await request.read())
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def unwrap(data: dict[str, Any]) -> dict[str, Any]:
    """A task body posted flat (Elixir, Ruby) or as `{"data": {...}}` (Python)."""
    inner = data.get("data")
    return inner if isinstance(inner, dict) and len(data) == 1 else data


def check_task(data: Mapping[str, Any], user_ids: Iterable[int]) -> None:
    """422 unless `data` is a task the current API would create."""
    changes = Changeset(data)
    changes.text("name", required=True, at_most=255)
    changes.text("description")
    changes.check("assign_to_user_id", is_int)
    if is_int(data.get("assign_to_user_id")) and data["assign_to_user_id"] not in set(
        user_ids
    ):
        changes.fail("assign_to_user_id", "does not exist")
    changes.check("auto_assign_to_user", lambda v: isinstance(v, bool))
    for key in ("company_ids", "contact_ids", "deal_ids"):
        changes.check(key, _is_int_list)
    changes.check("due_date", _is_time)
    changes.check("priority", lambda v: v in PRIORITIES)
    changes.check("task_list_id", is_int)
    changes.raise_if_invalid()


def check_click_to_call(data: Mapping[str, Any]) -> None:
    """422 unless `data` is a click-to-call body."""
    changes = Changeset(data)
    changes.text("callee_number", required=True)
    for key in ("ring_user_first", "call_masking"):
        changes.check(key, lambda v: isinstance(v, bool))
    changes.text("call_masking_name", at_most=30)
    changes.raise_if_invalid()


def check_user_update(data: Mapping[str, Any], number_ids: Iterable[int]) -> None:
    """422 unless `data` changes the presence and/or the default number."""
    changes = Changeset(data)
    if "state" not in data and "default_number" not in data:
        changes.fail("state", BLANK)
    if "state" in data and data["state"] not in CHOOSABLE_STATES:
        changes.fail("state", INVALID)
    if "default_number" in data and data["default_number"] not in set(number_ids):
        changes.fail("default_number", "does not exist")
    changes.raise_if_invalid()


def path_id(request: web.Request, key: str = "id") -> int:
    """A numeric id from the path (404 otherwise)."""
    value = request.match_info[key]
    if not value.isdigit():
        raise V3Error(404)
    return int(value)


# -- webhooks --------------------------------------------------------------------------


@dataclass
class Delivery:
    """One webhook POST: the receiver's status, or the error."""

    event: str
    url: str
    payload: dict[str, Any]
    status: int | None = None
    error: str | None = None
    attempted: bool = False

    def to_json(self) -> dict[str, Any]:
        """A JSON view for the control interface."""
        return {
            "event": self.event,
            "url": self.url,
            "payload": self.payload,
            "attempted": self.attempted,
            "status": self.status,
            "error": self.error,
        }


class Webhooks:
    """The account's webhook: a target URL, the events it takes, an on/off switch."""

    url: str | None
    enabled: bool
    events: set[str]
    deliveries: list[Delivery]

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()
        self.reset()

    def reset(self) -> None:
        """No target, every event, pushing on; posts still running are dropped."""
        for task in self._tasks:
            with contextlib.suppress(RuntimeError):  # a loop already closed
                task.cancel()
        self._tasks = set()
        self.url, self.enabled = None, True
        self.events = set(WEBHOOK_EVENTS)
        self.deliveries = []

    def configure(
        self,
        *,
        url: str | None,
        enabled: bool | None = None,
        events: Iterable[str] | None = None,
    ) -> None:
        """Set the target (None: none), and optionally the switch and the events."""
        if url is not None and not re.match(r"https?://", url):
            msg = "url must be an absolute http(s) URL or null"
            raise ValueError(msg)
        chosen = set(self.events if events is None else events)
        if unknown := chosen - set(WEBHOOK_EVENTS):
            msg = f"unknown event(s) {sorted(unknown)}; expected {WEBHOOK_EVENTS}"
            raise ValueError(msg)
        self.url, self.events = url, chosen
        if enabled is not None:
            self.enabled = enabled

    def to_json(self) -> dict[str, Any]:
        """The configuration, for the control interface."""
        return {
            "url": self.url,
            "enabled": self.enabled,
            "events": sorted(self.events),
        }

    def push(self, event: str, data: Mapping[str, Any]) -> Delivery | None:
        """POST `{"event", "data"}` to the target now (in the background)."""
        if not self.enabled or self.url is None or event not in self.events:
            return None
        delivery = Delivery(event, self.url, {"event": event, "data": dict(data)})
        self.deliveries.append(delivery)
        self._start(delivery)
        return delivery

    async def wait(self) -> None:
        """Post what is still unsent, then wait until every post has an answer."""
        for delivery in self.deliveries:
            if not delivery.attempted:
                self._start(delivery)
        # Only tasks not done: a finished one may still await its clean-up callback.
        while pending := [task for task in self._tasks if not task.done()]:
            await asyncio.gather(*pending, return_exceptions=True)

    def _start(self, delivery: Delivery) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop (a synchronous caller): `wait` sends it later
        delivery.attempted = True
        task = loop.create_task(self._post(delivery))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _post(delivery: Delivery) -> None:
        delivery.status, delivery.error = await post_json(
            delivery.url,
            delivery.payload,
            user_agent=WEBHOOK_USER_AGENT,
            answer_within=WEBHOOK_TIMEOUT,
        )


# -- the API ---------------------------------------------------------------------------


class CurrentApi:
    """The current API's handlers over the sandbox's shared account state."""

    def __init__(self, sandbox: HipcallSandbox) -> None:
        self.sandbox = sandbox

    def routes(self) -> list[tuple[str, str, Any]]:
        """(method, path under `/api/v3`, handler) for every endpoint."""
        routes: list[tuple[str, str, Any]] = [
            ("GET", "/users", self.list_users),
            ("GET", "/users/{id}", self.get_user),
            ("PATCH", "/users/{id}", self.update_user),
            ("GET", "/users/{id}/stats/today", self.user_today),
            ("POST", "/users/{id}/call", self.click_to_call),
            ("GET", "/profile", self.profile),
            ("GET", "/profile/stats/today", self.profile_today),
            ("GET", "/extensions", self.list_extensions),
            ("GET", "/calls", self.list_calls),
            ("GET", "/calls/{uuid}", self.get_call),
            ("GET", "/tasks", self.list_tasks),
            ("GET", "/tasks/{id}", self.get_task),
            ("POST", "/tasks", self.create_task),
        ]
        routes += [
            ("POST", f"/{kind}/{{id}}/comments", self.comment_handler(kind))
            for kind in COMMENTABLES
        ]
        return routes

    # -- users --------------------------------------------------------------------

    def _user(self, user_id: int) -> dict[str, Any]:
        try:
            return self.sandbox.user_view(user_id)
        except KeyError:
            raise V3Error(404) from None

    async def list_users(self, request: web.Request) -> web.Response:
        """`GET /users`: by id, paged."""
        views = [self.sandbox.user_view(user["id"]) for user in self.sandbox.users]
        return v3_json(paged(views, request.query))

    async def get_user(self, request: web.Request) -> web.Response:
        """`GET /users/{id}`."""
        return v3_json({"data": self._user(path_id(request))})

    async def update_user(self, request: web.Request) -> web.Response:
        """`PATCH /users/{id}` with `state` and/or `default_number`."""
        user_id = path_id(request)
        self._user(user_id)
        data = await read_body(request)
        check_user_update(data, (n["id"] for n in self.sandbox.numbers))
        if "default_number" in data:
            self.sandbox.user(user_id)["default_number_id"] = data["default_number"]
        if "state" in data:
            self.sandbox.set_user_state(user_id, data["state"])
        return v3_json({"data": self._user(user_id)})

    async def user_today(self, request: web.Request) -> web.Response:
        """`GET /users/{id}/stats/today`."""
        user_id = path_id(request)
        self._user(user_id)
        return v3_json({"data": self.sandbox.today_stats(user_id)})

    async def profile(self, _request: web.Request) -> web.Response:
        """`GET /profile`: the token's user and its account."""
        user = self._user(self.sandbox.token_user_id)
        return v3_json(
            {
                "data": {
                    "user": user,
                    "account": {"id": 1, "name": self.sandbox.account_name},
                    "capabilities": {"call": True, "presence": True},
                    "permissions": ["calls.read", "users.read", "users.update"],
                    "roles": [{"name": "owner" if user["owner"] else "user"}],
                    "subscription": None,
                }
            }
        )

    async def profile_today(self, _request: web.Request) -> web.Response:
        """`GET /profile/stats/today`: the token's user's day."""
        user_id = self.sandbox.token_user_id
        self._user(user_id)
        return v3_json({"data": self.sandbox.today_stats(user_id)})

    async def click_to_call(self, request: web.Request) -> web.Response:
        """`POST /users/{id}/call`: ring the user, then bridge to `callee_number`."""
        user_id = path_id(request)
        user = self._user(user_id)
        data = await read_body(request)
        check_click_to_call(data)
        if user["suspended"]:
            raise V3Error(422, fields={"user_id": ["is suspended"]})
        ringing = self.sandbox.ring_call(
            direction="outbound",
            user_id=user_id,
            callee_number=data["callee_number"].strip(),
        )
        return v3_json({"data": {"id": ringing["uuid"]}}, 201)

    # -- extensions and calls -------------------------------------------------------

    async def list_extensions(self, request: web.Request) -> web.Response:
        """`GET /extensions`."""
        names = self.sandbox.target_names()
        views = [extension_view(e, names) for e in self.sandbox.extensions]
        return v3_json(paged(views, request.query))

    async def list_calls(self, request: web.Request) -> web.Response:
        """`GET /calls`: ended calls, filtered and sorted on the server."""
        wanted = CallQuery.read(request.query)
        calls = [c for c in self.sandbox.ended_calls() if wanted.matches(c)]
        if not wanted.descending:
            calls.reverse()
        return v3_json(paged([call_item(c.record) for c in calls], request.query))

    async def get_call(self, request: web.Request) -> web.Response:
        """`GET /calls/{uuid}?date=YYYY-MM-DD` (the UTC day the call started)."""
        raw = request.query.get("date")
        try:
            day = date.fromisoformat(raw or "")
        except ValueError:
            raise _bad_request("date must be a date (YYYY-MM-DD)") from None
        call = self.sandbox.ended_call(request.match_info["uuid"])
        if call is None or call.started_at.astimezone(UTC).date() != day:
            raise V3Error(404)
        detail = call_detail(call.record, call.call_flow, self.sandbox.now())
        return v3_json({"data": detail})

    # -- tasks and comments ---------------------------------------------------------

    def _task(self, task_id: int) -> dict[str, Any]:
        for task in self.sandbox.tasks:
            if task.get("id") == task_id:
                return task_view(task, self.sandbox.task_links.get(task_id, {}))
        raise V3Error(404)

    async def list_tasks(self, request: web.Request) -> web.Response:
        """`GET /tasks`."""
        views = [self._task(task["id"]) for task in self.sandbox.tasks]
        return v3_json(paged(views, request.query))

    async def get_task(self, request: web.Request) -> web.Response:
        """`GET /tasks/{id}`."""
        return v3_json({"data": self._task(path_id(request))})

    async def create_task(self, request: web.Request) -> web.Response:
        """`POST /tasks`, flat or wrapped in `data`."""
        data = unwrap(await read_body(request))
        check_task(data, (user["id"] for user in self.sandbox.users))
        task_id = self.sandbox.add_task(data)
        return v3_json({"data": self._task(task_id)}, 201)

    def comment_handler(self, kind: str) -> Callable[[web.Request], Any]:
        """`POST /{contacts|companies|deals}/{id}/comments` `{"content"}`."""

        async def create_comment(request: web.Request) -> web.Response:
            target_id = path_id(request)
            data = await read_body(request)
            changes = Changeset(data)
            changes.text("content", required=True)
            changes.raise_if_invalid()
            comment = self.sandbox.add_comment(
                COMMENTABLES[kind], target_id, data["content"]
            )
            author = self.sandbox.token_user()
            return v3_json(
                {
                    "data": {
                        "id": comment["id"],
                        "content": comment["content"],
                        "user": user_summary(author) if author is not None else None,
                    }
                },
                201,
            )

        return create_comment
