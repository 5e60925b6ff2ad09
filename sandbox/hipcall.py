"""Hipcall sandbox (https://api.hipcall.com and the regional hosts, under /hipcall).

Both API generations serve one account. The 2021 API (the seed document,
v20211124) lives under `/api/v20211124`, so a client's base URL is
`{root}/hipcall/api/v20211124`; the current API (v3) under `/api/v3`, see
`sandbox/hipcall_v3.py`, which also explains `{root}/hipcall/<host>/api/…`, the
stand-ins for Hipcall's known hosts. Seed data are the document's examples. The
2021 API behaves like the Laravel application the document describes: bearer-token
auth, a per-token throttle with `x-ratelimit-*` headers, JSON errors
`{"message": …}`, 422 validation errors with `errors`, length-aware pagination
everywhere except the call list, which is simple-paginated (`per_page` is the string
"10" there).

Every time-based decision reads `datetime.now(UTC)` when it is made, so frozen or
warped clocks apply. Calls are listed newest first by `started_at`, ties by the most
recently added first; only calls whose `ended_at` has passed are visible. A call
rung live (`ring_call`, or click to call) is in neither list while it rings: it
becomes a call record when it is hung up (`hangup_call`), and the account's webhook
hears of both moments.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
import contextlib
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
import json
import math
import re
from typing import Any, NamedTuple
import uuid as uuid_module

from aiohttp import web

from .core import (
    ControlRoute,
    Handler,
    LaravelFields,
    Route,
    ServiceError,
    ServiceSandbox,
    read_json_object,
    require,
)
from .hipcall_v3 import (
    CHOOSABLE_STATES,
    CT_JSON_V3,
    DEFAULT_TIMEZONE,
    DIRECTION_NAMES,
    HANGUP_BY_NAMES,
    KNOWN_HOSTS,
    LEGACY_HOST,
    PRESENCE_STATES,
    REASON_NAMES,
    V3,
    V3_HOSTS,
    CurrentApi,
    Profile,
    V3Error,
    Webhooks,
    call_detail,
    error_body,
    parse_iso,
    today_stats,
    user_view,
    v3_json,
)

API = "/api/v20211124"
CT_JSON = "application/json"
SEED_TOKEN = "hipcall-sandbox-token"
RATE_LIMIT = 30
RATE_WINDOW = timedelta(seconds=60)
PER_PAGE = 10
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S+0000"
SEED_TIME = "2023-03-31T08:41:58+0000"
USER_TIME = "2023-03-31T08:42:01+0000"

UNAUTHENTICATED = "Unauthenticated."
TOO_MANY_ATTEMPTS = "Too Many Attempts."
RECORD_NOT_FOUND = "Record not found."
# Laravel's wording for bare HTTP errors (injected faults answer with these).
GENERIC_MESSAGES = {429: TOO_MANY_ATTEMPTS, 500: "Server Error"}

OWNER_USER_ID = 12
DEMO_USER_ID = 3
SEED_HOSTS = ("use.hipcall.com.tr", LEGACY_HOST)
# Presence at seed time (everybody else is available); 11 has never logged in.
SEED_STATES = {3: "away", 4: "busy", 5: "break", 11: "unknown"}
DEMO_PRESENCE_USERS = (2, 3, 4, 5)
MAX_BULK_USERS = 1000
# Where recordings would live; the links are signed per answer, never served.
RECORDS_URL = "https://hipcall-records.s3.eu-central-1.amazonaws.com/sandbox"
DEFAULT_CALLER = "+905326202911"
DEFAULT_DURATION = 60
RING_SECONDS = 5
MISSING_CALL_REASONS = {"none": 0} | {name: code for code, name in REASON_NAMES.items()}
HANGUP_BY = HANGUP_BY_NAMES
PRIORITIES = ("low", "medium", "high")
COMMENTABLE_TYPES = ("company", "contact", "deal")

BASE_HEADERS = {
    "Content-Type": CT_JSON,
    "cache-control": "no-cache, private",
    "vary": "Origin",
}

# -- seed data (the document's examples) ------------------------------------------

# id, name, email, title, last_logged_in; ids 2-11 are the document's first page.
_USERS: tuple[tuple[int, str, str, str, str | None], ...] = (
    (3, "Holly James", "mitchell.paula@example.com", "fuga", "1998-07-21T23:07:12"),
    (
        4,
        "Muhammad Hill",
        "walker.florence@example.org",
        "molestias",
        "1995-04-07T03:17:22",
    ),
    (5, "Reece Stevens", "cbennett@example.com", "assumenda", None),
    (6, "Dan Reid", "moore.jane@example.com", "maiores", "1988-02-29T15:59:08"),
    (7, "Kelly Young", "ava17@example.net", "et", None),
    (8, "Maria Evans", "lucas19@example.net", "sit", "2003-08-20T12:07:54"),
    (9, "Yvette Wood", "uellis@example.com", "esse", "1972-12-07T17:27:42"),
    (10, "Rowena Matthews", "fchapman@example.org", "totam", "1989-04-16T21:32:06"),
    (11, "Jim Rose", "roxanne83@example.com", "porro", None),
    # Not in the document (its list has 28 users); generated in the same shape.
    (12, "Eleanor Hughes", "eleanor.hughes@example.com", "quia", "2023-04-10T16:20:11"),
    (13, "Oscar Patel", "patel.oscar@example.org", "voluptatem", "2001-11-03T08:14:55"),
    (14, "Freya Campbell", "freya52@example.net", "rerum", "1994-06-18T19:42:07"),
    (15, "Harvey Lewis", "hlewis@example.com", "dolores", None),
    (16, "Isla Morgan", "morgan.isla@example.org", "aut", "2010-02-25T11:05:39"),
    (17, "Toby Wright", "twright@example.net", "nihil", "1983-09-09T06:31:48"),
    (18, "Amelia Price", "amelia.price@example.com", "quo", "2016-12-30T22:47:13"),
    (19, "Joshua Bennett", "jbennett@example.org", "ipsam", "1979-05-01T14:09:26"),
    (20, "Poppy Clarke", "clarke.poppy@example.net", "eos", "2007-07-14T03:58:02"),
    (21, "Leo Walsh", "leo.walsh@example.com", "dolorem", None),
    (22, "Sophie Turner", "sturner@example.org", "voluptas", "1991-03-22T17:36:44"),
    (23, "Callum Fraser", "fraser.callum@example.net", "sed", "2019-08-05T09:12:30"),
    (24, "Grace Robinson", "grobinson@example.com", "minima", "1986-10-27T20:03:15"),
    (25, "Ethan Murphy", "ethan84@example.org", "odit", "2012-01-16T12:45:58"),
    (26, "Lily Thompson", "lily.thompson@example.net", "culpa", None),
    (27, "Aaron Kaur", "kaur.aaron@example.com", "atque", "1998-12-08T05:27:19"),
    (28, "Evie Marshall", "emarshall@example.org", "tempora", "2004-04-29T15:51:37"),
    (29, "Samuel Doyle", "doyle.samuel@example.net", "illum", "1975-11-11T23:19:04"),
)
SEED_USER_IDS = tuple(range(2, 30))

TEAMS: tuple[dict[str, Any], ...] = tuple(
    {
        "resource_type": "team",
        "id": team_id,
        "name": name,
        "user_case": "all",
        "wrap_up_time": wrap_up,
        "strategy": "random",
        "say_line_number": say_number,
        "say_line_number_in_second": 120,
        "callback": False,
        "callback_dtmf": 0,
        "callback_action": "none",
        "state": "active",
    }
    for team_id, name, wrap_up, say_number in (
        (1, "All users", 5, False),
        (2, "Microsoft Team", 15, True),
    )
)
# In the document's order (by extension number).
EXTENSIONS: tuple[dict[str, Any], ...] = tuple(
    {
        "resource_type": "extension",
        "id": ext_id,
        "number": number,
        "target_id": target_id,
        "target_type": target_type,
        "created_at": SEED_TIME,
        "updated_at": SEED_TIME,
    }
    for ext_id, number, target_id, target_type in (
        (4, "1001", 1, "user"),
        (5, "1002", 2, "user"),
        (7, "101", 3, "greeting"),
        (8, "102", 4, "greeting"),
        (6, "300", 2, "team"),
        (1, "800", 1, "greeting"),
        (3, "801", 1, "team"),
        (2, "802", 2, "greeting"),
    )
)
NUMBERS: tuple[dict[str, Any], ...] = (
    {
        "resource_type": "number",
        "id": 1,
        "name": "Turkey Support Number",
        "number": "+908503902777",
    },
)
GREETINGS: tuple[dict[str, Any], ...] = tuple(
    {
        "resource_type": "greeting",
        "id": greeting_id,
        "name": name,
        "direct_dial_extension": direct,
        "timeout": 0,
        "max_input_try_count": tries,
        "state": "active",
    }
    for greeting_id, name, direct, tries in (
        (1, "Welcome", True, 1),
        (2, "Out of business hours", False, 0),
        (3, "Out of business hours", False, 0),
        (4, "Welcome to Microsoft", True, 1),
    )
)
# id, name, description, due_date, done_at, priority (the document's ten + one).
_TASKS: tuple[tuple[int, str, str, str | None, str | None, str], ...] = (
    (
        1,
        "Porro iure blanditiis et debitis.",
        "Repellendus ab laborum non voluptatem maxime. Culpa dolorem nihil "
        "laboriosam nemo itaque aut. Cupiditate ut quis qui omnis consequatur "
        "nesciunt ut.",
        None,
        None,
        "low",
    ),
    (
        2,
        "Ut et sed assumenda totam odit.",
        "Quo libero doloremque explicabo quo dolorem ratione voluptas. Et harum "
        "fugit eum dolores dignissimos non reiciendis.",
        None,
        "2006-09-21T00:00:54+0000",
        "medium",
    ),
    (
        3,
        "Sit reprehenderit officia non et.",
        "Labore voluptatem sed temporibus ut aut. Impedit quisquam ipsa vero atque "
        "nulla ea aut. Saepe eum enim rerum atque est vero. Non quasi et autem.",
        None,
        None,
        "low",
    ),
    (
        4,
        "Velit voluptatum ut corrupti voluptas.",
        "Velit odio ipsa eius animi corrupti illo velit debitis. Eum sint et culpa. "
        "Ipsum eveniet ad voluptas ad quae voluptatem eos.",
        None,
        None,
        "",
    ),
    (
        5,
        "Magni quia quod sint culpa voluptate quis sed.",
        "Reprehenderit perferendis sit voluptatem et et autem. Ducimus et corrupti "
        "consequuntur sit praesentium aut. Voluptas sunt ullam quisquam ab non odio.",
        "2023-04-09T15:49:23+0000",
        "2003-03-07T19:25:49+0000",
        "",
    ),
    (
        6,
        "Illo veritatis sed dolorem.",
        "Nulla soluta est soluta aut sint illum. Minus minima officiis quisquam. Ex "
        "facilis voluptates nihil consequatur minima.",
        "2023-04-17T13:12:39+0000",
        "2013-03-06T05:37:56+0000",
        "low",
    ),
    (
        7,
        "Quisquam quia quibusdam facilis dolor.",
        "Excepturi eum quo et odio at aut. Minima quibusdam itaque veniam.",
        None,
        None,
        "low",
    ),
    (
        8,
        "Molestiae enim eum minus dolorem tempore.",
        "Molestiae facilis aperiam qui non ut adipisci amet est. Eaque et cum "
        "ratione architecto. Expedita sit minima voluptatibus enim tenetur qui "
        "placeat.",
        "2023-03-26T20:44:56+0000",
        None,
        "low",
    ),
    (
        9,
        "Nesciunt animi accusamus nulla.",
        "Ut fuga molestiae laborum in. Perferendis ut autem id fugiat nemo in "
        "expedita. Libero possimus aperiam provident.",
        "2023-03-21T01:44:15+0000",
        None,
        "medium",
    ),
    (
        10,
        "Aperiam provident fugiat officia unde eius eos.",
        "Accusamus quae repellendus omnis dolor ratione ut. Voluptatem expedita ut "
        "repudiandae delectus alias quo sed. Iusto earum corporis pariatur.",
        None,
        None,
        "",
    ),
    (
        11,
        "Et quae natus voluptas.",
        "Dolor sit amet consequatur. Quia voluptas aut et nam. Sunt quis aliquam "
        "voluptatem.",
        None,
        None,
        "high",
    ),
)

# The document's ten calls, in the document's order (all started 08:41:58):
# uuid, direction, user_id, ended_at, caller_type, caller_number, callee_id,
# callee_type, callee_number, hangup_by.
_DOCUMENT_CALLS: tuple[tuple[str, int, int, str, int, str, int, int, str, int], ...] = (
    ("caedfd1b-25ec-447e-ad87-3b7eb3d358ea", 1, 2, "08:45:01", 1, DEFAULT_CALLER, 2, 3, "101", 1),
    ("7b7a0388-a743-4060-82f8-0bc92e48482e", 1, 1, "08:43:53", 1, DEFAULT_CALLER, 2, 3, "101", 2),
    ("5a836c78-9747-40bb-b370-98033e8d295c", 1, 2, "08:45:29", 1, DEFAULT_CALLER, 2, 3, "101", 1),
    ("9e42f131-6ccd-49f0-9e64-c9e0fe882034", 1, 1, "08:44:29", 1, DEFAULT_CALLER, 2, 3, "101", 3),
    ("68c9ac98-c040-4cff-83b4-081f57eec91e", 1, 1, "08:42:53", 1, DEFAULT_CALLER, 2, 3, "101", 3),
    ("dd511480-63f7-41ed-bc7c-6a6566d12476", 1, 1, "08:51:04", 1, DEFAULT_CALLER, 2, 3, "101", 3),
    ("7f1c54c8-5a87-4ace-8ace-a5c3bbe2c43b", 1, 2, "08:51:11", 1, DEFAULT_CALLER, 2, 3, "101", 3),
    ("fe01a663-171b-40d2-a323-000b30af9ef9", 1, 1, "08:43:36", 1, DEFAULT_CALLER, 2, 3, "101", 2),
    ("41eb8054-5f62-4815-aa07-e9a24fe0f7ea", 2, 1, "08:51:01", 2, "+908508850000", 1, 1, "1015", 2),
    ("bf917126-776d-4cb3-a6ad-5673d27e6fb1", 3, 1, "08:49:33", 2, "1001", 2, 2, "1002", 3),
)  # fmt: skip
EXAMPLE_CALL_UUID = _DOCUMENT_CALLS[0][0]
# The document's "Retrieve a Call" example flow, kept for that call.
EXAMPLE_CALL_FLOW: tuple[dict[str, Any], ...] = (
    {"action": "hangup", "detail": {"hangup_by": "contact"}, "timestamp": "2021-11-23T13:00:00+0000"},
    {"action": "bridge", "detail": {"id": 1, "type": "user"}, "timestamp": "2021-11-23T12:59:56+0000"},
    {"action": "bridge_attempt", "detail": {"id": 1, "type": "user"}, "timestamp": "2021-11-23T12:59:50+0000"},
    {"action": "bridge_fail", "detail": {"id": 2, "result": 21, "type": "user"}, "timestamp": "2021-11-23T12:59:46+0000"},
    {"action": "bridge_attempt", "detail": {"id": 2, "type": "user"}, "timestamp": "2021-11-23T12:59:45+0000"},
    {"action": "route", "detail": {"id": 1, "type": "team"}, "timestamp": "2021-11-23T12:59:33+0000"},
    {"action": "route", "detail": {"id": 1, "type": "greeting"}, "timestamp": "2021-11-23T12:59:20+0000"},
    {"action": "init", "detail": {"id": 1, "type": "user"}, "timestamp": "2021-11-23T12:59:15+0000"},
)  # fmt: skip
# Five older calls of the same day (not in the document), so the seed has 2 pages.
_OLDER_CALLS: tuple[dict[str, Any], ...] = (
    {"uuid": "0d6a9c2e-8f41-4b7a-9e35-1c2b3d4e5f60", "started_at": "2023-03-31T06:31:27+0000", "duration": 64, "direction": 3, "user_id": 3, "caller_number": "1003", "callee_number": "1002", "hangup_by": 1},
    {"uuid": "4b8e2f17-3c9d-4a56-b7e1-9f0a1b2c3d4e", "started_at": "2023-03-31T06:50:03+0000", "duration": 9, "missing_call": True, "missing_call_reason": 1, "caller_number": "+905551234567"},
    {"uuid": "9c7d5e3f-1a2b-4c6d-8e9f-0a1b2c3d4e5f", "started_at": "2023-03-31T07:15:40+0000", "duration": 132, "direction": 2, "caller_number": "+908508850000", "callee_number": "+905327654321"},
    {"uuid": "e2f4a6b8-c0d2-4e6f-8a1b-3c5d7e9f1a2b", "started_at": "2023-03-31T07:42:05+0000", "duration": 27, "missing_call": True, "missing_call_reason": 3, "user_id": 4, "caller_number": "+905339876543"},
    {"uuid": "6f5e4d3c-2b1a-4098-b7c6-d5e4f3a2b1c0", "started_at": "2023-03-31T07:58:12+0000", "duration": 245, "user_id": 3, "caller_number": "+905441112233"},
)  # fmt: skip
SEED_CALL_UUIDS = tuple(c[0] for c in _DOCUMENT_CALLS) + tuple(
    c["uuid"] for c in reversed(_OLDER_CALLS)
)  # in API order (newest first)

USER_KEYS = (
    "resource_type",
    "id",
    "email",
    "name",
    "full_name",
    "title",
    "owner",
    "locale",
    "status",
    "default_number_id",
    "default_extension_id",
    "2fa",
    "last_logged_in",
    "created_at",
    "updated_at",
)
# The document's "Retrieve a User" example has neither full_name nor status.
USER_RETRIEVE_KEYS = tuple(k for k in USER_KEYS if k not in {"full_name", "status"})
_USER_TYPES: dict[str, tuple[tuple[type, ...], bool]] = {
    "id": ((int,), False),
    "email": ((str,), False),
    "name": ((str,), False),
    "full_name": ((str,), False),
    "title": ((str,), False),
    "owner": ((bool,), False),
    "locale": ((str,), False),
    "status": ((str,), False),
    "default_number_id": ((int,), True),
    "default_extension_id": ((int,), True),
    "2fa": ((bool,), False),
    "last_logged_in": ((str, datetime), True),
    "created_at": ((str, datetime), False),
    "updated_at": ((str, datetime), False),
}
_USER_TIMES = frozenset({"last_logged_in", "created_at", "updated_at"})

CALL_KEYS = (
    "resource_type",
    "uuid",
    "direction",
    "user_id",
    "contact_id",
    "channel_type",
    "channel_id",
    "started_at",
    "answered_at",
    "bridged_at",
    "ended_at",
    "call_duration",
    "first_touch_duration",
    "missing_call",
    "missing_call_reason",
    "caller_id",
    "caller_type",
    "caller_number",
    "callee_id",
    "callee_type",
    "callee_number",
    "record_url",
    "hangup_by",
    "voicemail_type",
    "voicemail_id",
    "voicemail_url",
)
# Optional add_call fields: accepted types and whether null is allowed.
_CALL_EXTRA_TYPES: dict[str, tuple[tuple[type, ...], bool]] = {
    "contact_id": ((int,), False),
    "channel_type": ((int,), False),
    "channel_id": ((int,), False),
    "answered_at": ((str, datetime), True),
    "bridged_at": ((str, datetime), True),
    "first_touch_duration": ((int,), False),
    "caller_id": ((int,), True),
    "caller_type": ((int,), True),
    "callee_id": ((int,), True),
    "callee_type": ((int,), True),
    "record_url": ((str,), True),
    "hangup_by": ((int, str), True),
    "voicemail_type": ((int,), True),
    "voicemail_id": ((int,), True),
    "voicemail_url": ((str,), True),
    "call_flow": ((list,), True),
}
DEMO_REASONS = (3, 1, 2, 4)  # abandoned, out_of_business_hours, ...


# -- helpers ------------------------------------------------------------------------


def _now() -> datetime:
    """The current time, looked up now (frozen or warped clocks apply)."""
    return datetime.now(UTC).replace(microsecond=0)


def format_time(moment: datetime) -> str:
    """A time as the API writes it: 2023-03-31T08:41:58+0000."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime(TIME_FORMAT)


