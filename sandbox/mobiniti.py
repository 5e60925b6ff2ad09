"""Mobiniti API v1 sandbox (https://api.mobiniti.com, mounted under /mobiniti).

The seed document (`mobiniti-api-v1.txt`) gives the OAuth 2.0 authorization code
flow, the resource paths and methods, the status codes, the error body
`{"status", "message", "errors"}`, filtering (`filter[field]=value`), ordering
(`sort=-created_at`), includes, pagination (`limit`/`page`, `meta.pagination`, one
example: `GET /v1/groups?limit=2`), the rate limit (1 request per second per route,
`X-RateLimit-Limit: 60`, `X-RateLimit-Remaining`, 429), `X-Request-Id`, and six
webhook payloads. The project's contract fixes the bodies of `PATCH
/v1/contacts/unsubscribe` (`{"phone_numbers": [...]}`, at most 100), of the lookup
(`{"phone_numbers": [...]}`, at most 10) and of scheduled messages
(`{"phone_number", "message", "send_at"}`), and `POST /v1/message`
(`{"phone_number", "message"}`). Everything else is a sandbox decision, stated here:

Authentication and OAuth
- `Authorization: Bearer <token>` on every `/v1/...` route (scheme case-insensitive).
  Missing, unknown, revoked or expired → 401 `{"status": 401, "message":
  "Unauthenticated.", "errors": {}}` with `WWW-Authenticate: Bearer`. `tokens` holds
  the accepted tokens (`SEED_TOKEN` is a personal access token with every scope).
- Scopes are enforced: each route needs the scope the document's list suggests
  (`contacts.view`, `contacts.create`, `contacts.update` for the unsubscribe,
  `contacts.delete`, `groups.view`, `messages.view`, `messages.create` for
  `/v1/message` and its batch, `message.schedule.*`, `phone-numbers.lookup`). A token
  without it → 403 "Invalid scope(s) provided.". Tokens absent from `token_scopes`
  (personal tokens, tokens added to `tokens` by hand) have every scope.
- `GET /oauth/authorize` auto-approves (unless `oauth_approve` is False: then
  `error=access_denied`) and answers 302 to `redirect_uri` with `code` (27
  alphanumerics, single use, valid 10 minutes) and `state` (when given). An unknown
  `client_id` → 401 `invalid_client`, a missing or non-http(s) `redirect_uri` (or one
  not in `redirect_uris` when that is set; None accepts any) → 400 `invalid_request`,
  both without redirect (RFC 6749 4.1.2.1). Otherwise errors redirect with `error`,
  `error_description` and `state`: `response_type` other than `code` →
  `unsupported_response_type`; a missing scope or one not in the document's list →
  `invalid_scope`.
- `POST /oauth/token` takes a form (`application/x-www-form-urlencoded`, else 400
  `invalid_request`). Client credentials in the body or with HTTP Basic (both at once
  → `invalid_request`); wrong or missing → 401 `invalid_client` (with
  `WWW-Authenticate: Basic` when Basic was used). `grant_type` missing →
  `invalid_request`, unknown → `unsupported_grant_type`. `authorization_code` needs
  `code` and the exact `redirect_uri` of the authorization request; an unknown,
  used, expired or foreign code or another redirect URI → 400 `invalid_grant`.
  `refresh_token` issues a new access and refresh token and revokes both old ones
  (an old refresh token → `invalid_grant`); a `scope` parameter is ignored. Answers
  `{"token_type": "Bearer", "expires_in": 315359999, "access_token",
  "refresh_token"}` with `Cache-Control: no-store`; access tokens are hyphenated
  hexadecimal (UUID 4) strings; `token_lifetime` (seconds) may be shortened to make
  them expire. OAuth errors are `{"error", "error_description"}`.

Answers and errors
- Successful answers are `application/json`; a single resource is `{"data": {...}}`,
  a list `{"data": [...], "meta": {"pagination": {...}}}`; creation answers 201,
  DELETE 204 without a body. Every response of the service carries `X-Request-Id`.
- Errors are `{"status", "message", "errors"}`; `errors` is `{}` unless it is a
  validation error (422 "A validation error occurred", messages per field in
  Laravel's wording, array items as `phone_numbers.3`). A body that is not JSON
  (non-empty and not `application/json`) → 415; malformed JSON or not an object →
  400 with the document's generic message; an `Accept` header that excludes JSON →
  406; unknown records → 404; unknown paths and methods → 404/405 in the same shape.
- Phone numbers must be E.164 (`+` and 2-15 digits) → else 422. Messages are at
  most 1600 characters. Sending (`/v1/message`, the batch, scheduling) to a contact
  that has unsubscribed → 422 "The contact has unsubscribed." (nothing is sent) and
  a `rejection` webhook `{"code": "", "message": <text>, "description":
  "Unsubscribed"}`. Numbers that are not contacts may be sent to (no contact is
  created). When `payment_required` is set, valid sends answer 402 "You need to pay
  for campaign or contact messages." (validation comes first).
- Filters, sorts and includes are checked as spatie/laravel-query-builder does: a
  `filter[...]`, `sort` field or `include` the endpoint does not document → 400
  naming the allowed ones. Other query parameters (e.g. a bare `type=`) are ignored.
  Contacts filter `phone_number`, `reward_points` (exact), include `carrier`; group
  contacts also include `status`, `groups`, `fields`; messages filter `type`
  (`INCOMING_ALL`, `OUTGOING_ALL`, or an exact type: `INCOMING`, `OUTGOING`,
  `unknown`), `phone_number` (substring), `created_at_min`/`created_at_max` (ISO
  8601, inclusive, naive means UTC; invalid → 422 on `filter.created_at_min`; an
  offset's `+` must be percent-encoded in a query, else it reads as a space),
  include `receipt`, `contact`, `contact.carrier`, `type`; groups include `keyword`.
  Sortable: contacts `created_at`, `updated_at`, `unsubscribed_at`, `phone_number`,
  `first_name`, `last_name`, `reward_points`; messages `created_at`, `updated_at`,
  `phone_number`; scheduled messages `send_at`, `created_at`, `updated_at`; groups
  `name`, `created_at`, `updated_at`. Default order: oldest first (ties by creation
  order); nulls sort first ascending.
- Pagination: `limit` defaults to and is clamped at 100 (invalid → 100), `page`
  invalid → 1. `meta.pagination` is `{"total", "count", "per_page", "current_page",
  "total_pages", "links"}` (`total_pages` at least 1); `links` holds absolute
  `previous`/`next` URLs (the request's query with `page` last) only when such a
  page exists, else `{}`. A page past the end is `data: []` with `previous`.
- Times: `YYYY-MM-DDThh:mm:ss.SSSZ` (UTC) everywhere, as the document's rule says,
  except groups, which keep the `+0000` format of the document's only example. The
  seed's two example groups are returned exactly (the second opt-in has no `id`);
  the account has six groups in all, as the example's `total` says (its
  `total_pages` 2 contradicts `total` 6 and `per_page` 2: the sandbox computes 3).

Resources (the document gives no bodies except groups and webhooks)
- Contact: `{"id", "first_name", "last_name", "email", "phone_number",
  "reward_points", "unsubscribed_at", "created_at", "updated_at"}` (the webhook
  fields plus `reward_points`); `carrier` is `{"id", "name"}` (a deterministic pick
  from four US carriers), `status` one of `active`, `unsubscribed`, `suspended`,
  `deactivated`, `resumed`, `transferred`, `groups` `[{"id", "name"}]`, `fields` an
  object. `POST /v1/contacts` takes `phone_number` (required), `first_name`,
  `last_name`, `email`, `reward_points`, `groups` (group ids); the opt-in is taken as
  confirmed (status `active`). A number that is already a contact → 422 "The contact
  already exists." (the document's example). `PUT` takes the same fields except
  `phone_number` (ignored: it cannot change); `groups: []` removes every group.
- Message: `{"id", "contact_id", "phone_number", "short_code", "message",
  "created_at", "updated_at"}` (`contact_id` null for a number that is no contact;
  a number that texts in becomes a contact); `phone_number` is the contact's number,
  `short_code` the account's (64600). `type` is `INCOMING` or `OUTGOING`; `receipt`
  `{"code", "status", "success", "bounce"}` for outgoing messages, null for
  incoming ones. `POST /v1/message` → 201 `{"data": message}`. `POST
  /v1/message/batch` takes `{"phone_numbers": [...], "message"}` (1-100 numbers) →
  201 `{"data": [message, ...]}` in order. Not implemented (404/405): campaigns,
  coupons, templates, carriers, opt-ins, `POST /v1/messages`, `PUT
  /v1/messages/{id}`, contact group sub-resources, group creation and update.
- Scheduled message: `{"id", "phone_number", "message", "send_at", "created_at",
  "updated_at"}`; `send_at` must be after now. Once `send_at` has passed (checked on
  every API request and demo step, or `process_due`) it is sent: an OUTGOING message
  dated `send_at` appears and the scheduled message is gone (404).
- Scheduled messages live at `/v1/message/schedule` in the document and at
  `/v1/messages/schedule` in Mobiniti's PHP client (`mobiniti/api-php-client`,
  list, create, retrieve, update, delete alike). `schedule_paths` says which the
  service serves: "document", "vendor" or "both" (the default, so clients written
  from either work). The other answers as an unknown route does, before
  authentication and the rate limit: `schedule_refusal` 404 (no such route, the
  default) or 405 (a route without that method: an empty `Allow`). Both are
  settings.
- `PATCH /v1/contacts/unsubscribe` answers 200 `{"unsubscribed": N}`: N counts the
  contacts unsubscribed by this request; numbers that are no contact or already
  unsubscribed are skipped without error. Each unsubscribed contact gets
  `unsubscribed_at`/`updated_at` now, status `unsubscribed`, and an `unsubscribe`
  webhook.
- `POST /v1/phone-numbers/lookup` answers 200 `{"data": [{"phone_number",
  "carrier": {"id", "name"}}, ...]}`, one per number in order.
- Rate limit (per account, not per token): each route (method + path template)
  allows one request per `per_route_interval` (1.0 s) and 60 per 60 s; every
  `/v1` answer carries `X-RateLimit-Limit: 60` and `X-RateLimit-Remaining` (60 minus
  the route's requests in the last 60 s). Exceeded → 429 "Too Many Attempts." with
  `Retry-After` (whole seconds, at least 1), not counted (its Remaining is the
  route's budget left, so 59 after one request). Unauthenticated
  requests are counted per client address, apart from the account. With
  `rate_limit_enabled` False requests are counted but never refused. `/oauth` and
  unknown paths are not limited. The clock is `clock` (default
  `datetime.now(UTC)`, so frozen clocks apply); `reset` keeps it.

Webhooks
- JSON POSTs through real HTTP, each kind with the document's example payload
  (valid JSON, times as above) filled from the sandbox state: `unsubscribe` the
  contact unsubscribed (`to` is the short code), `inbound_message` the contact and
  its message (`received_at` the message time), `delivery_report` one report per
  send (a batch is one report, statuses grouped by code; `recipients` are the
  numbers without `+`, `messages[].phone_number` the national number — without
  `+1` for NANP numbers — and `from` the account's number +15555555555, as in the
  example), `contact_status` the contact and its new status (`previous_phone_number`
  only for `transferred`), `bounce` the contact and its bounce count, `rejection`
  `{"code", "message", "description"}`.
- Deliveries are attempted once, without retries (the document says nothing of
  retries); each is recorded with the receiver's status (or the error).
  `webhook_urls` maps a kind to the URL that state changes deliver to at once
  (in the background when an event loop runs; `wait_deliveries` waits for them).
  `deliver_webhook(url, kind, **overrides)` sends the latest event of a kind
  (seeded for every kind) with top-level keys replaced.
- Sends get a delivery report with code "100" unless `delivery_codes` maps the
  number to another code of the document's table; a code other than 100 also
  delivers a `rejection` (`description` the table's text), and codes 101 and 106
  count as bounces (the contact's `bounces` grows, a `bounce` webhook).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections import deque
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
import contextlib
import copy
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
import json
import math
import re
import secrets
import string
from typing import Any, ClassVar, Literal, get_args
import uuid

from aiohttp import web
from yarl import URL

from .core import (
    FORM_TYPES,
    ControlRoute,
    Handler,
    LaravelFields,
    Route,
    ServiceError,
    ServiceSandbox,
    post_json,
    read_form,
    read_json_object,
    require,
)

CT_JSON = "application/json"

SEED_TOKEN = "mobiniti-sandbox-token"
CLIENT_ID = "commhub-sandbox-client"
CLIENT_SECRET = "commhub-sandbox-secret"
SHORT_CODE = "64600"  # the number contacts text into (the document's examples)
FROM_NUMBER = "+15555555555"  # the number messages are sent from

TOKEN_LIFETIME = 315359999  # seconds: "Tokens are currently valid for 10 years"
CODE_LIFETIME = timedelta(minutes=10)
CODE_LENGTH = 27
RATE_LIMIT = 60
RATE_WINDOW = 60.0  # seconds
PER_ROUTE_INTERVAL = 1.0  # seconds
MAX_LIMIT = 100
MAX_UNSUBSCRIBE = 100
MAX_BATCH = 100
MAX_LOOKUP = 10
MAX_MESSAGE = 1600
# The two paths of scheduled messages (see the module docstring).
SCHEDULE_BASES: dict[str, str] = {
    "document": "/message/schedule",
    "vendor": "/messages/schedule",
}
SchedulePaths = Literal["document", "vendor", "both"]
SCHEDULE_PATH_CHOICES: tuple[SchedulePaths, ...] = get_args(SchedulePaths)
SCHEDULE_REFUSALS = (404, 405)
SCHEDULE_SETTINGS = ("schedule_paths", "schedule_refusal")
DELIVERY_TIMEOUT = 10.0  # seconds a webhook receiver has to answer
USER_AGENT = "Mobiniti-Sandbox-Webhooks/1.0"

SCOPES = frozenset({
    "campaigns.create", "campaigns.delete", "campaigns.update", "campaigns.view",
    "contacts.create", "contacts.delete", "contacts.update", "contacts.view",
    "coupons.create", "coupons.delete", "coupons.update", "coupons.view",
    "groups.create", "groups.delete", "groups.update", "groups.view",
    "messages.create", "messages.unread.view", "messages.update", "messages.view",
    "message.schedule.view", "message.schedule.create", "message.schedule.update",
    "message.schedule.delete", "optins.view", "phone-numbers.lookup", "carriers.view",
})  # fmt: skip

# Words of the document.
VALIDATION_MESSAGE = "A validation error occurred"
GENERIC_MESSAGE = (
    "An error has occurred with your request and is unable to be processed."
)
CONTACT_EXISTS = "The contact already exists."
PAYMENT_MESSAGE = "You need to pay for campaign or contact messages."
# The sandbox's words (Laravel's and Passport's).
UNAUTHENTICATED = "Unauthenticated."
INVALID_SCOPE = "Invalid scope(s) provided."
TOO_MANY_ATTEMPTS = "Too Many Attempts."
UNSUBSCRIBED = "The contact has unsubscribed."
MESSAGES = {
    400: GENERIC_MESSAGE,
    401: UNAUTHENTICATED,
    402: PAYMENT_MESSAGE,
    403: INVALID_SCOPE,
    404: "Not Found.",
    405: "Method not allowed.",
    406: "Could not satisfy the request Accept header.",
    415: "Unsupported media type.",
    422: VALIDATION_MESSAGE,
    429: TOO_MANY_ATTEMPTS,
    500: "An error occurred on our server.",
    503: "We're temporarily offline for maintenance. Please try again later.",
    504: "A 3rd party service has timed out. Please try again later.",
}

# The document's delivery report codes.
DLR_CODES: dict[str, str] = {
    "100": "The message delivered successfully",
    "101": "The MSISDN is inactive or no longer active.",
    "102": "Fault in Number Portability Database or HLR of MSISDN range holder.",
    "103": "Occurs when the MSC that a message has been sent to is not aware of the subscriber IMSI.",
    "104": "It cannot be determined whether this message has been delivered or has failed due to lack of final delivery state information from the carrier.",
    "105": "Rejection due to failed authentication or filtering.",
    "106": "Destination number is not a valid mobile number or its routing cannot be determined.",
    "107": "Rejection due to subscription not supporting SMS.",
    "108": "Rejection due to subscription, handset or network not supporting SMS.",
    "109": "Rejection due to subscription or network not allowing SMS.",
    "110": "Subscriber handset is not logged onto the network due to it being turned off or out of coverage.",
    "111": "Subscriber handset is not reachable on the network due to it being turned off or out of coverage.",
    "112": "Subscriber handset is not reachable on the network due to it being turned off or out of coverage.",
    "113": "The MSC that the subscriber is currently registered to is experiencing a fault.",
    "114": "MSC is busy handling an existing transaction with the handset.",
    "115": "Receiving handset or equipment does not support SMS or an SMS feature.",
    "116": "Rejection due to subscriber handset not having the memory capacity to receive the message.",
    "117": "Rejection due to SS7 protocol or network failure.",
    "118": "Rejection due to subscriber network decoding error or signaling fault.",
    "119": "Rejection due to subscriber handset not having the memory capacity to receive the message.",
    "120": "Generic delivery failure",
    "121": "Internal SMSC error due to invalid message syntax.",
    "122": "Internal SMSC error caused by SS7 link/dialogue fault.",
    "123": "SMSC cannot decode the response received from destination network due to an encoding or protocol fault.",
    "124": "Subscriber network or signalling partner has terminated the signalling connection, preventing message transmission.",
    "125": "The reason of rejection for the message is Anti-Spam Rejection because of the content.",
    "126": "Subscriber network not receiving packets from SMSC, or not responding to them.",
    "127": "Subscriber network or signalling partner has not responded to signalling connection setup or maintenance packets.",
    "128": "Subscriber network refuses signalling connection or message packet.",
    "129": "Signalling with destination network has been prevented by SMSC partner or signalling partner.",
    "130": "SMSC partner or 3rd party signalling partner has prevented messages being sent to this MSISDN or destination network.",
    "131": "SMSC partner has rejected the message due to an unacceptable message parameter.",
    "132": "SMSC partner could not process this message due to a platform fault, but it will be retired.",
    "133": "SMSC partner could not process this message due to a platform fault and it will not be retried.",
    "134": "SMSC partner cannot route this message currently, but it will be retried.",
    "135": "SMSC partner cannot route this message and it will not be retried.",
    "136": "Message is queued within REST API system and will be dispatched according to the rate of the account.",
    "137": "Message has been dispatched to SMSC.",
    "138": "SMSC rejected message. Retrying is likely to cause the same error.",
    "139": "An unexpected error caused the message to fail.",
    "140": "Message failed because of temporary delivery failure. Message can be retried.",
    "141": "One or more parameters in the message body has no mapping for this recipient.",
    "142": "Message was expired before reaching SMSC.",
    "143": "Message was canceled by user before reaching SMSC.",
    "144": "SS7 signalling link at destination network, SMSC, or 3rd party signalling partner is overloaded.",
    "214": "Subscriber network or signalling partner has rejected the signalling connection, preventing message transmission.",
}
DELIVERED = "100"
DELIVERED_STATUS = "The message delivered successfully."  # as in the webhook example
BOUNCE_CODES = frozenset({"101", "106"})

WebhookKind = Literal[
    "unsubscribe",
    "inbound_message",
    "delivery_report",
    "contact_status",
    "bounce",
    "rejection",
]
WEBHOOK_KINDS: tuple[WebhookKind, ...] = get_args(WebhookKind)
CONTACT_STATUSES = ("suspended", "deactivated", "resumed", "transferred")
TYPE_INCOMING = "INCOMING"
TYPE_OUTGOING = "OUTGOING"

E164_RE = re.compile(r"\+[1-9][0-9]{1,14}")
EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
FILTER_RE = re.compile(r"filter\[([^\]]*)\]")
GROUP_TIME = "%Y-%m-%dT%H:%M:%S+0000"

CARRIERS: tuple[dict[str, str], ...] = (
    {"id": "12ae0c5c-2a22-486d-beeb-53d7bf2ab3da", "name": "AT&T Wireless"},
    {"id": "dfcf45bb-f95d-4f15-81e7-0bae23e38046", "name": "Verizon Wireless"},
    {"id": "f0a1ca1f-b7e1-4e18-af6f-0b549187cddf", "name": "T-Mobile USA"},
    {"id": "21307967-b6c4-4686-b3f3-02f63ed2f8da", "name": "U.S. Cellular"},
)

# The document's example groups (exactly), then four more in the same shape.
EXAMPLE_GROUPS: tuple[dict[str, Any], ...] = (
    {
        "id": "8075886f-5f3e-486a-97ba-9e91829732e1",
        "name": "My test group",
        "join_message": "My new message",
        "one_time_message": False,
        "always_send_join": False,
        "social_profiling": False,
        "email_new_contact": False,
        "created_at": "2014-07-10T00:01:01+0000",
        "updated_at": "2015-06-29T12:40:05+0000",
        "optin": {
            "id": "4e4b3bda-e68b-4981-a5c6-2ddffd52d059",
            "name": "Email",
            "description": "Text Email Address to confirm",
            "enabled": True,
        },
    },
    {
        "id": "6d9265cc-a310-406d-8f7a-abe015ee561a",
        "name": "My test group 2",
        "join_message": "My new message 2",
        "one_time_message": False,
        "always_send_join": False,
        "social_profiling": False,
        "email_new_contact": False,
        "created_at": "2015-03-16T17:01:43+0000",
        "updated_at": "2015-06-18T14:09:52+0000",
        "optin": {
            "name": "Email",
            "description": "Text Email Address to confirm",
            "enabled": True,
        },
    },
)
_MORE_GROUPS = (
    ("62c3a889-c273-4e63-a119-4b0f3598c91c", "VIP customers", "2016-01-12T09:30:00"),
    ("074e19be-3a42-470c-a3ad-efdf53652a69", "Weekend deals", "2016-04-02T14:05:21"),
    ("f3756d23-cdca-4856-9bce-90b0394c7929", "Store alerts", "2017-09-18T08:00:45"),
    ("7f59015c-1864-4989-b6c0-8e8c06e086c3", "Newsletter", "2018-11-30T17:42:10"),
)
SEED_GROUP_IDS = tuple(g["id"] for g in EXAMPLE_GROUPS) + tuple(
    g[0] for g in _MORE_GROUPS
)
# Group 1 has the keyword "JOIN"; the others none.
SEED_KEYWORD = {"id": "3fc163a0-fa4e-45b8-b09a-0f60bfed4add", "keyword": "JOIN"}

# Seed contacts (all US numbers of the 555-01xx fictional range).
SEED_JANE = "+12025550101"  # active, groups 1
SEED_JOHN = "+12025550102"  # active, groups 1 and 2
SEED_UNSUBSCRIBED = "+12025550103"  # unsubscribed three days ago
SEED_MARIA = "+12025550104"  # deactivated by her carrier, two bounces
SEED_LEE = "+12025550105"  # active, texted two hours ago

RATE_HEADERS = web.RequestKey("mobiniti_rate_headers", dict[str, str])


# -- helpers --------------------------------------------------------------------------


def _utcnow() -> datetime:
    return datetime.now(UTC)


def format_time(moment: datetime) -> str:
    """A time as the API writes it: 2016-07-01T15:11:09.553Z."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_time(value: object) -> datetime | None:
    """An ISO 8601 string (naive means UTC) or datetime; None when it is neither."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str) and value.strip():
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    else:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def is_e164(value: object) -> bool:
    """Whether `value` is an E.164 phone number (`+` and 2-15 digits)."""
    return isinstance(value, str) and E164_RE.fullmatch(value) is not None


def carrier_for(phone_number: str) -> dict[str, str]:
    """The (deterministic) carrier of a phone number."""
    digits = sum(int(c) for c in phone_number if c.isdigit())
    return dict(CARRIERS[digits % len(CARRIERS)])


def _national(phone_number: str) -> str:
    digits = phone_number.removeprefix("+")
    return digits[1:] if digits.startswith("1") and len(digits) == 11 else digits


def _new_id() -> str:
    return str(uuid.uuid4())


def _auth_code() -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(CODE_LENGTH))


def _is_http_url(value: str) -> bool:
    try:
        url = URL(value)
    except ValueError:
        return False
    return url.is_absolute() and url.scheme in {"http", "https"} and bool(url.host)


def _sort_key(value: object) -> tuple[bool, Any]:
    return (value is not None, value)


def _json(data: object, status: int = 200) -> web.Response:
    return web.Response(
        status=status, body=json.dumps(data).encode(), headers={"Content-Type": CT_JSON}
    )


class ApiError(ServiceError):
    """An error answered as `{"status", "message", "errors"}`."""

    def __init__(
        self,
        status: int,
        message: str | None = None,
        errors: Mapping[str, list[str]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(status, message or MESSAGES.get(status, "Error"), headers)
        self.errors = dict(errors or {})


class OAuthError(ServiceError):
    """An OAuth 2.0 error answer (RFC 6749 5.2): `{"error", "error_description"}`."""

    def __init__(
        self,
        status: int,
        error: str,
        description: str,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(status, description, headers)
        self.error = error


class _Validator(LaravelFields):
    """Field errors in Laravel's wording, raised together as one 422."""

    blank_values: ClassVar[tuple[object, ...]] = ("", [])

    def phone(self, key: str, value: object) -> bool:
        if not is_e164(value):
            self.fail(key, f"The {self.label(key)} must be a valid E.164 phone number.")
            return False
        return True

    def phone_field(self, key: str, *, required: bool = True) -> str | None:
        if not self.present(key, required=required):
            return None
        value = self.data[key]
        return value if self.phone(key, value) else None

    def phone_list(self, key: str, maximum: int) -> list[str]:
        if not self.present(key, required=True):
            return []
        value = self.data[key]
        if not isinstance(value, list):
            self.fail(key, f"The {self.label(key)} must be an array.")
            return []
        if len(value) > maximum:
            self.fail(
                key, f"The {self.label(key)} may not have more than {maximum} items."
            )
            return []
        valid = [self.phone(f"{key}.{i}", item) for i, item in enumerate(value)]
        return list(value) if all(valid) else []

    def text(
        self, key: str, *, required: bool = False, max_length: int = 255
    ) -> str | None:
        if not self.present(key, required=required):
            return None
        value = self.data[key]
        if not isinstance(value, str):
            self.fail(key, f"The {self.label(key)} must be a string.")
            return None
        if len(value) > max_length:
            self.fail(
                key,
                f"The {self.label(key)} may not be greater than {max_length} "
                "characters.",
            )
            return None
        return value

    def email(self, key: str) -> str | None:
        value = self.text(key)
        if value is not None and EMAIL_RE.fullmatch(value) is None:
            self.fail(key, f"The {self.label(key)} must be a valid email address.")
            return None
        return value

    def count(self, key: str) -> int | None:
        if not self.present(key, required=False):
            return None
        value = self.data[key]
        if not isinstance(value, int) or isinstance(value, bool):
            self.fail(key, f"The {self.label(key)} must be an integer.")
            return None
        if value < 0:
            self.fail(key, f"The {self.label(key)} must be at least 0.")
            return None
        return value

    def ids(self, key: str, known: Collection[str]) -> list[str] | None:
        if key not in self.data or self.data[key] is None:
            return None
        value = self.data[key]
        if not isinstance(value, list):
            self.fail(key, f"The {self.label(key)} must be an array.")
            return None
        for index, item in enumerate(value):
            if item not in known:
                self.fail(f"{key}.{index}", f"The selected {key}.{index} is invalid.")
        return [str(item) for item in value]

    def future_time(self, key: str, now: datetime) -> datetime | None:
        if not self.present(key, required=True):
            return None
        moment = parse_time(self.data[key])
        if moment is None or not isinstance(self.data[key], str):
            self.fail(key, f"The {self.label(key)} is not a valid date.")
            return None
        if moment <= now:
            self.fail(key, f"The {self.label(key)} must be a date after now.")
            return None
        return moment

    def check(self) -> None:
        if self.errors:
            raise ApiError(422, VALIDATION_MESSAGE, self.errors)