def parse_time(value: object, field: str = "time") -> datetime:
    """A datetime or an ISO 8601 string (naive means UTC), to whole seconds."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            msg = f"{field} must be an ISO 8601 time, not {value!r}"
            raise ValueError(msg) from None
    else:
        msg = f"{field} must be a datetime or an ISO 8601 string"
        raise TypeError(msg)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(microsecond=0)


def _check_type(
    field: str, value: object, kinds: tuple[type, ...], nullable: bool
) -> None:
    if value is None and nullable:
        return
    if not isinstance(value, kinds) or (bool not in kinds and isinstance(value, bool)):
        names = " or ".join(k.__name__ for k in kinds)
        msg = f"{field} must be of type {names}{' or None' if nullable else ''}"
        raise TypeError(msg)


def _enum_code(field: str, value: object, names: Mapping[int, str]) -> int:
    """A 2021 API code, given as the code or as the current API's name for it."""
    if isinstance(value, str):
        codes = {name: code for code, name in names.items()}
        if value not in codes:
            msg = f"unknown {field} {value!r}; expected one of {', '.join(codes)}"
            raise ValueError(msg)
        return codes[value]
    _check_type(field, value, (int,), False)
    assert isinstance(value, int)
    if value not in names:
        msg = f"{field} must be one of {sorted(names)} or their names"
        raise ValueError(msg)
    return value