@dataclass
class Contact:
    """A contact of the account."""

    id: str
    seq: int
    phone_number: str
    first_name: str | None
    last_name: str | None
    email: str | None
    reward_points: int
    status: str
    unsubscribed_at: datetime | None
    created_at: datetime
    updated_at: datetime
    groups: list[str] = field(default_factory=list)
    fields: dict[str, Any] = field(default_factory=dict)
    bounces: int = 0
    previous_phone_number: str | None = None

    @property
    def subscribed(self) -> bool:
        """Whether messages may be sent to the contact."""
        return self.unsubscribed_at is None

    def person(self) -> dict[str, Any]:
        """The fields every webhook about a contact starts with."""
        return {
            "id": self.id,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "email": self.email,
            "phone_number": self.phone_number,
        }

    def to_json(self) -> dict[str, Any]:
        """The API representation (without includes)."""
        return {
            **self.person(),
            "reward_points": self.reward_points,
            "unsubscribed_at": format_time(self.unsubscribed_at)
            if self.unsubscribed_at is not None
            else None,
            "created_at": format_time(self.created_at),
            "updated_at": format_time(self.updated_at),
        }

    def to_control_json(self) -> dict[str, Any]:
        """Everything the sandbox knows, for the control interface."""
        return {
            **self.to_json(),
            "status": self.status,
            "groups": list(self.groups),
            "fields": dict(self.fields),
            "bounces": self.bounces,
            "previous_phone_number": self.previous_phone_number,
        }