def _check_state(state: object, allowed: tuple[str, ...]) -> None:
    _check_type("state", state, (str,), False)
    if state not in allowed:
        msg = f"unknown state {state!r}; expected one of {', '.join(allowed)}"
        raise ValueError(msg)


def _reason_code(reason: object) -> int:
    return _enum_code(
        "missing_call_reason", reason, {0: "none"} | dict(REASON_NAMES.items())
    )


def _page(request: web.Request) -> int:
    """The requested page as Laravel reads it: a valid integer ≥ 1, else 1."""
    values = request.query.getall("page", [])
    raw = values[-1].strip() if values else ""
    if re.fullmatch(r"[+-]?(0|[1-9]\d*)", raw) and int(raw) >= 1:
        return int(raw)
    return 1


def _normalize(value: Any) -> Any:
    """Laravel's TrimStrings and ConvertEmptyStringsToNull middleware."""
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, list):
        return [_normalize(item) for item in value]
    if isinstance(value, dict):
        return {key: _normalize(item) for key, item in value.items()}
    return value


async def _read_input(request: web.Request) -> dict[str, Any]:
    """The JSON object body; anything else reads as no input (as Laravel does)."""
    try:
        data = json.loads(await request.read())
    except ValueError:
        return {}
    return _normalize(data) if isinstance(data, dict) else {}


def _as_int(value: object) -> int | None:
    """An integer as Laravel's `integer` rule accepts it (numeric strings too)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"[+-]?\d+", value):
        return int(value)
    return None


def _parse_due_date(value: str) -> datetime | None:
    for fmt in ("%Y%m%d %H:%M:%S", "%Y%m%d"):
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=UTC)
        except ValueError:
            pass
    try:
        return parse_time(value)
    except ValueError:
        return None


class ValidationFailed(ServiceError):
    """A 422 answer in Laravel's shape: the first message plus all `errors`."""

    def __init__(self, errors: Mapping[str, list[str]]) -> None:
        messages = [message for field in errors.values() for message in field]
        message = messages[0]
        if more := len(messages) - 1:
            message += f" (and {more} more error{'s' if more > 1 else ''})"
        super().__init__(422, message)
        self.errors = dict(errors)


class _Validator(LaravelFields):
    """Just enough of Laravel's validator for the endpoints' bodies."""

    def string(self, key: str, *, required: bool = False, max_length: int = 0) -> None:
        if not self.present(key, required=required):
            return
        value = self.data[key]
        if not isinstance(value, str):
            self.fail(key, f"The {self.label(key)} field must be a string.")
        elif max_length and len(value) > max_length:
            self.fail(
                key,
                f"The {self.label(key)} field must not be greater than "
                f"{max_length} characters.",
            )

    def integer(self, key: str, *, required: bool = False) -> None:
        if self.present(key, required=required) and _as_int(self.data[key]) is None:
            self.fail(key, f"The {self.label(key)} field must be an integer.")

    def boolean(self, key: str) -> None:
        if self.present(key) and self.data[key] not in (True, False, 0, 1, "0", "1"):
            self.fail(key, f"The {self.label(key)} field must be true or false.")

    def one_of(
        self, key: str, options: Iterable[object], *, required: bool = False
    ) -> None:
        if self.present(key, required=required) and self.data[key] not in options:
            self.fail(key, f"The selected {self.label(key)} is invalid.")

    def date(self, key: str) -> None:
        if not self.present(key):
            return
        value = self.data[key]
        if not isinstance(value, str) or _parse_due_date(value) is None:
            self.fail(key, f"The {self.label(key)} field must be a valid date.")

    def integer_list(self, key: str) -> None:
        if not self.present(key):
            return
        value = self.data[key]
        if not isinstance(value, list):
            self.fail(key, f"The {self.label(key)} field must be an array.")
            return
        for index, item in enumerate(value):
            if item is not None and _as_int(item) is None:
                self.fail(
                    f"{key}.{index}", f"The {key}.{index} field must be an integer."
                )

    def check(self) -> None:
        if self.errors:
            raise ValidationFailed(self.errors)


def _json(data: object, status: int = 200) -> web.Response:
    return web.Response(
        status=status, body=json.dumps(data).encode(), headers=BASE_HEADERS
    )


def _ringing_record(
    uuid: str,
    *,
    direction: int,
    user_id: int,
    caller_number: str,
    callee_number: str,
    start: datetime,
) -> dict[str, Any]:
    """A call's record while it rings: the parties known, the outcome still null."""
    caller_id, caller_type, callee_id, callee_type = {
        1: (1, 1, 2, 3),
        2: (user_id, 2, 1, 1),
        3: (user_id, 2, 2, 2),
    }[direction]
    return {
        "resource_type": "cdr",
        "uuid": uuid,
        "direction": direction,
        "user_id": user_id,
        "contact_id": 0,
        "channel_type": 1,
        "channel_id": 1,
        "started_at": format_time(start),
        "answered_at": None,
        "bridged_at": None,
        "ended_at": None,
        "call_duration": None,
        "first_touch_duration": None,
        "missing_call": None,
        "missing_call_reason": None,
        "caller_id": caller_id,
        "caller_type": caller_type,
        "caller_number": caller_number,
        "callee_id": callee_id,
        "callee_type": callee_type,
        "callee_number": callee_number,
        "record_url": None,
        "hangup_by": None,
        "voicemail_type": None,
        "voicemail_id": None,
        "voicemail_url": None,
    }


@dataclass
class Call:
    """A call: `record` is what the API shows (without call_flow; tests may
    corrupt it), the other fields decide identity, visibility and order."""

    uuid: str
    record: dict[str, Any]
    started_at: datetime
    ended_at: datetime
    seq: int  # insertion order: breaks started_at ties, newest added first
    call_flow: list[dict[str, Any]]


@dataclass
class LiveCall:
    """A call that rings or is answered: its record, outcome fields still null."""

    record: dict[str, Any]

    @property
    def uuid(self) -> str:
        """The call's uuid."""
        return str(self.record["uuid"])

    def flow(self) -> list[dict[str, Any]]:
        """The call flow so far, newest step first."""
        record = self.record
        user = {"id": record["user_id"], "type": "user"}
        steps = [{"action": "init", "detail": user, "timestamp": record["started_at"]}]
        if record["answered_at"] is not None:
            bridged = {
                "action": "bridge",
                "detail": user,
                "timestamp": record["answered_at"],
            }
            steps.insert(0, bridged)
        return steps


@dataclass
class RateWindow:
    """A fixed throttle window: it ends 60 s after the request that opened it."""

    ends_at: datetime
    hits: int = 0