@dataclass
class Message:
    """A message sent or received by the account."""

    id: str
    seq: int
    type: str
    contact_id: str | None
    phone_number: str
    message: str
    created_at: datetime
    updated_at: datetime
    receipt_code: str | None = None

    @property
    def incoming(self) -> bool:
        """Whether the account received the message."""
        return self.type.startswith(TYPE_INCOMING)

    def to_json(self) -> dict[str, Any]:
        """The API representation (without includes)."""
        return {
            "id": self.id,
            "contact_id": self.contact_id,
            "phone_number": self.phone_number,
            "short_code": SHORT_CODE,
            "message": self.message,
            "created_at": format_time(self.created_at),
            "updated_at": format_time(self.updated_at),
        }

    def receipt(self) -> dict[str, Any] | None:
        """The delivery receipt of an outgoing message (None for incoming ones)."""
        if self.receipt_code is None:
            return None
        return {
            "code": self.receipt_code,
            "status": DLR_CODES[self.receipt_code],
            "success": self.receipt_code == DELIVERED,
            "bounce": self.receipt_code in BOUNCE_CODES,
        }


@dataclass
class ScheduledMessage:
    """A message to be sent at `send_at`."""

    id: str
    seq: int
    phone_number: str
    message: str
    send_at: datetime
    created_at: datetime
    updated_at: datetime

    def to_json(self) -> dict[str, Any]:
        """The API representation."""
        return {
            "id": self.id,
            "phone_number": self.phone_number,
            "message": self.message,
            "send_at": format_time(self.send_at),
            "created_at": format_time(self.created_at),
            "updated_at": format_time(self.updated_at),
        }


@dataclass
class AuthCode:
    """An authorization code waiting to be exchanged."""

    client_id: str
    redirect_uri: str
    scopes: frozenset[str]
    expires_at: datetime


@dataclass
class RefreshGrant:
    """What a refresh token was issued with."""

    client_id: str
    access_token: str
    scopes: frozenset[str]


@dataclass
class WebhookDelivery:
    """One webhook POST: the receiver's status, or the error."""

    url: str
    kind: str
    payload: dict[str, Any]
    at: datetime
    status: int | None = None
    error: str | None = None

    @property
    def delivered(self) -> bool:
        """Whether the receiver answered 2xx."""
        return self.status is not None and 200 <= self.status < 300

    def to_json(self) -> dict[str, Any]:
        """A JSON view for the control interface."""
        return {
            "url": self.url,
            "kind": self.kind,
            "payload": self.payload,
            "at": format_time(self.at),
            "status": self.status,
            "error": self.error,
            "delivered": self.delivered,
        }


@dataclass
class ListQuery:
    """The filters, sort and includes of a request, checked against the endpoint's."""

    filters: dict[str, str]
    sort: list[tuple[str, bool]]
    includes: set[str]


def _includes(request: web.Request) -> set[str]:
    values = request.query.getall("include", []) + request.query.getall("include[]", [])
    return {part.strip() for value in values for part in value.split(",")} - {""}


def _list_query(
    request: web.Request,
    *,
    filters: Collection[str] = (),
    sorts: Collection[str] = (),
    includes: Collection[str] = (),
) -> ListQuery:
    """Parse `filter[...]`, `sort` and `include`; anything not allowed → 400."""
    found: dict[str, str] = {}
    for key, value in request.query.items():
        match = FILTER_RE.fullmatch(key)
        if match is None:
            continue
        if match[1] not in filters:
            allowed = ", ".join(sorted(filters)) or "none"
            raise ApiError(
                400,
                f"Requested filter(s) `{match[1]}` are not allowed. "
                f"Allowed filter(s) are `{allowed}`.",
            )
        found[match[1]] = value
    order: list[tuple[str, bool]] = []
    for raw in request.query.getall("sort", []):
        for part in raw.split(","):
            name = part.strip()
            if not name:
                continue
            descending = name.startswith("-")
            name = name.removeprefix("-")
            if name not in sorts:
                allowed = ", ".join(sorted(sorts)) or "none"
                raise ApiError(
                    400,
                    f"Requested sort(s) `{name}` is not allowed. "
                    f"Allowed sort(s) are `{allowed}`.",
                )
            order.append((name, descending))
    wanted = _includes(request)
    unknown = wanted - set(includes)
    if unknown:
        allowed = ", ".join(sorted(includes)) or "none"
        raise ApiError(
            400,
            f"Requested include(s) `{', '.join(sorted(unknown))}` are not allowed. "
            f"Allowed include(s) are `{allowed}`.",
        )
    return ListQuery(found, order, wanted)