RATE_HEADERS = web.RequestKey("hipcall_rate_headers", dict[str, str])
# The API generation of the request being answered ("" outside both APIs).
_GENERATION: ContextVar[str] = ContextVar("hipcall_generation", default="")
_MOUNT = re.compile(r"^(?:/(?P<host>[^/]+))?/api/(?P<generation>v3|v20211124)(?=/|$)")


class Mount(NamedTuple):
    """Where a request landed: the host stood in for (None: the sandbox's own),
    the API generation and the path up to the API's resources."""

    host: str | None
    generation: str
    base: str


def mount_of(path: str) -> Mount:
    """The mount of a path relative to the service prefix."""
    match = _MOUNT.match(path)
    if match is None:
        return Mount(None, "", "")
    return Mount(match["host"], match["generation"], match[0])


class HipcallSandbox(ServiceSandbox):
    """Hipcall's 2021 and current APIs over one account, seeded with the 2021
    document's example data (and a presence for every user)."""

    name = "hipcall"
    account_name = "Hipcall Sandbox"
    token_user_id = OWNER_USER_ID  # the user the API token belongs to

    token: str
    hosts: set[str]  # the known hosts that hold the account (see hipcall_v3)
    profiles: dict[int, Profile]  # by user id: what the current API adds
    task_links: dict[int, dict[str, Any]]  # by task id: the current API's extras
    live_calls: dict[str, LiveCall]  # ringing or answered, by uuid
    _demo_ringing: str | None  # the call the demo rang, to be missed next step
    rate_limit: int
    throttled: int
    rate_windows: dict[str, RateWindow]
    users: list[dict[str, Any]]  # live records, sorted by id
    teams: list[dict[str, Any]]
    extensions: list[dict[str, Any]]
    numbers: list[dict[str, Any]]
    greetings: list[dict[str, Any]]
    tasks: list[dict[str, Any]]
    comments: list[dict[str, Any]]
    _calls: list[Call]
    _by_uuid: dict[str, Call]
    _seq: int

    def __init__(self) -> None:
        self.webhooks = Webhooks()
        self.current_api = CurrentApi(self)
        super().__init__()

    # -- state helpers -------------------------------------------------------------

    def seed(self) -> None:
        """Load the document's examples; token, rate limit and windows reset,
        no webhook target, no call ringing."""
        self.token = SEED_TOKEN
        self.hosts = set(SEED_HOSTS)
        self.rate_limit = RATE_LIMIT
        self.throttled = 0
        self.rate_windows = {}
        self.webhooks.reset()
        self.live_calls = {}
        self._demo_ringing = None
        self.task_links = {}
        self.profiles = {}
        self.users = []
        self.add_user(
            id=2,
            email="satya@microsoft.com",
            name="Satya Nadella",
            default_number_id=1,
            default_extension_id=5,
            last_logged_in="2023-04-11T09:06:42+0000",
            created_at=SEED_TIME,
            updated_at="2023-04-11T09:06:42+0000",
        )
        for user_id, name, email, title, logged_in in _USERS:
            self.add_user(
                id=user_id,
                name=name,
                email=email,
                title=title,
                owner=user_id == OWNER_USER_ID,
                last_logged_in=logged_in,
                created_at=USER_TIME,
                state=SEED_STATES.get(user_id, "available"),
            )
        self.teams = [dict(team) for team in TEAMS]
        self.extensions = [dict(extension) for extension in EXTENSIONS]
        self.numbers = [dict(number) for number in NUMBERS]
        self.greetings = [dict(greeting) for greeting in GREETINGS]
        self.tasks = [
            {
                "resource_type": "task",
                "id": task_id,
                "name": name,
                "description": description,
                "due_date": due_date,
                "done": done_at is not None,
                "done_at": done_at,
                "assign_to": None,
                "priority": priority,
                "task_list_id": None,
                "created_at": SEED_TIME,
                "updated_at": SEED_TIME,
            }
            for task_id, name, description, due_date, done_at, priority in _TASKS
        ]
        self.comments = []
        self._calls, self._by_uuid, self._seq = [], {}, 0
        for older in _OLDER_CALLS:
            self.add_call(**older)
        # Added last-first: equal started_at lists the most recently added first.
        for call in reversed(_DOCUMENT_CALLS):
            uuid, direction, user_id, ended, caller_type, caller = call[:6]
            callee_id, callee_type, callee, hangup_by = call[6:]
            self.add_call(
                uuid=uuid,
                started_at=SEED_TIME,
                ended_at=f"2023-03-31T{ended}+0000",
                direction=direction,
                user_id=user_id,
                caller_number=caller,
                callee_number=callee,
                answered_at=None,
                bridged_at=None,
                first_touch_duration=0,
                contact_id=0,
                caller_id=1,
                caller_type=caller_type,
                callee_id=callee_id,
                callee_type=callee_type,
                hangup_by=hangup_by,
                call_flow=list(EXAMPLE_CALL_FLOW)
                if uuid == EXAMPLE_CALL_UUID
                else None,
            )

    def add_user(
        self,
        *,
        state: str = "available",
        timezone: str = DEFAULT_TIMEZONE,
        suspended: bool = False,
        **fields: Any,
    ) -> dict[str, Any]:
        """Add a user (id defaults to the highest + 1) and return its list form.

        `fields` are the 2021 API's user fields; `state`, `timezone` and
        `suspended` are what the current API adds.
        """
        unknown = set(fields) - set(_USER_TYPES)
        if unknown:
            msg = f"unknown user field(s): {', '.join(sorted(unknown))}"
            raise TypeError(msg)
        for key, value in fields.items():
            _check_type(key, value, *_USER_TYPES[key])
        _check_state(state, PRESENCE_STATES)
        _check_type("timezone", timezone, (str,), False)
        _check_type("suspended", suspended, (bool,), False)
        ids = [user["id"] for user in self.users]
        user_id = fields.get("id", max(ids, default=1) + 1)
        if user_id in ids:
            msg = f"user {user_id} already exists"
            raise ValueError(msg)
        created = format_time(_now())
        user: dict[str, Any] = {
            "resource_type": "user",
            "id": user_id,
            "email": f"user{user_id}@example.com",
            "name": f"User {user_id}",
            "full_name": "",
            "title": "",
            "owner": False,
            "locale": "en_GB",
            "status": "active",
            "default_number_id": None,
            "default_extension_id": None,
            "2fa": False,
            "last_logged_in": None,
            "created_at": created,
            "updated_at": created,
        }
        for key, value in fields.items():
            if key in _USER_TIMES and value is not None:
                value = format_time(parse_time(value, key))  # noqa: PLW2901
            user[key] = value
        if "full_name" not in fields:
            user["full_name"] = user["name"]
        if "updated_at" not in fields:
            user["updated_at"] = user["created_at"]
        self.users.append(user)
        self.users.sort(key=lambda record: int(record["id"]))
        since = parse_time(user["created_at"], "created_at")
        self.profiles[user_id] = Profile(state, since, timezone, suspended)
        return user

    def add_users(self, count: int, **fields: Any) -> list[dict[str, Any]]:
        """Add `count` users (ids after the highest), each with `fields`."""
        _check_type("count", count, (int,), False)
        if not 1 <= count <= MAX_BULK_USERS:
            msg = f"count must be 1-{MAX_BULK_USERS}"
            raise ValueError(msg)
        if "id" in fields:
            msg = "users added in bulk take the next free ids"
            raise ValueError(msg)
        return [self.add_user(**fields) for _ in range(count)]

    def user(self, user_id: int) -> dict[str, Any]:
        """A user's live record, as the list shows it (KeyError if unknown)."""
        for user in self.users:
            if user["id"] == user_id:
                return user
        raise KeyError(user_id)

    def remove_user(self, user_id: int) -> None:
        """Delete a user (KeyError if unknown)."""
        self.users.remove(self.user(user_id))

    def set_user_status(self, user_id: int, status: str) -> None:
        """Set a user's status (any string: the document shows only "active")."""
        _check_type("status", status, (str,), False)
        user = self.user(user_id)
        user["status"] = status
        user["updated_at"] = format_time(_now())

    def profile(self, user_id: int) -> Profile:
        """What the current API adds to a user (KeyError if not a user)."""
        self.user(user_id)
        return self.profiles.setdefault(user_id, Profile("available", _now()))

    def user_view(self, user_id: int) -> dict[str, Any]:
        """A user as the current API shows it (KeyError if unknown)."""
        return user_view(self.user(user_id), self.profile(user_id), self.numbers)

    def set_user_state(self, user_id: int, state: str) -> None:
        """Set a user's presence (any of `PRESENCE_STATES`) from now on."""
        _check_state(state, PRESENCE_STATES)
        self.profile(user_id).set_state(state, _now())

    def update_profile(
        self,
        user_id: int,
        *,
        state: str | None = None,
        timezone: str | None = None,
        suspended: bool | None = None,
    ) -> None:
        """Change what the current API adds to a user (what is given)."""
        profile = self.profile(user_id)
        _check_type("timezone", timezone, (str,), True)
        _check_type("suspended", suspended, (bool,), True)
        if state is not None:
            self.set_user_state(user_id, state)
        if timezone is not None:
            profile.timezone = timezone
        if suspended is not None:
            profile.suspended = suspended

    def today_stats(self, user_id: int) -> dict[str, Any]:
        """A user's day so far, as `GET /users/{id}/stats/today` shows it."""
        return today_stats(user_id, self.profile(user_id), self._calls, _now_exact())

    def token_user(self) -> dict[str, Any] | None:
        """The record of the user the token belongs to (None once removed)."""
        with contextlib.suppress(KeyError):
            return self.user(self.token_user_id)
        return None

    def set_hosts(self, hosts: Iterable[str]) -> None:
        """The known hosts that hold the account (the others reject its token)."""
        chosen = set(hosts)
        if unknown := chosen - set(KNOWN_HOSTS):
            msg = f"unknown host(s) {sorted(unknown)}; known: {', '.join(KNOWN_HOSTS)}"
            raise ValueError(msg)
        self.hosts = chosen

    def target_names(self) -> dict[tuple[object, object], str]:
        """The name of every user, team and greeting an extension may ring."""
        names: dict[tuple[object, object], str] = {}
        for kind, records, key in (
            ("user", self.users, "full_name"),
            ("team", self.teams, "name"),
            ("greeting", self.greetings, "name"),
        ):
            for record in records:
                names[kind, record.get("id")] = str(record.get(key) or "")
        return names

    def add_task(self, data: Mapping[str, Any]) -> int:
        """Store a task given in the current API's fields; returns its id."""
        due = data.get("due_date")
        due_at = parse_iso(due) if isinstance(due, str) else None
        task = self._store_task(
            name=data["name"],
            description=data.get("description"),
            due_date=due_at,
            assign_to=data.get("assign_to_user_id"),
            priority=data.get("priority"),
            task_list_id=data.get("task_list_id"),
        )
        self.task_links[task["id"]] = {
            key: data[key]
            for key in ("auto_assign_to_user", "company_ids", "contact_ids", "deal_ids")
            if data.get(key) is not None
        }
        return int(task["id"])

    def _store_task(
        self,
        *,
        name: str,
        description: str | None,
        due_date: datetime | None,
        assign_to: int | None,
        priority: str | None,
        task_list_id: int | None,
    ) -> dict[str, Any]:
        now = format_time(_now())
        task = {
            "resource_type": "task",
            "id": max((t["id"] for t in self.tasks), default=0) + 1,
            "name": name,
            "description": description,
            "due_date": format_time(due_date) if due_date is not None else None,
            "done": False,
            "done_at": None,
            "assign_to": assign_to,
            "priority": priority or "",
            "task_list_id": task_list_id,
            "created_at": now,
            "updated_at": now,
        }
        self.tasks.append(task)
        return task

    def add_comment(
        self, commentable_type: str, commentable_id: int, content: str
    ) -> dict[str, Any]:
        """Store a comment on a contact, company or deal; returns its record."""
        now = format_time(_now())
        comment = {
            "resource_type": "comment",
            "id": len(self.comments) + 1,
            "commentable_type": commentable_type,
            "commentable_id": commentable_id,
            "content": content,
            "created_at": now,
            "updated_at": now,
        }
        self.comments.append(comment)
        return comment

    # -- calls that ring live -----------------------------------------------------

    def ring_call(
        self,
        *,
        direction: int | str = "inbound",
        user_id: int = 2,
        caller_number: str | None = None,
        callee_number: str | None = None,
        uuid: str | None = None,
    ) -> dict[str, Any]:
        """Start a call ringing now; the webhook hears `call_init`.

        An inbound call rings `user_id` from `caller_number` (default
        +905326202911) on `callee_number` (default the account's number); an
        outbound one (click to call) rings the user first, then `callee_number`.
        Returns the call as `call_init` carries it.
        """
        code = _enum_code("direction", direction, DIRECTION_NAMES)
        _check_type("user_id", user_id, (int,), False)
        _check_type("caller_number", caller_number, (str,), True)
        _check_type("callee_number", callee_number, (str,), True)
        _check_type("uuid", uuid, (str,), True)
        own = self._caller_number(user_id)
        caller = caller_number or (DEFAULT_CALLER if code == 1 else own)
        callee = callee_number or (own if code == 1 else DEFAULT_CALLER)
        live = LiveCall(
            _ringing_record(
                self._new_uuid(uuid),
                direction=code,
                user_id=user_id,
                caller_number=caller,
                callee_number=callee,
                start=_now(),
            )
        )
        self.live_calls[live.uuid] = live
        data = call_detail(live.record, live.flow(), _now())
        self.webhooks.push("call_init", data)
        return data

    def answer_call(self, uuid: str, *, user_id: int | None = None) -> dict[str, Any]:
        """A ringing call is answered now (by `user_id` when given)."""
        live = self._live(uuid)
        if live.record["answered_at"] is not None:
            msg = f"call {uuid} is already answered"
            raise ValueError(msg)
        _check_type("user_id", user_id, (int,), True)
        if user_id is not None:
            live.record["user_id"] = user_id
        now = format_time(_now())
        live.record["answered_at"] = live.record["bridged_at"] = now
        return call_detail(live.record, live.flow(), _now())

    def hangup_call(
        self,
        uuid: str,
        *,
        reason: int | str | None = None,
        hangup_by: int | str | None = None,
        recorded: bool = False,
        voicemail: bool = False,
    ) -> dict[str, Any]:
        """A live call ends now; the webhook hears `call_hangup`.

        Unanswered, it is missed with `reason` (default abandoned) and may leave a
        `voicemail`; answered, it may have been `recorded`. It becomes a call
        record (both lists, once ended; a call lasts at least a second). Returns
        the call as `call_hangup` carries it.
        """
        live = self._live(uuid)
        missed = live.record["answered_at"] is None
        code = 0
        if missed:
            code = _reason_code("abandoned" if reason is None else reason)
            if code == 0:
                msg = "a missed call needs a reason"
                raise ValueError(msg)
        elif reason is not None:
            msg = "an answered call has no missed-call reason"
            raise ValueError(msg)
        _check_type("recorded", recorded, (bool,), False)
        _check_type("voicemail", voicemail, (bool,), False)
        if (recorded and missed) or (voicemail and not missed):
            msg = "only answered calls are recorded, only missed ones reach voicemail"
            raise ValueError(msg)
        start = parse_time(live.record["started_at"])
        end = max(_now(), start + timedelta(seconds=1))
        extra = self._outcome_fields(
            live, missed, recorded=recorded, voicemail=voicemail
        )
        if hangup_by is not None:
            extra["hangup_by"] = _enum_code("hangup_by", hangup_by, HANGUP_BY_NAMES)
        del self.live_calls[uuid]  # the call's uuid passes to its record
        record = self.add_call(
            uuid=uuid,
            started_at=start,
            ended_at=end,
            missing_call=missed,
            missing_call_reason=code,
            direction=live.record["direction"],
            user_id=live.record["user_id"],
            caller_number=live.record["caller_number"],
            callee_number=live.record["callee_number"],
            **extra,
        )
        data = call_detail(record, self._by_uuid[uuid].call_flow, _now())
        self.webhooks.push("call_hangup", data)
        return data

    def _live(self, uuid: str) -> LiveCall:
        if uuid not in self.live_calls:
            raise KeyError(uuid)
        return self.live_calls[uuid]

    @staticmethod
    def _outcome_fields(
        live: LiveCall, missed: bool, *, recorded: bool, voicemail: bool
    ) -> dict[str, Any]:
        record = live.record
        start = parse_time(record["started_at"])
        fields: dict[str, Any] = {
            "answered_at": record["answered_at"],
            "bridged_at": record["bridged_at"],
        }
        if not missed:
            answered = parse_time(record["answered_at"])
            fields["first_touch_duration"] = int((answered - start).total_seconds())
        day = start.strftime("%Y/%m/%d")
        if recorded:
            fields["record_url"] = f"{RECORDS_URL}/{day}/{live.uuid}.mp3"
        if voicemail:
            fields["voicemail_url"] = f"{RECORDS_URL}/voicemail/{day}/{live.uuid}.mp3"
            fields["voicemail_type"] = 1  # the user's own voicemail
            fields["voicemail_id"] = record["user_id"]
        return fields

    def _caller_number(self, user_id: int) -> str:
        """The number a user's calls show: their default number, else the account's."""
        with contextlib.suppress(KeyError):
            number_id = self.user(user_id).get("default_number_id")
            for number in self.numbers:
                if number["id"] == number_id:
                    return str(number["number"])
        return str(NUMBERS[0]["number"])

    def add_call(
        self,
        *,
        started_at: datetime | str | None = None,
        ended_at: datetime | str | None = None,
        duration: int | None = None,
        missing_call: bool = False,
        missing_call_reason: int | str = 0,
        direction: int | str = 1,
        user_id: int = 2,
        caller_number: str = DEFAULT_CALLER,
        callee_number: str = "101",
        uuid: str | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """Add a call; it is listed once its `ended_at` has passed.

        `started_at` defaults to now; `ended_at` to `started_at + duration`
        (duration defaults to 60 s, or to the span when `ended_at` is given; for a
        missed call it is the ringing time). `missing_call_reason`, `direction`
        and `hangup_by` are the 2021 API's codes or the current API's names. Other
        fields of the record (and `call_flow`) may be given; the rest default by
        direction. Returns the record as the 2021 API lists it. No webhook is sent:
        this is history (see `ring_call` for a call that rings live).
        """
        unknown = set(fields) - set(_CALL_EXTRA_TYPES)
        if unknown:
            msg = f"unknown call field(s): {', '.join(sorted(unknown))}"
            raise TypeError(msg)
        for key, value in fields.items():
            _check_type(key, value, *_CALL_EXTRA_TYPES[key])
        _check_type("duration", duration, (int,), True)
        _check_type("missing_call", missing_call, (bool,), False)
        _check_type("user_id", user_id, (int,), False)
        _check_type("caller_number", caller_number, (str,), False)
        _check_type("callee_number", callee_number, (str,), False)
        _check_type("uuid", uuid, (str,), True)
        reason = _reason_code(missing_call_reason)
        code = _enum_code("direction", direction, DIRECTION_NAMES)
        if fields.get("hangup_by") is not None:
            fields["hangup_by"] = _enum_code(
                "hangup_by", fields["hangup_by"], HANGUP_BY_NAMES
            )
        if duration is not None and duration < 0:
            msg = "duration must not be negative"
            raise ValueError(msg)
        call_uuid = self._new_uuid(uuid)
        start = _now() if started_at is None else parse_time(started_at, "started_at")
        if ended_at is None:
            end = start + timedelta(
                seconds=DEFAULT_DURATION if duration is None else duration
            )
        else:
            end = parse_time(ended_at, "ended_at")
            if end < start:
                msg = "ended_at must not be before started_at"
                raise ValueError(msg)
        seconds = int((end - start).total_seconds()) if duration is None else duration
        ring = min(RING_SECONDS, seconds)
        answered = (
            None if missing_call else format_time(start + timedelta(seconds=ring))
        )
        out_of_hours = reason == MISSING_CALL_REASONS["out_of_business_hours"]
        record = _ringing_record(
            call_uuid,
            direction=code,
            user_id=user_id,
            caller_number=caller_number,
            callee_number=callee_number,
            start=start,
        )
        record.update(
            {
                "answered_at": answered,
                "bridged_at": answered,
                "ended_at": format_time(end),
                "call_duration": seconds,
                "first_touch_duration": 0 if missing_call else ring,
                "missing_call": missing_call,
                "missing_call_reason": reason,
                "hangup_by": 3 if missing_call and out_of_hours else 2,
            }
        )
        call_flow = fields.pop("call_flow", None)
        record.update(fields)
        for key in ("answered_at", "bridged_at"):
            if record[key] is not None:
                record[key] = format_time(parse_time(record[key], key))
        if call_flow is None:
            call_flow = _call_flow(record, start, end)
        self._seq += 1
        call = Call(call_uuid, record, start, end, self._seq, list(call_flow))
        self._calls.append(call)
        self._by_uuid[call_uuid] = call
        return record

    def _new_uuid(self, uuid: str | None) -> str:
        """The given uuid, or a new one; ValueError when a call already has it."""
        call_uuid = uuid or str(uuid_module.uuid4())
        if call_uuid in self._by_uuid or call_uuid in self.live_calls:
            msg = f"call {call_uuid} already exists"
            raise ValueError(msg)
        return call_uuid

    @staticmethod
    def now() -> datetime:
        """The current time, exact (frozen or warped clocks apply)."""
        return _now_exact()

    def ended_calls(self) -> list[Call]:
        """The calls that have ended, in the API's order (newest start first)."""
        now = _now_exact()
        return [call for call in self._ordered_calls() if call.ended_at <= now]

    def ended_call(self, uuid: str) -> Call | None:
        """A call by uuid, once it has ended (None before, or when unknown)."""
        call = self._find_call(uuid)
        return call if call is not None and call.ended_at <= _now_exact() else None

    def call(self, uuid: str) -> dict[str, Any]:
        """A call's record with its call_flow, visible or not (KeyError if unknown)."""
        call = self._find_call(uuid)
        if call is None:
            raise KeyError(uuid)
        return {**call.record, "call_flow": list(call.call_flow)}

    @property
    def calls(self) -> list[dict[str, Any]]:
        """Every call's live record (also those not ended yet), in the order added.

        Not the API order. Changing a record changes what the API shows (to test
        clients against malformed data); order and visibility stay as added.
        """
        return [call.record for call in self._calls]

    def set_rate_limit(self, limit: int) -> None:
        """Requests allowed per token (or client) in each 60 s window."""
        _check_type("limit", limit, (int,), False)
        if limit < 1:
            msg = "limit must be at least 1"
            raise ValueError(msg)
        self.rate_limit = limit

    @property
    def requests_in_window(self) -> int:
        """Requests counted for `token` in its current window (0 when none open)."""
        window = self.rate_windows.get(f"token:{self.token}")
        if window is None or _now_exact() >= window.ends_at:
            return 0
        return window.hits

    # -- service hooks -------------------------------------------------------------

    def routes(self) -> list[Route]:
        """The API routes, as the document lists them."""
        cdr = "/cdrs/{year:\\d{4}}/{month:\\d{1,2}}/{day:\\d{1,2}}/{uuid}"
        routes = [
            ("GET", "/users", self._list_users),
            ("GET", "/users/{id}", self._get_user),
            ("PUT", "/users/{id}", self._update_user),
            ("GET", "/teams", self._lister("teams")),
            ("GET", "/teams/{id}", self._getter("teams")),
            ("GET", "/extensions", self._lister("extensions")),
            ("GET", "/extensions/{id}", self._getter("extensions")),
            ("GET", "/numbers", self._lister("numbers")),
            ("GET", "/numbers/{id}", self._getter("numbers")),
            ("GET", "/greetings", self._lister("greetings")),
            ("GET", "/greetings/{id}", self._getter("greetings")),
            ("GET", "/tasks", self._lister("tasks")),
            ("GET", "/tasks/{id}", self._getter("tasks")),
            ("POST", "/tasks", self._create_task),
            ("GET", "/cdrs", self._list_calls),
            ("GET", cdr, self._get_call),
            ("POST", "/comments", self._create_comment),
        ]
        legacy = [
            Route(m, base + API + path, handler, CT_JSON)
            for base in ("", f"/{LEGACY_HOST}")
            for m, path, handler in routes
        ]
        current = [
            Route(m, base + V3 + path, handler, CT_JSON_V3)
            for base in ("", *(f"/{host}" for host in V3_HOSTS))
            for m, path, handler in self.current_api.routes()
        ]
        return legacy + current

    async def handle(
        self, request: web.Request, handler: Handler
    ) -> web.StreamResponse:
        """Answer as the base class does, adding the rate headers when counted
        (on the current API only `Retry-After`, when throttled)."""
        mount = mount_of(self._path(request))
        generation = _GENERATION.set(mount.generation)
        try:
            response = await super().handle(request, handler)
        finally:
            _GENERATION.reset(generation)
        headers = request.get(RATE_HEADERS, {})
        if mount.generation == "v3":
            headers = {k: v for k, v in headers.items() if k == "retry-after"}
        response.headers.update(headers)
        return response

    async def before_handler(self, request: web.Request) -> None:
        """Route match first (as Laravel), then the throttle, then the token (a
        known host's stand-in takes it only when it holds the account)."""
        mount = mount_of(self._path(request))
        self._check_route(request, mount)
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        valid = (
            scheme.lower() == "bearer"
            and token.strip() == self.token
            and (mount.host is None or mount.host in self.hosts)
        )
        key = f"token:{self.token}" if valid else f"client:{request.remote}"
        self._throttle(request, key)
        if not valid:
            if mount.generation == "v3":
                raise V3Error(401)
            raise ServiceError(401, UNAUTHENTICATED)

    def error_response(self, error: ServiceError) -> web.Response:
        """`{"message": …}` (plus `errors` for 422) as JSON, like every answer;
        Phoenix's `{"errors": …}` on the current API."""
        if _GENERATION.get() == "v3":
            response = v3_json(error_body(error), error.status)
            response.headers.update(error.headers)
            return response
        message = error.message
        if message == HTTPStatus(error.status).phrase:
            message = GENERIC_MESSAGES.get(error.status, message)
        data: dict[str, Any] = {"message": message}
        if isinstance(error, ValidationFailed):
            data["errors"] = error.errors
        response = _json(data, error.status)
        response.headers.update(error.headers)
        return response

    def control_routes(self) -> list[ControlRoute]:
        """State changes for scripts and the demo, mirroring the Python helpers.

        For the current API: `POST /users/bulk` {"count", user fields…};
        `PUT /users/{id}/presence` {"state", "timezone", "suspended"} (any given);
        `POST /calls/ring` {"direction", "user_id", "caller_number",
        "callee_number", "uuid"} (all optional), `POST /calls/{uuid}/answer`
        {"user_id"?}, `POST /calls/{uuid}/hangup` {"reason", "hangup_by",
        "recorded", "voicemail"} (all optional), `GET /calls/live`;
        `GET|PUT /webhook` {"url" (null: none), "enabled"?, "events"?},
        `GET /deliveries`; `GET|PUT /hosts` {"hosts": [known host, …]}.
        """
        return [
            ControlRoute("POST", "/users", self._control_add_user),
            ControlRoute("DELETE", "/users/{id}", self._control_remove_user),
            ControlRoute("PATCH", "/users/{id}", self._control_patch_user),
            ControlRoute("GET", "/calls", self._control_calls),
            ControlRoute("POST", "/calls", self._control_add_call),
            ControlRoute("POST", "/rate_limit", self._control_rate_limit),
            ControlRoute("POST", "/token", self._control_token),
            # The current API's additions.
            ControlRoute("POST", "/users/bulk", self._control_add_users),
            ControlRoute("PUT", "/users/{id}/presence", self._control_presence),
            ControlRoute("GET", "/calls/live", self._control_live_calls),
            ControlRoute("POST", "/calls/ring", self._control_ring),
            ControlRoute("POST", "/calls/{uuid}/answer", self._control_answer),
            ControlRoute("POST", "/calls/{uuid}/hangup", self._control_hangup),
            ControlRoute("GET", "/webhook", self._control_webhook),
            ControlRoute("PUT", "/webhook", self._control_set_webhook),
            ControlRoute("GET", "/deliveries", self._control_deliveries),
            ControlRoute("GET", "/hosts", self._control_hosts),
            ControlRoute("PUT", "/hosts", self._control_set_hosts),
        ]

    def state(self) -> dict[str, Any]:
        """Counts, rate-limit state, and the users' statuses."""
        now = _now_exact()
        visible = sum(call.ended_at <= now for call in self._calls)
        window = self.rate_windows.get(f"token:{self.token}")
        open_window = window is not None and now < window.ends_at
        return {
            "token": self.token,
            "rate_limit": self.rate_limit,
            "requests_in_window": self.requests_in_window,
            "window_ends_at": format_time(window.ends_at)
            if window is not None and open_window
            else None,
            "throttled": self.throttled,
            "counts": {
                "users": len(self.users),
                "calls_visible": visible,
                "calls_pending": len(self._calls) - visible,
                "tasks": len(self.tasks),
                "comments": len(self.comments),
                "throttled": self.throttled,
            },
            "users": [
                {
                    "id": u["id"],
                    "name": u["name"],
                    "status": u["status"],
                    "state": self.profile(u["id"]).state,
                }
                for u in self.users
            ],
            "hosts": sorted(self.hosts),
            "webhook": self.webhooks.to_json(),
            "deliveries": len(self.webhooks.deliveries),
            "live_calls": sorted(self.live_calls),
        }

    def summary(self) -> list[str]:
        """What to enter in CommHub when pointing it at the sandbox."""
        webhook = self.webhooks.url or "not set (PUT /_control/hipcall/webhook)"
        return [
            f"CommHub base_url: the base URL above + {API} (2021 API) or + {V3} "
            "(current API)",
            f"known hosts: + /<host>{V3} for {', '.join(V3_HOSTS)}, + "
            f"/{LEGACY_HOST}{API}; the account is on {', '.join(sorted(self.hosts))}",
            f"api_token {self.token!r} (Authorization: Bearer …)",
            f"{len(self.users)} users (owner {OWNER_USER_ID}), "
            f"{len(self._calls)} calls; "
            f"rate limit {self.rate_limit} requests per 60 s",
            f"webhook (call_init, call_hangup): {webhook}",
        ]

    def demo_step(self, step: int) -> None:
        """Every 3rd step an answered call (ended now); every 9th a missed one,
        rung live one step earlier (`call_init`, then `call_hangup`); every step
        one of users 2-5 moves to their next presence state; every 6th step user 3
        toggles between "active" and "inactive" (the 2021 API's status)."""
        now = _now()
        if step % 3 == 0:
            duration = 30 + (step * 37) % 300
            self.add_call(
                started_at=now - timedelta(seconds=duration),
                ended_at=now,
                user_id=2 + step % 3,
                caller_number=f"+90532{step % 10000000:07d}",
            )
        if step % 9 == 8:
            self._demo_ringing = self.ring_call(
                caller_number=f"+90544{(step + 1) % 10000000:07d}"
            )["uuid"]
        if step % 9 == 0 and self._demo_ringing in self.live_calls:
            reason = DEMO_REASONS[(step // 9 - 1) % len(DEMO_REASONS)]
            self.hangup_call(self._demo_ringing, reason=reason)
        if step % 6 == 0:
            with contextlib.suppress(KeyError):
                user = self.user(DEMO_USER_ID)
                status = "inactive" if user["status"] == "active" else "active"
                self.set_user_status(DEMO_USER_ID, status)
        with contextlib.suppress(KeyError):
            user_id = DEMO_PRESENCE_USERS[step % len(DEMO_PRESENCE_USERS)]
            current = self.profile(user_id).state
            cycle = CHOOSABLE_STATES
            following = (
                (cycle.index(current) + 1) % len(cycle) if current in cycle else 0
            )
            self.set_user_state(user_id, cycle[following])

    # -- request helpers -------------------------------------------------------------

    def _check_route(self, request: web.Request, mount: Mount) -> None:
        """A path or method no route matches (not counted): Laravel's wording on
        the 2021 API, Phoenix's on the current one."""
        exception = request.match_info.http_exception
        if exception is None:
            return
        allow = {}
        if isinstance(exception, web.HTTPMethodNotAllowed):
            allow = {"Allow": ",".join(sorted(exception.allowed_methods))}
        if mount.generation == "v3":
            raise V3Error(exception.status, headers=allow)
        route = self._path(request).removeprefix(f"/{mount.host}" if mount.host else "")
        route = route.removeprefix("/")
        if isinstance(exception, web.HTTPMethodNotAllowed):
            methods = sorted(exception.allowed_methods)
            if "GET" in methods:
                methods.insert(methods.index("GET") + 1, "HEAD")
            raise ServiceError(
                405,
                f"The {request.method} method is not supported for route {route}. "
                f"Supported methods: {', '.join(methods)}.",
                allow,
            )
        raise ServiceError(exception.status, f"The route {route} could not be found.")

    def _path(self, request: web.Request) -> str:
        """The request path without the service prefix."""
        return request.path[len(self.prefix) :]

    def _throttle(self, request: web.Request, key: str) -> None:
        now = _now_exact()
        window = self.rate_windows.get(key)
        if window is None or now >= window.ends_at:
            window = self.rate_windows[key] = RateWindow(now + RATE_WINDOW)
        limit = self.rate_limit
        if window.hits >= limit:
            self.throttled += 1
            retry = max(1, math.ceil((window.ends_at - now).total_seconds()))
            request[RATE_HEADERS] = {
                "x-ratelimit-limit": str(limit),
                "x-ratelimit-remaining": "0",
                "retry-after": str(retry),
                "x-ratelimit-reset": str(math.floor(now.timestamp()) + retry),
            }
            raise ServiceError(429, TOO_MANY_ATTEMPTS)
        window.hits += 1
        request[RATE_HEADERS] = {
            "x-ratelimit-limit": str(limit),
            "x-ratelimit-remaining": str(max(0, limit - window.hits)),
        }

    def _url(self, request: web.Request, resource: str) -> str:
        base = mount_of(self._path(request)).base
        return f"{request.url.origin()}{self.prefix}{base}/{resource}"

    def _length_aware(
        self, request: web.Request, resource: str, items: list[dict[str, Any]]
    ) -> dict[str, Any]:
        """Laravel's LengthAwarePaginator as an API resource collection."""
        path = self._url(request, resource)
        page, total = _page(request), len(items)
        last_page = max(math.ceil(total / PER_PAGE), 1)
        chunk = items[(page - 1) * PER_PAGE : page * PER_PAGE]

        def url(number: int) -> str:
            return f"{path}?page={number}"

        prev_url = url(page - 1) if page > 1 else None
        next_url = url(page + 1) if page < last_page else None
        links: list[dict[str, Any]] = [
            {"url": prev_url, "label": "« Previous", "active": False}
        ]
        for number in _url_window(page, last_page):
            if number is None:
                links.append({"url": None, "label": "...", "active": False})
            else:
                links.append(
                    {"url": url(number), "label": str(number), "active": number == page}
                )
        links.append({"url": next_url, "label": "Next »", "active": False})
        first = (page - 1) * PER_PAGE + 1 if chunk else None
        return {
            "data": chunk,
            "links": {
                "first": url(1),
                "last": url(last_page),
                "prev": prev_url,
                "next": next_url,
            },
            "meta": {
                "current_page": page,
                "from": first,
                "last_page": last_page,
                "links": links,
                "path": path,
                "per_page": PER_PAGE,
                "to": first + len(chunk) - 1 if first is not None else None,
                "total": total,
            },
        }

    def _simple(
        self, request: web.Request, resource: str, items: list[dict[str, Any]]
    ) -> dict[str, Any]:
        """Laravel's simple Paginator (no total); the document's per_page is "10"."""
        path = self._url(request, resource)
        page = _page(request)
        chunk = items[(page - 1) * PER_PAGE : page * PER_PAGE]
        has_more = len(items) > page * PER_PAGE
        first = (page - 1) * PER_PAGE + 1 if chunk else None
        return {
            "data": chunk,
            "links": {
                "first": f"{path}?page=1",
                "last": None,
                "prev": f"{path}?page={page - 1}" if page > 1 else None,
                "next": f"{path}?page={page + 1}" if has_more else None,
            },
            "meta": {
                "current_page": page,
                "from": first,
                "path": path,
                "per_page": str(PER_PAGE),
                "to": first + len(chunk) - 1 if first is not None else None,
            },
        }

    def _ordered_calls(self) -> list[Call]:
        return sorted(self._calls, key=lambda c: (c.started_at, c.seq), reverse=True)

    def _find_call(self, uuid: str) -> Call | None:
        return self._by_uuid.get(uuid)

    @staticmethod
    def _record_id(request: web.Request) -> int:
        value = request.match_info["id"]
        if not re.fullmatch(r"\d+", value):
            raise ServiceError(404, RECORD_NOT_FOUND)
        return int(value)

    def _record(self, collection: str, request: web.Request) -> dict[str, Any]:
        record_id = self._record_id(request)
        records: list[dict[str, Any]] = getattr(self, collection)
        for record in records:
            if record["id"] == record_id:
                return record
        raise ServiceError(404, RECORD_NOT_FOUND)

    # -- API handlers --------------------------------------------------------------

    def _lister(self, collection: str) -> Any:
        async def list_records(request: web.Request) -> web.Response:
            records: list[dict[str, Any]] = getattr(self, collection)
            return _json(self._length_aware(request, collection, list(records)))

        return list_records

    def _getter(self, collection: str) -> Any:
        async def get_record(request: web.Request) -> web.Response:
            return _json({"data": self._record(collection, request)})

        return get_record

    async def _list_users(self, request: web.Request) -> web.Response:
        return _json(self._length_aware(request, "users", list(self.users)))

    async def _get_user(self, request: web.Request) -> web.Response:
        user = self._record("users", request)
        return _json({"data": _retrieve_shape(user)})

    async def _update_user(self, request: web.Request) -> web.Response:
        user = self._record("users", request)
        data = await _read_input(request)
        validator = _Validator(data)
        validator.integer("default_number_id", required=True)
        number_id = _as_int(data.get("default_number_id"))
        if not validator.errors and not any(n["id"] == number_id for n in self.numbers):
            validator.fail(
                "default_number_id", "The selected default number id is invalid."
            )
        validator.check()
        user["default_number_id"] = number_id
        user["updated_at"] = format_time(_now())
        return _json({"data": _retrieve_shape(user)})

    async def _create_task(self, request: web.Request) -> web.Response:
        data = await _read_input(request)
        if data.get("assign_to") is False:  # "null or false" both mean nobody
            data["assign_to"] = None
        validator = _Validator(data)
        validator.string("name", required=True, max_length=255)
        validator.string("description")
        validator.date("due_date")
        validator.integer("assign_to")
        validator.boolean("auto_assign_to_user")
        validator.one_of("priority", PRIORITIES)
        validator.integer("task_list")
        for key in ("contact_ids", "company_ids", "deal_ids"):
            validator.integer_list(key)
        validator.check()
        due = data.get("due_date")
        task = self._store_task(
            name=data["name"],
            description=data.get("description"),
            due_date=_parse_due_date(due) if isinstance(due, str) else None,
            # auto_assign_to_user looks for an owner among the given companies,
            # contacts and deals; the sandbox has none of those, so nobody.
            assign_to=_as_int(data.get("assign_to")),
            priority=data.get("priority"),
            task_list_id=_as_int(data.get("task_list")),
        )
        return _json({"data": task}, 201)

    async def _create_comment(self, request: web.Request) -> web.Response:
        data = await _read_input(request)
        validator = _Validator(data)
        validator.one_of("commentable_type", COMMENTABLE_TYPES, required=True)
        validator.integer("commentable_id", required=True)
        validator.string("content", required=True)
        validator.check()
        comment = self.add_comment(
            data["commentable_type"],
            _as_int(data["commentable_id"]) or 0,
            data["content"],
        )
        return _json({"data": comment}, 201)

    async def _list_calls(self, request: web.Request) -> web.Response:
        visible = [call.record for call in self.ended_calls()]
        return _json(self._simple(request, "cdrs", visible))

    async def _get_call(self, request: web.Request) -> web.Response:
        # The date segments are not compared with the call: the document's own
        # example asks for 2021/11/25 and gets a call of 2023-03-31.
        call = self.ended_call(request.match_info["uuid"])
        if call is None:
            raise ServiceError(404, RECORD_NOT_FOUND)
        return _json({"data": {**call.record, "call_flow": call.call_flow}})

    # -- control handlers ------------------------------------------------------------

    @staticmethod
    def _path_id(request: web.Request) -> int:
        value = request.match_info["id"]
        if not value.isdigit():
            msg = f"user id must be an integer, not {value!r}"
            raise ValueError(msg)
        return int(value)

    async def _control_add_user(self, request: web.Request) -> object:
        return self.add_user(**await read_json_object(request))

    async def _control_remove_user(self, request: web.Request) -> object:
        self.remove_user(self._path_id(request))
        return {"ok": True}

    async def _control_patch_user(self, request: web.Request) -> object:
        user_id = self._path_id(request)
        status = require(await read_json_object(request), "status", str)
        self.set_user_status(user_id, status)
        return self.user(user_id)

    async def _control_calls(self, _request: web.Request) -> object:
        return self.calls

    async def _control_add_call(self, request: web.Request) -> object:
        return self.add_call(**await read_json_object(request))

    async def _control_rate_limit(self, request: web.Request) -> object:
        self.set_rate_limit(require(await read_json_object(request), "limit", int))
        return {"rate_limit": self.rate_limit}

    async def _control_token(self, request: web.Request) -> object:
        self.token = require(await read_json_object(request), "token", str)
        return {"token": self.token}

    async def _control_add_users(self, request: web.Request) -> object:
        body = await read_json_object(request)
        count = require(body, "count", int)
        fields = {key: value for key, value in body.items() if key != "count"}
        return {"ids": [user["id"] for user in self.add_users(count, **fields)]}

    async def _control_presence(self, request: web.Request) -> object:
        user_id = self._path_id(request)
        self.update_profile(user_id, **await read_json_object(request))
        return self.user_view(user_id)

    async def _control_live_calls(self, _request: web.Request) -> object:
        now = _now()
        return [call_detail(c.record, c.flow(), now) for c in self.live_calls.values()]

    async def _control_ring(self, request: web.Request) -> object:
        data = self.ring_call(**await read_json_object(request))
        await self.webhooks.wait()
        return data

    async def _control_answer(self, request: web.Request) -> object:
        body = await read_json_object(request)
        return self.answer_call(request.match_info["uuid"], **body)

    async def _control_hangup(self, request: web.Request) -> object:
        body = await read_json_object(request)
        data = self.hangup_call(request.match_info["uuid"], **body)
        await self.webhooks.wait()
        return data

    async def _control_webhook(self, _request: web.Request) -> object:
        return self.webhooks.to_json()

    async def _control_set_webhook(self, request: web.Request) -> object:
        body = await read_json_object(request)
        if "url" not in body:
            msg = "missing field 'url' (null: no target)"
            raise ValueError(msg)
        _check_type("url", body["url"], (str,), True)
        _check_type("enabled", body.get("enabled"), (bool,), True)
        events = body.get("events")
        _check_type("events", events, (list,), True)
        self.webhooks.configure(
            url=body["url"], enabled=body.get("enabled"), events=events
        )
        return self.webhooks.to_json()

    async def _control_deliveries(self, _request: web.Request) -> object:
        await self.webhooks.wait()
        return [delivery.to_json() for delivery in self.webhooks.deliveries]

    async def _control_hosts(self, _request: web.Request) -> object:
        return {"hosts": sorted(self.hosts), "known": list(KNOWN_HOSTS)}

    async def _control_set_hosts(self, request: web.Request) -> object:
        hosts = require(await read_json_object(request), "hosts", list)
        self.set_hosts(hosts)
        return {"hosts": sorted(self.hosts), "known": list(KNOWN_HOSTS)}


def _retrieve_shape(user: Mapping[str, Any]) -> dict[str, Any]:
    """A user as "Retrieve a User" shows it (no full_name, no status)."""
    return {key: user[key] for key in USER_RETRIEVE_KEYS if key in user}


def _now_exact() -> datetime:
    """The current time with sub-second precision (throttle windows, visibility)."""
    return datetime.now(UTC)


def _call_flow(
    record: Mapping[str, Any], start: datetime, end: datetime
) -> list[dict[str, Any]]:
    """A plausible flow for a call, newest step first like the document's."""

    def at(seconds: int) -> str:
        return format_time(min(start + timedelta(seconds=seconds), end))

    user = {"id": record["user_id"], "type": "user"}
    direction, missed = record["direction"], record["missing_call"]
    if direction == 1:
        steps = [("init", {"id": record["channel_id"], "type": "number"}, at(0))]
        if record["callee_type"] == 3:
            greeting = {"id": record["callee_id"], "type": "greeting"}
            steps.append(("route", greeting, at(1)))
        target = user
    else:
        steps = [("init", user, at(0))]
        kind = "user" if direction == 3 else "contact"
        target = {"id": record["callee_id"], "type": kind}
    closed = missed and record["missing_call_reason"] == 1  # greeting only
    if not closed:
        steps.append(("bridge_attempt", target, at(2)))
        if missed:
            failed = {"id": target["id"], "result": 21, "type": target["type"]}
            steps.append(("bridge_fail", failed, format_time(end)))
        else:
            bridged = record["bridged_at"] or at(RING_SECONDS)
            steps.append(("bridge", target, bridged))
    hangup_by = {"hangup_by": HANGUP_BY.get(record["hangup_by"], "system")}
    steps.append(("hangup", hangup_by, format_time(end)))
    return [
        {"action": action, "detail": dict(detail), "timestamp": timestamp}
        for action, detail, timestamp in reversed(steps)
    ]


def _url_window(page: int, last_page: int) -> list[int | None]:
    """Laravel's UrlWindow (onEachSide 3): page numbers, None for "..."."""
    on_each_side = 3
    if last_page < on_each_side * 2 + 8:
        return list(range(1, last_page + 1))
    window = on_each_side + 4
    start, finish = [1, 2], [last_page - 1, last_page]
    if page <= window:
        return [*range(1, window + on_each_side + 1), None, *finish]
    if page > last_page - window:
        first = last_page - (window + (on_each_side - 1))
        return [*start, None, *range(first, last_page + 1)]
    return [
        *start,
        None,
        *range(page - on_each_side, page + on_each_side + 1),
        None,
        *finish,
    ]