def _ordered[T](items: Iterable[T], sort: Sequence[tuple[str, bool]]) -> list[T]:
    """Sort by the given fields (stable, nulls first ascending) after `seq`."""
    result = sorted(items, key=lambda item: getattr(item, "seq", 0))
    for name, descending in reversed(sort):
        result.sort(key=lambda item: _sort_key(getattr(item, name)), reverse=descending)
    return result


def _int_param(request: web.Request, key: str, default: int) -> int:
    raw = request.query.get(key, "").strip()
    if raw.isascii() and raw.isdigit() and int(raw) >= 1:
        return int(raw)
    return default


def _paginate(request: web.Request, items: list[dict[str, Any]]) -> dict[str, Any]:
    """`{"data", "meta": {"pagination"}}` as in the document's groups example."""
    limit = min(_int_param(request, "limit", MAX_LIMIT), MAX_LIMIT)
    page = _int_param(request, "page", 1)
    total = len(items)
    total_pages = max(math.ceil(total / limit), 1)
    chunk = items[(page - 1) * limit : page * limit]
    kept = [(k, v) for k, v in request.query.items() if k != "page"]

    def url(number: int) -> str:
        return str(request.url.with_query([*kept, ("page", str(number))]))

    links: dict[str, str] = {}
    if page > 1:
        links["previous"] = url(page - 1)
    if page < total_pages:
        links["next"] = url(page + 1)
    return {
        "data": chunk,
        "meta": {
            "pagination": {
                "total": total,
                "count": len(chunk),
                "per_page": limit,
                "current_page": page,
                "total_pages": total_pages,
                "links": links,
            }
        },
    }


async def _body(request: web.Request) -> dict[str, Any]:
    """The request's JSON object (415 for another media type, 400 if malformed)."""
    raw = await request.read()
    if not raw.strip():
        return {}
    mime = request.content_type
    if mime != "application/json" and not mime.endswith("+json"):
        raise ApiError(415)
    try:
        return await read_json_object(request)
    except ValueError, TypeError:
        raise ApiError(400) from None


def _required_str(body: Mapping[str, Any], key: str) -> str:
    value: str = require(body, key, str)
    return value


def _optional_str(body: Mapping[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        msg = f"field {key!r} must be a string"
        raise TypeError(msg)
    return value


def _schedule_settings(
    body: Mapping[str, Any], paths: SchedulePaths, refusal: int
) -> tuple[SchedulePaths, int]:
    """The scheduled message switches a settings body asks for (ValueError if bad)."""
    new_paths = body.get("schedule_paths", paths)
    if new_paths not in SCHEDULE_PATH_CHOICES:
        msg = f"schedule_paths must be one of {', '.join(SCHEDULE_PATH_CHOICES)}"
        raise ValueError(msg)
    new_refusal = body.get("schedule_refusal", refusal)
    if type(new_refusal) is not int or new_refusal not in SCHEDULE_REFUSALS:
        msg = "schedule_refusal must be 404 or 405"
        raise ValueError(msg)
    return new_paths, new_refusal


def _control_time(body: Mapping[str, Any], key: str = "at") -> datetime | None:
    value = body.get(key)
    if value is None:
        return None
    moment = parse_time(value)
    if moment is None:
        msg = f"field {key!r} must be an ISO 8601 time"
        raise ValueError(msg)
    return moment


class MobinitiSandbox(ServiceSandbox):
    """The Mobiniti API v1 for one account, with OAuth 2.0 and webhooks."""

    name = "mobiniti"

    tokens: set[str]
    token_scopes: dict[str, frozenset[str]]
    token_expiry: dict[str, datetime]
    refresh_tokens: dict[str, RefreshGrant]
    auth_codes: dict[str, AuthCode]
    redirect_uris: set[str] | None
    oauth_approve: bool
    token_lifetime: int
    contacts: dict[str, Contact]
    messages: dict[str, Message]
    scheduled: dict[str, ScheduledMessage]
    groups: list[dict[str, Any]]
    group_keywords: dict[str, dict[str, Any] | None]
    payment_required: bool
    rate_limit_enabled: bool
    per_route_interval: float
    throttled: int
    delivery_codes: dict[str, str]
    schedule_paths: SchedulePaths
    schedule_refusal: int
    webhook_urls: dict[str, str]
    deliveries: list[WebhookDelivery]
    last_events: dict[str, dict[str, Any]]

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self.clock: Callable[[], datetime] = clock or _utcnow
        self._tasks: set[asyncio.Task[None]] = set()
        self._seq = 0
        self._hits: dict[str, deque[datetime]] = {}
        super().__init__()
        self._scopes = {
            (method, f"{self.prefix}/v1{path}"): scope
            for method, path, _, scope in self._api_routes()
        }

    # -- seed ------------------------------------------------------------------------

    def seed(self) -> None:
        """Five contacts, five messages, six groups, one scheduled message."""
        for task in self._tasks:
            with contextlib.suppress(RuntimeError):  # a loop already closed
                task.cancel()
        self._tasks = set()
        self.tokens = {SEED_TOKEN}
        self.token_scopes, self.token_expiry = {}, {}
        self.refresh_tokens, self.auth_codes = {}, {}
        self.redirect_uris = None
        self.oauth_approve = True
        self.token_lifetime = TOKEN_LIFETIME
        self.payment_required = False
        self.rate_limit_enabled = True
        self.per_route_interval = PER_ROUTE_INTERVAL
        self.throttled = 0
        self._hits = {}
        self.delivery_codes = {}
        self.schedule_paths = "both"
        self.schedule_refusal = 404
        self.webhook_urls = {}
        self.deliveries = []
        self.last_events = {}
        self.contacts, self.messages, self.scheduled = {}, {}, {}
        self.groups = [copy.deepcopy(group) for group in EXAMPLE_GROUPS]
        for group_id, name, created in _MORE_GROUPS:
            moment = datetime.fromisoformat(created).replace(tzinfo=UTC)
            self.groups.append(
                {
                    "id": group_id,
                    "name": name,
                    "join_message": f"Thanks for joining {name}!",
                    "one_time_message": False,
                    "always_send_join": False,
                    "social_profiling": False,
                    "email_new_contact": False,
                    "created_at": moment.strftime(GROUP_TIME),
                    "updated_at": moment.strftime(GROUP_TIME),
                    "optin": None,
                }
            )
        self.group_keywords = dict.fromkeys(SEED_GROUP_IDS)
        self.group_keywords[SEED_GROUP_IDS[0]] = dict(SEED_KEYWORD)

        now = self.clock()
        day = timedelta(days=1)
        g1, g2 = SEED_GROUP_IDS[:2]
        self.add_contact(
            SEED_JANE,
            first_name="Jane",
            last_name="Doe",
            email="jane.doe@example.com",
            reward_points=10,
            groups=[g1],
            fields={"favorite_store": "Downtown"},
            at=now - 30 * day,
        )
        self.add_contact(
            SEED_JOHN,
            first_name="John",
            last_name="Smith",
            groups=[g1, g2],
            at=now - 20 * day,
        )
        self.add_contact(SEED_UNSUBSCRIBED, groups=[g2], at=now - 10 * day)
        self.add_contact(
            SEED_MARIA,
            first_name="Maria",
            last_name="Garcia",
            email="maria.garcia@example.com",
            reward_points=25,
            groups=[g2],
            at=now - 9 * day,
        )
        self.add_contact(
            SEED_LEE, first_name="Lee", last_name="Wong", groups=[g1], at=now - 5 * day
        )
        self.add_inbound(SEED_JANE, "Is the store open on Sunday?", at=now - 2 * day)
        self.send_message(
            SEED_JANE,
            "Yes, 10am-4pm. See you!",
            at=now - 2 * day + timedelta(minutes=5),
        )
        self.unsubscribe_contact(SEED_UNSUBSCRIBED, at=now - 3 * day)
        self.add_rejection("Flash sale: 20% off today only!", "Unsubscribed")
        self.add_inbound(SEED_JOHN, "Do you sell gift cards?", at=now - day)
        self.send_message(
            SEED_JOHN, "We do! Any amount from $10.", at=now - day + timedelta(hours=1)
        )
        self.set_contact_status(SEED_MARIA, "deactivated", at=now - day)
        self.add_bounce(SEED_MARIA, 2, at=now - day)
        self.add_inbound(SEED_LEE, "Thanks!", at=now - timedelta(hours=2))
        self.schedule_message(
            SEED_JANE, "Reminder: our sale starts tomorrow!", now + day, at=now
        )

    # -- Python control API ------------------------------------------------------------

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def contact(self, key: str) -> Contact:
        """A contact by id or phone number (KeyError if there is none)."""
        found = self.contacts.get(key)
        if found is not None:
            return found
        for contact in self.contacts.values():
            if contact.phone_number == key:
                return contact
        raise KeyError(key)

    def find_contact(self, phone_number: str) -> Contact | None:
        """The contact with this phone number, if any."""
        with contextlib.suppress(KeyError):
            return self.contact(phone_number)
        return None

    def add_contact(
        self,
        phone_number: str,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        email: str | None = None,
        reward_points: int = 0,
        groups: Iterable[str] = (),
        fields: Mapping[str, Any] | None = None,
        at: datetime | None = None,
    ) -> dict[str, Any]:
        """Add an active contact; returns its API representation."""
        if not is_e164(phone_number):
            msg = f"phone number {phone_number!r} is not E.164"
            raise ValueError(msg)
        if self.find_contact(phone_number) is not None:
            msg = f"{phone_number} is already a contact"
            raise ValueError(msg)
        unknown = set(groups) - set(SEED_GROUP_IDS)
        if unknown:
            msg = f"unknown group(s): {', '.join(sorted(unknown))}"
            raise ValueError(msg)
        created = at if at is not None else self.clock()
        contact = Contact(
            id=_new_id(),
            seq=self._next_seq(),
            phone_number=phone_number,
            first_name=first_name,
            last_name=last_name,
            email=email,
            reward_points=reward_points,
            status="active",
            unsubscribed_at=None,
            created_at=created,
            updated_at=created,
            groups=list(groups),
            fields=dict(fields or {}),
        )
        self.contacts[contact.id] = contact
        return contact.to_json()

    def unsubscribe_contact(
        self, key: str, *, at: datetime | None = None
    ) -> dict[str, Any]:
        """Unsubscribe a contact (by id or number); returns the webhook payload.

        The `unsubscribe` webhook goes to `webhook_urls["unsubscribe"]` if set.
        """
        contact = self.contact(key)
        if not contact.subscribed:
            msg = f"{contact.phone_number} has already unsubscribed"
            raise ValueError(msg)
        moment = at if at is not None else self.clock()
        contact.unsubscribed_at = moment
        contact.updated_at = moment
        contact.status = "unsubscribed"
        payload = {
            **contact.person(),
            "to": SHORT_CODE,
            "unsubscribed_at": format_time(moment),
            "created_at": format_time(contact.created_at),
            "updated_at": format_time(contact.updated_at),
        }
        self._event("unsubscribe", payload)
        return payload

    def set_contact_status(
        self,
        key: str,
        status: str,
        *,
        new_phone_number: str | None = None,
        at: datetime | None = None,
    ) -> dict[str, Any]:
        """A carrier status change (`contact_status` webhook); returns the payload.

        `transferred` needs `new_phone_number`: the contact moves to it and the
        payload carries `previous_phone_number`.
        """
        if status not in CONTACT_STATUSES:
            msg = f"status must be one of {', '.join(CONTACT_STATUSES)}"
            raise ValueError(msg)
        contact = self.contact(key)
        previous: str | None = None
        if status == "transferred":
            if new_phone_number is None or not is_e164(new_phone_number):
                msg = "a transfer needs an E.164 new_phone_number"
                raise ValueError(msg)
            if self.find_contact(new_phone_number) is not None:
                msg = f"{new_phone_number} is already a contact"
                raise ValueError(msg)
            previous = contact.phone_number
            contact.phone_number = new_phone_number
            contact.previous_phone_number = previous
        elif new_phone_number is not None:
            msg = "new_phone_number is only for status 'transferred'"
            raise ValueError(msg)
        moment = at if at is not None else self.clock()
        contact.status = status
        contact.updated_at = moment
        payload = contact.person()
        if previous is not None:
            payload["previous_phone_number"] = previous
        payload.update(
            {
                "status": status,
                "created_at": format_time(contact.created_at),
                "updated_at": format_time(contact.updated_at),
            }
        )
        self._event("contact_status", payload)
        return payload

    def add_bounce(
        self, key: str, count: int = 1, *, at: datetime | None = None
    ) -> dict[str, Any]:
        """Count bounced messages of a contact (`bounce` webhook); the payload."""
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            msg = "count must be a positive integer"
            raise ValueError(msg)
        contact = self.contact(key)
        contact.bounces += count
        contact.updated_at = at if at is not None else self.clock()
        payload = self._bounce_payload(contact)
        self._event("bounce", payload)
        return payload

    def add_inbound(
        self, phone_number: str, message: str, *, at: datetime | None = None
    ) -> dict[str, Any]:
        """A message texted to the short code (a new number becomes a contact).

        Returns the message's API representation; the `inbound_message` webhook goes
        to `webhook_urls["inbound_message"]` if set.
        """
        moment = at if at is not None else self.clock()
        contact = self.find_contact(phone_number)
        if contact is None:
            self.add_contact(phone_number, at=moment)
            contact = self.contact(phone_number)
        stored = Message(
            id=_new_id(),
            seq=self._next_seq(),
            type=TYPE_INCOMING,
            contact_id=contact.id,
            phone_number=phone_number,
            message=message,
            created_at=moment,
            updated_at=moment,
        )
        self.messages[stored.id] = stored
        self._event(
            "inbound_message",
            {
                "id": contact.id,
                "first_name": contact.first_name,
                "last_name": contact.last_name,
                "email": contact.email,
                "short_code": SHORT_CODE,
                "phone_number": contact.phone_number,
                "message": message,
                "unsubscribed_at": format_time(contact.unsubscribed_at)
                if contact.unsubscribed_at is not None
                else None,
                "created_at": format_time(contact.created_at),
                "updated_at": format_time(contact.updated_at),
                "received_at": format_time(moment),
            },
        )
        return stored.to_json()

    def send_message(
        self, phone_number: str, message: str, *, at: datetime | None = None
    ) -> dict[str, Any]:
        """Send one message (no checks); returns its API representation."""
        return self.send_batch([phone_number], message, at=at)[0]

    def send_batch(
        self, phone_numbers: Sequence[str], message: str, *, at: datetime | None = None
    ) -> list[dict[str, Any]]:
        """Send a message to each number (no checks): one delivery report for all."""
        moment = at if at is not None else self.clock()
        codes = [self.delivery_codes.get(n, DELIVERED) for n in phone_numbers]
        unknown = set(codes) - set(DLR_CODES)
        if unknown:
            msg = f"unknown delivery code(s) {sorted(unknown)}"
            raise ValueError(msg)
        sent: list[Message] = []
        for phone_number, code in zip(phone_numbers, codes, strict=True):
            contact = self.find_contact(phone_number)
            stored = Message(
                id=_new_id(),
                seq=self._next_seq(),
                type=TYPE_OUTGOING,
                contact_id=contact.id if contact is not None else None,
                phone_number=phone_number,
                message=message,
                created_at=moment,
                updated_at=moment,
                receipt_code=code,
            )
            self.messages[stored.id] = stored
            sent.append(stored)
        if sent:
            self._event("delivery_report", self._report_payload(sent))
        for stored in sent:
            code = stored.receipt_code or DELIVERED
            if code == DELIVERED:
                continue
            contact = self.find_contact(stored.phone_number)
            if code in BOUNCE_CODES and contact is not None:
                self.add_bounce(contact.id, at=moment)
            self.add_rejection(stored.message, DLR_CODES[code], code=code)
        return [stored.to_json() for stored in sent]

    def schedule_message(
        self,
        phone_number: str,
        message: str,
        send_at: datetime,
        *,
        at: datetime | None = None,
    ) -> dict[str, Any]:
        """Schedule a message (no checks); returns its API representation."""
        moment = at if at is not None else self.clock()
        scheduled = ScheduledMessage(
            id=_new_id(),
            seq=self._next_seq(),
            phone_number=phone_number,
            message=message,
            send_at=send_at.astimezone(UTC),
            created_at=moment,
            updated_at=moment,
        )
        self.scheduled[scheduled.id] = scheduled
        return scheduled.to_json()

    def process_due(self) -> list[dict[str, Any]]:
        """Send every scheduled message whose `send_at` has passed."""
        now = self.clock()
        due = _ordered(
            (s for s in self.scheduled.values() if s.send_at <= now),
            [("send_at", False)],
        )
        sent = []
        for scheduled in due:
            del self.scheduled[scheduled.id]
            sent.append(
                self.send_message(
                    scheduled.phone_number, scheduled.message, at=scheduled.send_at
                )
            )
        return sent

    def add_rejection(
        self,
        message: str,
        description: str = "Unsubscribed",
        *,
        code: str = "",
    ) -> dict[str, Any]:
        """A rejected message (`rejection` webhook); returns the payload."""
        payload = {"code": code, "message": message, "description": description}
        self._event("rejection", payload)
        return payload

    def issue_token(
        self,
        scopes: Iterable[str] | None = None,
        *,
        client_id: str = CLIENT_ID,
        lifetime: int | None = None,
    ) -> dict[str, Any]:
        """A new access and refresh token, as the token endpoint answers them.

        `scopes` None grants every scope.
        """
        granted = frozenset(SCOPES if scopes is None else scopes)
        unknown = granted - SCOPES
        if unknown:
            msg = f"unknown scope(s): {', '.join(sorted(unknown))}"
            raise ValueError(msg)
        seconds = self.token_lifetime if lifetime is None else lifetime
        access, refresh = _new_id(), secrets.token_hex(40)
        self.tokens.add(access)
        self.token_scopes[access] = granted
        self.token_expiry[access] = self.clock() + timedelta(seconds=seconds)
        self.refresh_tokens[refresh] = RefreshGrant(client_id, access, granted)
        return {
            "token_type": "Bearer",
            "expires_in": seconds,
            "access_token": access,
            "refresh_token": refresh,
        }

    def revoke_token(self, token: str) -> None:
        """Stop accepting an access token."""
        self.tokens.discard(token)
        self.token_scopes.pop(token, None)
        self.token_expiry.pop(token, None)

    def token_valid(self, token: str) -> bool:
        """Whether the API accepts this access token now."""
        if token not in self.tokens:
            return False
        expiry = self.token_expiry.get(token)
        return expiry is None or self.clock() < expiry

    # -- webhooks ----------------------------------------------------------------------

    def webhook_payload(self, kind: str) -> dict[str, Any]:
        """The latest event of a kind, as its webhook would carry it."""
        if kind not in WEBHOOK_KINDS:
            msg = f"unknown webhook kind {kind!r}; expected one of {WEBHOOK_KINDS}"
            raise ValueError(msg)
        return copy.deepcopy(self.last_events[kind])

    async def deliver_webhook(
        self, url: str, kind: str, /, **overrides: Any
    ) -> WebhookDelivery:
        """POST the latest event of `kind` (top-level keys overridden) to `url`."""
        payload = {**self.webhook_payload(kind), **overrides}
        delivery = WebhookDelivery(url, kind, payload, self.clock())
        self.deliveries.append(delivery)
        await self._attempt(delivery)
        return delivery

    async def wait_deliveries(self) -> None:
        """Wait until every webhook started in the background has been answered."""
        # Only tasks not done: a finished one may still await its clean-up callback.
        while pending := [task for task in self._tasks if not task.done()]:
            await asyncio.gather(*pending, return_exceptions=True)

    def _event(self, kind: WebhookKind, payload: dict[str, Any]) -> None:
        self.last_events[kind] = payload
        url = self.webhook_urls.get(kind)
        if url is None:
            return
        delivery = WebhookDelivery(url, kind, copy.deepcopy(payload), self.clock())
        self.deliveries.append(delivery)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            delivery.error = "not sent: no running event loop"
            return
        task = loop.create_task(self._attempt(delivery))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _attempt(self, delivery: WebhookDelivery) -> None:
        delivery.status, delivery.error = await post_json(
            delivery.url,
            delivery.payload,
            user_agent=USER_AGENT,
            answer_within=DELIVERY_TIMEOUT,
        )

    @staticmethod
    def _bounce_payload(contact: Contact) -> dict[str, Any]:
        return {
            **contact.person(),
            "unsubscribed_at": format_time(contact.unsubscribed_at)
            if contact.unsubscribed_at is not None
            else None,
            "bounces": contact.bounces,
            "created_at": format_time(contact.created_at),
            "updated_at": format_time(contact.updated_at),
        }

    @staticmethod
    def _report_payload(sent: Sequence[Message]) -> dict[str, Any]:
        statuses: dict[str, dict[str, Any]] = {}
        for stored in sent:
            code = stored.receipt_code or DELIVERED
            entry = statuses.setdefault(
                code,
                {
                    "code": code,
                    "status": DELIVERED_STATUS
                    if code == DELIVERED
                    else DLR_CODES[code],
                    "count": 0,
                    "recipients": [],
                    "success": code == DELIVERED,
                    "bounce": code in BOUNCE_CODES,
                },
            )
            entry["count"] += 1
            entry["recipients"].append(stored.phone_number.removeprefix("+"))
        return {
            "total_messages": len(sent),
            "statuses": list(statuses.values()),
            "messages": [
                {
                    "id": stored.id,
                    "from": FROM_NUMBER,
                    "message": stored.message,
                    "phone_number": _national(stored.phone_number),
                    "metadata": [],
                }
                for stored in sent
            ],
        }

    # -- service hooks -------------------------------------------------------------------

    def _api_routes(self) -> list[tuple[str, str, Handler, str]]:
        """(method, path under /v1, handler, required scope)."""
        return [
            ("GET", "/contacts", self._list_contacts, "contacts.view"),
            ("POST", "/contacts", self._create_contact, "contacts.create"),
            ("PATCH", "/contacts/unsubscribe", self._unsubscribe, "contacts.update"),
            ("GET", "/contacts/{id}", self._get_contact, "contacts.view"),
            ("PUT", "/contacts/{id}", self._update_contact, "contacts.update"),
            ("DELETE", "/contacts/{id}", self._delete_contact, "contacts.delete"),
            ("GET", "/groups", self._list_groups, "groups.view"),
            ("GET", "/groups/{id}", self._get_group, "groups.view"),
            ("GET", "/groups/{id}/contacts", self._group_contacts, "groups.view"),
            ("GET", "/messages", self._list_messages, "messages.view"),
            ("GET", "/messages/{id}", self._get_message, "messages.view"),
            ("POST", "/message", self._send, "messages.create"),
            ("POST", "/message/batch", self._send_batch, "messages.create"),
            *(
                route
                for base in SCHEDULE_BASES.values()
                for route in self._scheduled_routes(base)
            ),
            ("POST", "/phone-numbers/lookup", self._lookup, "phone-numbers.lookup"),
        ]

    def _scheduled_routes(self, sched: str) -> list[tuple[str, str, Handler, str]]:
        """The scheduled message routes under one of their two paths."""
        one = f"{sched}/{{id}}"
        return [
            ("GET", sched, self._list_scheduled, "message.schedule.view"),
            ("POST", sched, self._create_scheduled, "message.schedule.create"),
            ("GET", one, self._get_scheduled, "message.schedule.view"),
            ("PUT", one, self._update_scheduled, "message.schedule.update"),
            ("DELETE", one, self._delete_scheduled, "message.schedule.delete"),
        ]

    def _refuse_unserved_schedule(self, canonical: str) -> None:
        """The scheduled message path `schedule_paths` leaves out: an unknown route."""
        for name, base in SCHEDULE_BASES.items():
            path = f"{self.prefix}/v1{base}"
            served = self.schedule_paths in {name, "both"}
            if not served and (canonical == path or canonical.startswith(path + "/")):
                allow = {"Allow": ""} if self.schedule_refusal == 405 else {}
                raise ApiError(self.schedule_refusal, headers=allow)

    def routes(self) -> list[Route]:
        """OAuth endpoints and the API routes the integration needs."""
        routes = [
            Route("GET", "/oauth/authorize", self._authorize, CT_JSON),
            Route("POST", "/oauth/token", self._token, CT_JSON),
        ]
        routes.extend(
            Route(method, "/v1" + path, handler, CT_JSON)
            for method, path, handler, _ in self._api_routes()
        )
        return routes

    async def handle(
        self, request: web.Request, handler: Handler
    ) -> web.StreamResponse:
        """Answer as the base class does, adding `X-Request-Id` and rate headers."""
        response = await super().handle(request, handler)
        response.headers["X-Request-Id"] = _new_id()
        response.headers.update(request.get(RATE_HEADERS, {}))
        return response

    async def before_handler(self, request: web.Request) -> None:
        """Throttle, authenticate and check the scope of `/v1` requests."""
        if request.match_info.http_exception is not None:
            return  # the router's 404/405 in the API's shape
        if not request.path.startswith(self.prefix + "/v1/"):
            return  # OAuth endpoints
        resource = request.match_info.route.resource
        canonical = resource.canonical if resource is not None else request.path
        self._refuse_unserved_schedule(canonical)
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        token = token.strip()
        valid = scheme.lower() == "bearer" and self.token_valid(token)
        route = f"{request.method} {canonical}"
        self._throttle(request, route if valid else f"{request.remote} {route}")
        if not valid:
            raise ApiError(401, headers={"WWW-Authenticate": "Bearer"})
        scope = self._scopes.get((request.method, canonical))
        granted = self.token_scopes.get(token)
        if granted is not None and scope is not None and scope not in granted:
            raise ApiError(403)
        accept = request.headers.get("Accept", "")
        if accept and not any(
            part.split(";")[0].strip() in {"*/*", "application/*", CT_JSON}
            or part.split(";")[0].strip().endswith("+json")
            for part in accept.split(",")
        ):
            raise ApiError(406)
        self.process_due()

    def _throttle(self, request: web.Request, key: str) -> None:
        now = self.clock()
        hits = self._hits.setdefault(key, deque())
        while hits and (now - hits[0]).total_seconds() >= RATE_WINDOW:
            hits.popleft()
        wait = 0.0
        if hits:
            elapsed = (now - hits[-1]).total_seconds()
            wait = max(wait, self.per_route_interval - elapsed)
        if len(hits) >= RATE_LIMIT:
            wait = max(wait, RATE_WINDOW - (now - hits[0]).total_seconds())
        if self.rate_limit_enabled and wait > 0:
            self.throttled += 1
            request[RATE_HEADERS] = {
                "X-RateLimit-Limit": str(RATE_LIMIT),
                "X-RateLimit-Remaining": str(max(0, RATE_LIMIT - len(hits))),
            }
            retry = {"Retry-After": str(max(1, math.ceil(wait)))}
            raise ApiError(429, headers=retry)
        hits.append(now)
        request[RATE_HEADERS] = {
            "X-RateLimit-Limit": str(RATE_LIMIT),
            "X-RateLimit-Remaining": str(max(0, RATE_LIMIT - len(hits))),
        }

    def error_response(self, error: ServiceError) -> web.Response:
        """`{"status", "message", "errors"}`, or an OAuth 2.0 error."""
        if isinstance(error, OAuthError):
            data: dict[str, Any] = {
                "error": error.error,
                "error_description": error.message,
            }
            response = _json(data, error.status)
            response.headers["Cache-Control"] = "no-store"
        else:
            message = error.message
            if not isinstance(error, ApiError):
                message = MESSAGES.get(error.status, message)
            errors = error.errors if isinstance(error, ApiError) else {}
            response = _json(
                {"status": error.status, "message": message, "errors": errors},
                error.status,
            )
        response.headers.update(error.headers)
        return response

    def control_routes(self) -> list[ControlRoute]:
        """State changes for tests, scripts and the demo."""
        return [
            ControlRoute("GET", "/contacts", self._control_contacts),
            ControlRoute("POST", "/contacts", self._control_add_contact),
            ControlRoute("POST", "/contacts/unsubscribe", self._control_unsubscribe),
            ControlRoute("POST", "/contacts/status", self._control_contact_status),
            ControlRoute("POST", "/contacts/bounce", self._control_bounce),
            ControlRoute("GET", "/messages", self._control_messages),
            ControlRoute("POST", "/inbound", self._control_inbound),
            ControlRoute("POST", "/send", self._control_send),
            ControlRoute("POST", "/rejection", self._control_rejection),
            ControlRoute("GET", "/scheduled", self._control_scheduled),
            ControlRoute("POST", "/scheduled/process", self._control_process_due),
            ControlRoute("GET", "/webhooks", self._control_get_webhooks),
            ControlRoute("PUT", "/webhooks", self._control_set_webhooks),
            ControlRoute("POST", "/webhooks/deliver", self._control_deliver),
            ControlRoute("GET", "/deliveries", self._control_deliveries),
            ControlRoute("DELETE", "/deliveries", self._control_clear_deliveries),
            ControlRoute("PUT", "/tokens", self._control_set_tokens),
            ControlRoute("POST", "/tokens", self._control_issue_token),
            ControlRoute("GET", "/settings", self._control_get_settings),
            ControlRoute("PUT", "/settings", self._control_set_settings),
        ]

    def settings(self) -> dict[str, Any]:
        """The switches tests and scripts may change."""
        return {
            "payment_required": self.payment_required,
            "rate_limit_enabled": self.rate_limit_enabled,
            "per_route_interval": self.per_route_interval,
            "oauth_approve": self.oauth_approve,
            "token_lifetime": self.token_lifetime,
            "redirect_uris": sorted(self.redirect_uris)
            if self.redirect_uris is not None
            else None,
            "delivery_codes": dict(self.delivery_codes),
            "schedule_paths": self.schedule_paths,
            "schedule_refusal": self.schedule_refusal,
        }

    def state(self) -> dict[str, Any]:
        """Counts, tokens, webhook URLs and settings."""
        incoming = sum(1 for m in self.messages.values() if m.incoming)
        subscribed = sum(1 for c in self.contacts.values() if c.subscribed)
        return {
            "tokens": sorted(self.tokens),
            "contacts": len(self.contacts),
            "subscribed": subscribed,
            "unsubscribed": len(self.contacts) - subscribed,
            "messages": len(self.messages),
            "incoming": incoming,
            "outgoing": len(self.messages) - incoming,
            "scheduled": len(self.scheduled),
            "groups": len(self.groups),
            "webhook_urls": dict(self.webhook_urls),
            "deliveries": len(self.deliveries),
            "throttled": self.throttled,
            "settings": self.settings(),
        }

    def summary(self) -> list[str]:
        """What to enter in CommHub when pointing it at the sandbox."""
        return [
            f"personal access token {SEED_TOKEN!r} (Authorization: Bearer …)",
            f"OAuth client_id {CLIENT_ID!r}, client_secret {CLIENT_SECRET!r}; "
            "authorize: base URL + /oauth/authorize, token: base URL + /oauth/token",
            f"{len(self.contacts)} contacts, {len(self.messages)} messages, "
            f"{len(self.groups)} groups; short code {SHORT_CODE}",
            "webhooks: PUT /_control/mobiniti/webhooks {kind: url}; rate limit "
            f"1 request per {self.per_route_interval:g} s per route",
        ]

    def demo_step(self, step: int) -> None:
        """Every 3rd step an inbound text, every 4th a reply (with its delivery
        report), every 5th a new contact that unsubscribes; due scheduled messages."""
        self.process_due()
        if step % 3 == 1:
            active = [c for c in self.contacts.values() if c.subscribed]
            if active:
                sender = active[(step // 3) % len(active)]
                self.add_inbound(sender.phone_number, f"Demo message #{step}")
        if step % 4 == 2:
            with contextlib.suppress(KeyError):
                if self.contact(SEED_JANE).subscribed:
                    self.send_message(SEED_JANE, f"Demo reply #{step}")
        if step % 5 == 0:
            phone_number = f"+1202555{step % 10000:04d}"
            if self.find_contact(phone_number) is None:
                self.add_contact(phone_number, first_name="Demo", last_name=str(step))
            if self.contact(phone_number).subscribed:
                self.unsubscribe_contact(phone_number)

    # -- OAuth handlers -----------------------------------------------------------------

    async def _authorize(self, request: web.Request) -> web.Response:
        query = request.query
        client_id = query.get("client_id")
        if not client_id:
            raise OAuthError(
                400, "invalid_request", "The client_id parameter is required."
            )
        if client_id != CLIENT_ID:
            raise OAuthError(401, "invalid_client", "Client authentication failed.")
        redirect_uri = query.get("redirect_uri", "")
        if not _is_http_url(redirect_uri) or (
            self.redirect_uris is not None and redirect_uri not in self.redirect_uris
        ):
            raise OAuthError(
                400,
                "invalid_request",
                "The redirect_uri is missing or not registered for this client.",
            )
        state = query.get("state")

        def redirect(params: dict[str, str]) -> web.Response:
            if state is not None:
                params["state"] = state
            target = URL(redirect_uri).update_query(params)
            return web.Response(status=302, headers={"Location": str(target)})

        if query.get("response_type") != "code":
            return redirect(
                {
                    "error": "unsupported_response_type",
                    "error_description": "The response_type must be 'code'.",
                }
            )
        scopes = query.get("scope", "").split()
        if not scopes or not set(scopes) <= SCOPES:
            return redirect(
                {
                    "error": "invalid_scope",
                    "error_description": "The requested scope is invalid or unknown.",
                }
            )
        if not self.oauth_approve:
            return redirect(
                {
                    "error": "access_denied",
                    "error_description": "The user denied the request.",
                }
            )
        code = _auth_code()
        self.auth_codes[code] = AuthCode(
            client_id, redirect_uri, frozenset(scopes), self.clock() + CODE_LIFETIME
        )
        return redirect({"code": code})

    async def _token(self, request: web.Request) -> web.Response:
        if request.content_type not in FORM_TYPES:
            raise OAuthError(
                400,
                "invalid_request",
                "The token request must be application/x-www-form-urlencoded.",
            )
        form = await read_form(request)
        grant_type = form.get("grant_type")
        if not grant_type:
            raise OAuthError(400, "invalid_request", "grant_type is required.")
        if grant_type not in {"authorization_code", "refresh_token"}:
            raise OAuthError(
                400,
                "unsupported_grant_type",
                "The authorization grant type is not supported.",
            )
        client_id = self._authenticate_client(request, form)
        if grant_type == "authorization_code":
            granted = self._redeem_code(form, client_id)
        else:
            granted = self._redeem_refresh(form, client_id)
        response = _json(self.issue_token(granted, client_id=client_id))
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
        return response

    def _authenticate_client(
        self, request: web.Request, form: Mapping[str, str]
    ) -> str:
        header = request.headers.get("Authorization", "")
        basic = header.lower().startswith("basic ")
        if basic:
            if "client_secret" in form:
                raise OAuthError(
                    400,
                    "invalid_request",
                    "Use one client authentication method, not two.",
                )
            try:
                decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
            except binascii.Error, UnicodeDecodeError:
                decoded = ""
            client_id, _, secret = decoded.partition(":")
        else:
            client_id = form.get("client_id", "")
            secret = form.get("client_secret", "")
        if client_id != CLIENT_ID or secret != CLIENT_SECRET:
            headers = {"WWW-Authenticate": 'Basic realm="mobiniti"'} if basic else None
            raise OAuthError(
                401, "invalid_client", "Client authentication failed.", headers
            )
        return client_id

    def _redeem_code(self, form: Mapping[str, str], client_id: str) -> frozenset[str]:
        code = form.get("code")
        if not code:
            raise OAuthError(400, "invalid_request", "code is required.")
        grant = self.auth_codes.pop(code, None)
        invalid = OAuthError(
            400,
            "invalid_grant",
            "The authorization code is invalid, expired, already used, or was "
            "issued to another client or redirect URI.",
        )
        if grant is None or grant.client_id != client_id:
            raise invalid
        if self.clock() >= grant.expires_at:
            raise invalid
        if form.get("redirect_uri") != grant.redirect_uri:
            raise invalid
        return grant.scopes

    def _redeem_refresh(
        self, form: Mapping[str, str], client_id: str
    ) -> frozenset[str]:
        token = form.get("refresh_token")
        if not token:
            raise OAuthError(400, "invalid_request", "refresh_token is required.")
        grant = self.refresh_tokens.get(token)
        if grant is None or grant.client_id != client_id:
            raise OAuthError(
                400, "invalid_grant", "The refresh token is invalid or revoked."
            )
        del self.refresh_tokens[token]
        self.revoke_token(grant.access_token)
        return grant.scopes

    # -- API handlers -------------------------------------------------------------------

    def _contact_json(self, contact: Contact, includes: set[str]) -> dict[str, Any]:
        data = contact.to_json()
        if "carrier" in includes:
            data["carrier"] = carrier_for(contact.phone_number)
        if "status" in includes:
            data["status"] = contact.status
        if "groups" in includes:
            data["groups"] = [
                {"id": g["id"], "name": g["name"]}
                for g in self.groups
                if g["id"] in contact.groups
            ]
        if "fields" in includes:
            data["fields"] = dict(contact.fields)
        return data

    def _message_json(self, message: Message, includes: set[str]) -> dict[str, Any]:
        data = message.to_json()
        if "type" in includes:
            data["type"] = message.type
        if "receipt" in includes:
            data["receipt"] = message.receipt()
        if "contact" in includes or "contact.carrier" in includes:
            contact = self.contacts.get(message.contact_id or "")
            wanted = {"carrier"} if "contact.carrier" in includes else set()
            data["contact"] = (
                self._contact_json(contact, wanted) if contact is not None else None
            )
        return data

    def _group_json(
        self, group: Mapping[str, Any], includes: set[str]
    ) -> dict[str, Any]:
        data = copy.deepcopy(dict(group))
        if "keyword" in includes:
            data["keyword"] = copy.deepcopy(self.group_keywords.get(group["id"]))
        return data

    def _found_contact(self, request: web.Request) -> Contact:
        contact = self.contacts.get(request.match_info["id"])
        if contact is None:
            raise ApiError(404, "Contact not found.")
        return contact

    def _found_group(self, request: web.Request) -> dict[str, Any]:
        for group in self.groups:
            if group["id"] == request.match_info["id"]:
                return group
        raise ApiError(404, "Group not found.")

    def _filtered_contacts(
        self, contacts: Iterable[Contact], query: ListQuery
    ) -> list[Contact]:
        phone = query.filters.get("phone_number")
        points = query.filters.get("reward_points")
        return _ordered(
            (
                c
                for c in contacts
                if (phone is None or c.phone_number == phone)
                and (points is None or str(c.reward_points) == points.strip())
            ),
            query.sort,
        )

    async def _list_contacts(self, request: web.Request) -> web.Response:
        query = _list_query(
            request, filters=CONTACT_FILTERS, sorts=CONTACT_SORTS, includes={"carrier"}
        )
        contacts = self._filtered_contacts(self.contacts.values(), query)
        items = [self._contact_json(c, query.includes) for c in contacts]
        return _json(_paginate(request, items))

    async def _get_contact(self, request: web.Request) -> web.Response:
        query = _list_query(request, includes={"carrier"})
        contact = self._found_contact(request)
        return _json({"data": self._contact_json(contact, query.includes)})

    def _validate_contact(
        self, data: Mapping[str, Any], *, create: bool
    ) -> tuple[_Validator, dict[str, Any]]:
        validator = _Validator(data)
        values: dict[str, Any] = {}
        if create:
            phone = validator.phone_field("phone_number")
            if phone is not None and self.find_contact(phone) is not None:
                validator.fail("phone_number", CONTACT_EXISTS)
            values["phone_number"] = phone
        for key in ("first_name", "last_name"):
            if key in data:
                values[key] = validator.text(key)
        if "email" in data:
            values["email"] = validator.email("email")
        if "reward_points" in data:
            values["reward_points"] = validator.count("reward_points") or 0
        groups = validator.ids("groups", SEED_GROUP_IDS)
        if groups is not None:
            values["groups"] = groups
        return validator, values

    async def _create_contact(self, request: web.Request) -> web.Response:
        validator, values = self._validate_contact(await _body(request), create=True)
        validator.check()
        created = self.add_contact(**values)
        return _json({"data": created}, 201)

    async def _update_contact(self, request: web.Request) -> web.Response:
        contact = self._found_contact(request)
        validator, values = self._validate_contact(await _body(request), create=False)
        validator.check()
        for key, value in values.items():
            setattr(contact, key, value)
        contact.updated_at = self.clock()
        return _json({"data": contact.to_json()})

    async def _delete_contact(self, request: web.Request) -> web.Response:
        contact = self._found_contact(request)
        del self.contacts[contact.id]
        return web.Response(status=204)

    async def _unsubscribe(self, request: web.Request) -> web.Response:
        validator = _Validator(await _body(request))
        numbers = validator.phone_list("phone_numbers", MAX_UNSUBSCRIBE)
        validator.check()
        count = 0
        for number in dict.fromkeys(numbers):
            contact = self.find_contact(number)
            if contact is not None and contact.subscribed:
                self.unsubscribe_contact(contact.id)
                count += 1
        return _json({"unsubscribed": count})

    async def _list_groups(self, request: web.Request) -> web.Response:
        query = _list_query(request, sorts=GROUP_SORTS, includes={"keyword"})
        groups = list(self.groups)
        for name, descending in reversed(query.sort):
            groups.sort(key=lambda g: g[name], reverse=descending)
        items = [self._group_json(g, query.includes) for g in groups]
        return _json(_paginate(request, items))

    async def _get_group(self, request: web.Request) -> web.Response:
        query = _list_query(request, includes={"keyword"})
        return _json(
            {"data": self._group_json(self._found_group(request), query.includes)}
        )

    async def _group_contacts(self, request: web.Request) -> web.Response:
        group = self._found_group(request)
        query = _list_query(
            request,
            filters=CONTACT_FILTERS,
            sorts=CONTACT_SORTS,
            includes={"status", "groups", "fields"},
        )
        members = (c for c in self.contacts.values() if group["id"] in c.groups)
        contacts = self._filtered_contacts(members, query)
        items = [self._contact_json(c, query.includes) for c in contacts]
        return _json(_paginate(request, items))

    async def _list_messages(self, request: web.Request) -> web.Response:
        query = _list_query(
            request,
            filters={"type", "phone_number", "created_at_min", "created_at_max"},
            sorts={"created_at", "updated_at", "phone_number"},
            includes=MESSAGE_INCLUDES,
        )
        bounds: dict[str, datetime | None] = {}
        validator = _Validator({})
        for key in ("created_at_min", "created_at_max"):
            raw = query.filters.get(key)
            bounds[key] = parse_time(raw) if raw is not None else None
            if raw is not None and bounds[key] is None:
                validator.fail(
                    f"filter.{key}", f"The filter.{key} is not a valid date."
                )
        validator.check()
        kind = query.filters.get("type")
        phone = query.filters.get("phone_number")
        low, high = bounds["created_at_min"], bounds["created_at_max"]

        def wanted(message: Message) -> bool:
            if kind is not None:
                if kind in {"INCOMING_ALL", "OUTGOING_ALL"}:
                    if not message.type.startswith(kind.removesuffix("_ALL")):
                        return False
                elif message.type != kind:
                    return False
            if phone is not None and phone not in message.phone_number:
                return False
            if low is not None and message.created_at < low:
                return False
            return high is None or message.created_at <= high

        messages = _ordered(filter(wanted, self.messages.values()), query.sort)
        items = [self._message_json(m, query.includes) for m in messages]
        return _json(_paginate(request, items))

    async def _get_message(self, request: web.Request) -> web.Response:
        query = _list_query(request, includes=MESSAGE_INCLUDES)
        message = self.messages.get(request.match_info["id"])
        if message is None:
            raise ApiError(404, "Message not found.")
        return _json({"data": self._message_json(message, query.includes)})

    def _refuse_unsubscribed(
        self, numbers: Sequence[tuple[str, str]], text: str | None = None
    ) -> None:
        """422 for unsubscribed contacts among (field, number); with `text` (a
        send), a `rejection` for each of them."""
        validator = _Validator({})
        for key, number in numbers:
            contact = self.find_contact(number)
            if contact is not None and not contact.subscribed:
                validator.fail(key, UNSUBSCRIBED)
                if text is not None:
                    self.add_rejection(text, "Unsubscribed")
        validator.check()

    def _require_credit(self) -> None:
        if self.payment_required:
            raise ApiError(402)

    async def _send(self, request: web.Request) -> web.Response:
        validator = _Validator(await _body(request))
        phone = validator.phone_field("phone_number")
        text = validator.text("message", required=True, max_length=MAX_MESSAGE)
        validator.check()
        assert phone is not None
        assert text is not None
        self._refuse_unsubscribed([("phone_number", phone)], text)
        self._require_credit()
        return _json({"data": self.send_message(phone, text)}, 201)

    async def _send_batch(self, request: web.Request) -> web.Response:
        validator = _Validator(await _body(request))
        numbers = validator.phone_list("phone_numbers", MAX_BATCH)
        text = validator.text("message", required=True, max_length=MAX_MESSAGE)
        validator.check()
        assert text is not None
        keyed = [(f"phone_numbers.{i}", n) for i, n in enumerate(numbers)]
        self._refuse_unsubscribed(keyed, text)
        self._require_credit()
        return _json({"data": self.send_batch(numbers, text)}, 201)

    def _scheduled_found(self, request: web.Request) -> ScheduledMessage:
        scheduled = self.scheduled.get(request.match_info["id"])
        if scheduled is None:
            raise ApiError(404, "Scheduled message not found.")
        return scheduled

    async def _list_scheduled(self, request: web.Request) -> web.Response:
        query = _list_query(request, sorts={"send_at", "created_at", "updated_at"})
        scheduled = _ordered(self.scheduled.values(), query.sort)
        return _json(_paginate(request, [s.to_json() for s in scheduled]))

    async def _create_scheduled(self, request: web.Request) -> web.Response:
        validator = _Validator(await _body(request))
        phone = validator.phone_field("phone_number")
        text = validator.text("message", required=True, max_length=MAX_MESSAGE)
        send_at = validator.future_time("send_at", self.clock())
        validator.check()
        assert phone is not None
        assert text is not None
        assert send_at is not None
        self._refuse_unsubscribed([("phone_number", phone)], text)
        self._require_credit()
        return _json({"data": self.schedule_message(phone, text, send_at)}, 201)

    async def _get_scheduled(self, request: web.Request) -> web.Response:
        return _json({"data": self._scheduled_found(request).to_json()})

    async def _update_scheduled(self, request: web.Request) -> web.Response:
        scheduled = self._scheduled_found(request)
        data = await _body(request)
        validator = _Validator(data)
        phone = validator.phone_field("phone_number", required=False)
        text = (
            validator.text("message", required=True, max_length=MAX_MESSAGE)
            if "message" in data
            else None
        )
        send_at = (
            validator.future_time("send_at", self.clock())
            if "send_at" in data
            else None
        )
        validator.check()
        if phone is not None:
            self._refuse_unsubscribed([("phone_number", phone)])
            scheduled.phone_number = phone
        if text is not None:
            scheduled.message = text
        if send_at is not None:
            scheduled.send_at = send_at
        scheduled.updated_at = self.clock()
        return _json({"data": scheduled.to_json()})

    async def _delete_scheduled(self, request: web.Request) -> web.Response:
        del self.scheduled[self._scheduled_found(request).id]
        return web.Response(status=204)

    async def _lookup(self, request: web.Request) -> web.Response:
        validator = _Validator(await _body(request))
        numbers = validator.phone_list("phone_numbers", MAX_LOOKUP)
        validator.check()
        return _json(
            {
                "data": [
                    {"phone_number": number, "carrier": carrier_for(number)}
                    for number in numbers
                ]
            }
        )

    # -- control handlers ---------------------------------------------------------------

    @staticmethod
    def _contact_key(body: Mapping[str, Any]) -> str:
        key = body.get("id", body.get("phone_number"))
        if not isinstance(key, str):
            msg = "give the contact's 'id' or 'phone_number' as a string"
            raise TypeError(msg)
        return key

    async def _control_contacts(self, _request: web.Request) -> object:
        return [c.to_control_json() for c in _ordered(self.contacts.values(), [])]

    async def _control_add_contact(self, request: web.Request) -> object:
        body = await read_json_object(request)
        points = body.get("reward_points", 0)
        if not isinstance(points, int) or isinstance(points, bool):
            msg = "field 'reward_points' must be an integer"
            raise TypeError(msg)
        groups = body.get("groups", [])
        if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
            msg = "field 'groups' must be a list of group ids"
            raise TypeError(msg)
        added = self.add_contact(
            _required_str(body, "phone_number"),
            first_name=_optional_str(body, "first_name"),
            last_name=_optional_str(body, "last_name"),
            email=_optional_str(body, "email"),
            reward_points=points,
            groups=groups,
            at=_control_time(body),
        )
        return self.contact(added["id"]).to_control_json()

    async def _control_unsubscribe(self, request: web.Request) -> object:
        body = await read_json_object(request)
        payload = self.unsubscribe_contact(
            self._contact_key(body), at=_control_time(body)
        )
        await self.wait_deliveries()
        return payload

    async def _control_contact_status(self, request: web.Request) -> object:
        body = await read_json_object(request)
        payload = self.set_contact_status(
            self._contact_key(body),
            _required_str(body, "status"),
            new_phone_number=_optional_str(body, "new_phone_number"),
            at=_control_time(body),
        )
        await self.wait_deliveries()
        return payload

    async def _control_bounce(self, request: web.Request) -> object:
        body = await read_json_object(request)
        count = body.get("count", 1)
        if not isinstance(count, int) or isinstance(count, bool):
            msg = "field 'count' must be an integer"
            raise TypeError(msg)
        payload = self.add_bounce(
            self._contact_key(body), count, at=_control_time(body)
        )
        await self.wait_deliveries()
        return payload

    async def _control_messages(self, _request: web.Request) -> object:
        return [
            self._message_json(m, {"type", "receipt"})
            for m in _ordered(self.messages.values(), [("created_at", False)])
        ]

    async def _control_inbound(self, request: web.Request) -> object:
        body = await read_json_object(request)
        phone = _required_str(body, "phone_number")
        if not is_e164(phone):
            msg = f"phone number {phone!r} is not E.164"
            raise ValueError(msg)
        message = self.add_inbound(
            phone, _required_str(body, "message"), at=_control_time(body)
        )
        await self.wait_deliveries()
        return message

    async def _control_send(self, request: web.Request) -> object:
        body = await read_json_object(request)
        phone = _required_str(body, "phone_number")
        if not is_e164(phone):
            msg = f"phone number {phone!r} is not E.164"
            raise ValueError(msg)
        message = self.send_message(
            phone, _required_str(body, "message"), at=_control_time(body)
        )
        await self.wait_deliveries()
        return message

    async def _control_rejection(self, request: web.Request) -> object:
        body = await read_json_object(request)
        payload = self.add_rejection(
            _optional_str(body, "message") or "",
            _optional_str(body, "description") or "Unsubscribed",
            code=_optional_str(body, "code") or "",
        )
        await self.wait_deliveries()
        return payload

    async def _control_scheduled(self, _request: web.Request) -> object:
        ordered = _ordered(self.scheduled.values(), [("send_at", False)])
        return [s.to_json() for s in ordered]

    async def _control_process_due(self, _request: web.Request) -> object:
        sent = self.process_due()
        await self.wait_deliveries()
        return sent

    async def _control_get_webhooks(self, _request: web.Request) -> object:
        return dict(self.webhook_urls)

    async def _control_set_webhooks(self, request: web.Request) -> object:
        body = await read_json_object(request)
        for kind, url in body.items():
            if kind not in WEBHOOK_KINDS:
                msg = f"unknown webhook kind {kind!r}; expected one of {WEBHOOK_KINDS}"
                raise ValueError(msg)
            if url is not None and (not isinstance(url, str) or not _is_http_url(url)):
                msg = f"the URL for {kind!r} must be an absolute http(s) URL or null"
                raise ValueError(msg)
        for kind, url in body.items():
            if url is None:
                self.webhook_urls.pop(kind, None)
            else:
                self.webhook_urls[kind] = url
        return dict(self.webhook_urls)

    async def _control_deliver(self, request: web.Request) -> object:
        body = await read_json_object(request)
        url = _required_str(body, "url")
        kind = _required_str(body, "kind")
        if not _is_http_url(url):
            msg = "field 'url' must be an absolute http(s) URL"
            raise ValueError(msg)
        overrides = {k: v for k, v in body.items() if k not in {"url", "kind"}}
        delivery = await self.deliver_webhook(url, kind, **overrides)
        return delivery.to_json()

    async def _control_deliveries(self, _request: web.Request) -> object:
        return [d.to_json() for d in self.deliveries]

    async def _control_clear_deliveries(self, _request: web.Request) -> object:
        self.deliveries.clear()
        return {"ok": True}

    async def _control_set_tokens(self, request: web.Request) -> object:
        tokens = (await read_json_object(request)).get("tokens")
        if not isinstance(tokens, list) or not all(
            isinstance(t, str) and t for t in tokens
        ):
            msg = "field 'tokens' must be a list of non-empty strings"
            raise TypeError(msg)
        self.tokens = set(tokens)
        return {"tokens": sorted(self.tokens)}

    async def _control_issue_token(self, request: web.Request) -> object:
        body = await read_json_object(request)
        scopes = body.get("scopes")
        if scopes is not None and (
            not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes)
        ):
            msg = "field 'scopes' must be a list of scope names"
            raise TypeError(msg)
        lifetime = body.get("lifetime")
        if lifetime is not None and (
            not isinstance(lifetime, int) or isinstance(lifetime, bool)
        ):
            msg = "field 'lifetime' must be a number of seconds"
            raise TypeError(msg)
        return self.issue_token(scopes, lifetime=lifetime)

    async def _control_get_settings(self, _request: web.Request) -> object:
        return self.settings()

    async def _control_set_settings(self, request: web.Request) -> object:
        body = await read_json_object(request)
        flags = ("payment_required", "rate_limit_enabled", "oauth_approve")
        known = {*flags, "per_route_interval", "token_lifetime", "redirect_uris"}
        unknown = set(body) - known - {"delivery_codes", *SCHEDULE_SETTINGS}
        if unknown:
            msg = f"unknown setting(s): {', '.join(sorted(unknown))}"
            raise ValueError(msg)
        for key in flags:
            if key in body and not isinstance(body[key], bool):
                msg = f"setting {key!r} must be a boolean"
                raise TypeError(msg)
        interval = body.get("per_route_interval", self.per_route_interval)
        if (
            not isinstance(interval, int | float)
            or isinstance(interval, bool)
            or interval < 0
        ):
            msg = "per_route_interval must be a non-negative number of seconds"
            raise ValueError(msg)
        lifetime = body.get("token_lifetime", self.token_lifetime)
        if not isinstance(lifetime, int) or isinstance(lifetime, bool) or lifetime < 1:
            msg = "token_lifetime must be a positive number of seconds"
            raise ValueError(msg)
        uris = body.get("redirect_uris", self.redirect_uris)
        if uris is not None and (
            not isinstance(uris, list | set)
            or not all(isinstance(u, str) and _is_http_url(u) for u in uris)
        ):
            msg = "redirect_uris must be a list of absolute http(s) URLs or null"
            raise ValueError(msg)
        codes = body.get("delivery_codes", self.delivery_codes)
        if not isinstance(codes, dict) or not all(
            isinstance(k, str) and v in DLR_CODES for k, v in codes.items()
        ):
            msg = "delivery_codes must map phone numbers to the document's codes"
            raise ValueError(msg)
        paths, refusal = _schedule_settings(
            body, self.schedule_paths, self.schedule_refusal
        )
        for key in flags:
            if key in body:
                setattr(self, key, body[key])
        self.per_route_interval = float(interval)
        self.token_lifetime = lifetime
        self.redirect_uris = set(uris) if uris is not None else None
        self.delivery_codes = dict(codes)
        self.schedule_paths, self.schedule_refusal = paths, refusal
        return self.settings()


CONTACT_FILTERS = frozenset({"phone_number", "reward_points"})
CONTACT_SORTS = frozenset(
    {
        "created_at",
        "updated_at",
        "unsubscribed_at",
        "phone_number",
        "first_name",
        "last_name",
        "reward_points",
    }
)
GROUP_SORTS = frozenset({"name", "created_at", "updated_at"})
MESSAGE_INCLUDES = frozenset({"receipt", "contact", "contact.carrier", "type"})
