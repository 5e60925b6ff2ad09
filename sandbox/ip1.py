"""IP1 SMS API v2 sandbox (https://api.ip1sms.com, mounted under /ip1).

The seed document (`ip1sms-api-v2-conversations.txt`) specifies one endpoint,
`GET /v2/conversations/{participant}`: its message representation, "Is paginated",
400 "Participant was invalid" and 404 "No messages to list". The project's issue adds
Bearer authentication, `POST /v2/batches`, paging with `start`/`limit`/`order` and a
`Link` header, the per-account inbound-SMS callback and delivery reports posted to a
batch's `deliveryReportUrl`. IP1's developer pages and C# sample (VENDORS.md) add
the batch options, the list endpoints the sample reads, the report's fields and
IP1's retry policy. `GET /v2/batches/{id}` and `GET /v2/messages/{id}` follow IP1's
public v2 resource naming. Everything else is a sandbox decision, stated here:

- Times: UTC, ISO 8601 with milliseconds and an explicit offset,
  `2026-11-23T12:00:00.123+00:00`; the clock (see the end) is read per call.
- Errors: RFC 7807 problem details (`application/problem+json; charset=utf-8`):
  `{"type", "title", "status"}` plus `detail` where there is one, and for every 400
  an `errors` object mapping a field (`participant`, `start`, `sender`,
  `recipients[1]`, `$` for the whole body...) to a list of messages. The seed's words
  are the `detail` of the 400 ("Participant was invalid") and the 404 ("No messages to
  list"). A 401 also carries `WWW-Authenticate: Bearer`. A body that is not JSON is
  415.
- Successful answers are `application/json; charset=utf-8`.
- Addresses: a sender name is 3-11 ASCII letters and digits, a number 1-15 digits,
  never with `+`. A participant must be one or the other, else 400 (so `+4670...`,
  an empty participant or one with spaces is 400). Participants match `sender` or
  `recipient` exactly (case-sensitive).
- Messages: `direction` 0 is mobile-terminated (sent by the account), 1 is
  mobile-originated (received); the contract tells clients not to rely on it.
  `type` 1 (SMS; 0 is flash, as IP1's C# sample numbers them), `priority` 1 (2 is
  high), `datacoding` 0 for GSM 03.38 text and 2 for UCS-2, `segments` by the usual
  160/153 and 70/67 rules. Outbound messages cost 0.35 SEK per segment, inbound ones
  0.0 SEK. `batchId` and `reference` are null for inbound messages (and `reference`
  for batches sent without one); `mcc`/`mnc` are "240"/"01" for Swedish (46...)
  numbers and null otherwise.
- Statuses: the codes are the seed's enum. The sandbox uses 101 queued, 102 sent to
  the operator, 201 delivered (outbound) / received (inbound), 402 undeliverable;
  `duration` is always 0. The newest status is the last one appended, and `modified`
  is its time. A message's creation time is its first status time.
- Lists (`GET /v2/conversations/{participant}`, its `/mo` and `/mt` halves, as IP1's
  C# sample reads them, `GET /v2/batches` and `GET /v2/batches/{id}/messages`):
  ordered by creation time (ties by arrival), `order=asc` (default, oldest first) or
  `desc` (case-insensitive); `start` is a 0-based offset (default 0), `limit`
  defaults to 50 and is clamped to 100. `Link` carries absolute `rel="next"` /
  `rel="prev"` URLs with all three parameters when such a page exists. A
  conversation without messages is 404; a page past the end is 200 with `[]`.
- `POST /v2/batches` answers 201 with `Location` and the batch:
  `{"id", "owner", "sender", "recipients", "body", "deliveryReportUrl", "reference",
  "deliveryWindows", "tags", "created", "messages": [message, ...]}`; one message per
  recipient, in order (repeats are sent twice), each created with status 101.
  `recipients` is a list of numbers, or IP1's templating object
  `{number: {key: text}, "default": {key: text}}`: each `{key}` of the body is
  replaced by the recipient's text, else the default's (an unknown key stays as
  written). `type` (0/1 or "flash"/"sms"), `datacoding` (0/2 or "gsm"/"ucs"; UCS-2
  is kept, GSM falls back to UCS-2 for text outside its alphabet), `priority` (1/2
  or "normal"/"high"), `deliveryWindows` (`[{"opens", "closes"}]`, ISO 8601 or null,
  with or without an offset) and `tags` (strings) are checked and kept; an empty
  `deliveryReportUrl` means none (one of IP1's pages sends `""`). Unknown fields are
  ignored. A body that is empty or only whitespace is 400.
- Callbacks are JSON POSTs through real HTTP: each new inbound message (the message
  object) to the account's `inbound_callback_url`, and for each status appended to a
  message of a batch with a `deliveryReportUrl` a report `{"id", "batchId",
  "recipient", "code", "duration", "created", "segments", "price", "currency",
  "reference"}` to that URL. Only HTTP 200 counts as delivered (IP1's pages: "expects
  a 200 OK"); anything else, or no answer, is tried again every 10 minutes. A
  delivery report is discarded after 10 attempts, as IP1 does; an inbound message is
  tried until answered (its page sets no limit).
- Where IP1's own pages disagree, a switch chooses (an attribute, and
  `PUT /_control/ip1/variants`): `report_id_key` names the report's message id `id`
  (default) or `messageId`; `link_style` writes `<url>; rel="next"` (`standard`,
  default) or `<url> rel="next"` (`legacy`, an older page); `direction_style` gives
  `direction` as 0/1 (`number`, default, the docs portal) or "mt"/"mo" (`name`, the
  developer pages).
- The clock is `now()`: `datetime.now(UTC)` plus `clock_offset`, which `advance()`
  (`POST /_control/ip1/clock/advance`) moves on before making the attempts then due,
  so tests drive the retry policy without waiting.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
import contextlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
import json
import math
import re
from typing import Any, Literal, get_args
import uuid

from aiohttp import web
from yarl import URL

from .core import (
    ControlRoute,
    Route,
    ServiceError,
    ServiceSandbox,
    post_json,
    read_json_object,
    require,
)

CT_JSON = "application/json; charset=utf-8"
CT_PROBLEM = "application/problem+json; charset=utf-8"

SEED_API_KEY = "ip1-sandbox-key"
SEED_ACCOUNT = "ip1-12345"
SEED_NUMBER = "46700000000"  # the account's own number
SEED_PARTICIPANT = "46701234567"  # three messages, both directions
SEED_PARTICIPANT_2 = "46709876543"  # one outbound message, still on its way
SEED_NAME = "Pharmacy"  # an alphanumeric sender that texted the account
SEED_SENDER_NAME = "CommHub"  # the name the account sends the seeded message with
EMPTY_PARTICIPANT = "46705550000"  # a valid participant without messages: 404

# The seed's enum of status codes; the sandbox gives meaning to the four below.
STATUS_CODES = frozenset({
    101, 102, 103, 104, 110, 111, 112, 113, 201, 202, 203, 402, 403, 404, 405, 406,
    407, 408, 409, 500, 501, 502, 503, 511, 512, 513, 514, 515, 516, 599,
})  # fmt: skip
STATUS_QUEUED = 101
STATUS_SENT = 102
STATUS_DELIVERED = 201
STATUS_UNDELIVERABLE = 402
DEFAULT_OUTBOUND_STATUSES = (STATUS_QUEUED, STATUS_SENT, STATUS_DELIVERED)

DIRECTION_MT = 0  # sent by the account
DIRECTION_MO = 1  # received by the account
TYPE_FLASH = 0  # IP1's C# sample: SmsType Flash = 0, SMS = 1
TYPE_SMS = 1
DATACODING_GSM = 0
DATACODING_UCS2 = 2
PRIORITY_NORMAL = 1
PRIORITY_HIGH = 2
# Batch options by number or by name (IP1's pages send names, its C# sample numbers).
TYPES = {"flash": TYPE_FLASH, "sms": TYPE_SMS}
DATACODINGS = {"gsm": DATACODING_GSM, "ucs": DATACODING_UCS2}
PRIORITIES = {"normal": PRIORITY_NORMAL, "high": PRIORITY_HIGH}
TEMPLATE_DEFAULT = "default"  # the templating object's fallback values
PLACEHOLDER_RE = re.compile(r"\{([^{}]*)\}")
CURRENCY = "SEK"
PRICE_PER_SEGMENT = 0.35

DEFAULT_LIMIT = 50
MAX_LIMIT = 100
MAX_BODY = 2000
RETRY_INTERVAL = timedelta(minutes=10)
MAX_REPORT_ATTEMPTS = 10  # then IP1 discards the report
DELIVERY_TIMEOUT = 10.0  # seconds a callback receiver has to answer
USER_AGENT = "IP1-Sandbox-Callbacks/2.0"

# Words from the seed document.
PARTICIPANT_INVALID = "Participant was invalid"
NO_MESSAGES = "No messages to list"
VALIDATION_TITLE = "One or more validation errors occurred."

SENDER_NAME_RE = re.compile(r"[A-Za-z0-9]{3,11}")
NUMBER_RE = re.compile(r"[0-9]{1,15}")
SENDER_RULE = "must be 3-11 letters and digits, or a number of 1-15 digits"
RECIPIENT_RULE = "must be a number of 1-15 digits, without '+'"

GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = frozenset("\f^{}\\[~]|€")

PROBLEM_TYPES = {
    400: "https://tools.ietf.org/html/rfc9110#section-15.5.1",
    401: "https://tools.ietf.org/html/rfc9110#section-15.5.2",
    404: "https://tools.ietf.org/html/rfc9110#section-15.5.5",
    405: "https://tools.ietf.org/html/rfc9110#section-15.5.6",
    415: "https://tools.ietf.org/html/rfc9110#section-15.5.16",
    429: "https://tools.ietf.org/html/rfc6585#section-4",
    500: "https://tools.ietf.org/html/rfc9110#section-15.6.1",
}

DeliveryKind = Literal["inbound_message", "delivery_report"]
# Where IP1's own pages disagree: the report's id key, the Link form, direction.
ReportIdKey = Literal["id", "messageId"]
LinkStyle = Literal["standard", "legacy"]
DirectionStyle = Literal["number", "name"]
VARIANTS: dict[str, tuple[str, ...]] = {
    "report_id_key": get_args(ReportIdKey),
    "link_style": get_args(LinkStyle),
    "direction_style": get_args(DirectionStyle),
}

type Paging = tuple[int, int, str]
type Errors = dict[str, list[str]]
CONVERSATION_PATH = "/v2/conversations/{participant:[^/]*}"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def _new_id() -> str:
    # Random on purpose: ids carry no order a client could come to rely on.
    return uuid.uuid4().hex


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def is_sender(value: str) -> bool:
    """Whether `value` is a valid sender: a name or a number."""
    return bool(SENDER_NAME_RE.fullmatch(value) or NUMBER_RE.fullmatch(value))


def is_number(value: str) -> bool:
    """Whether `value` is a valid recipient phone number (digits, no `+`)."""
    return NUMBER_RE.fullmatch(value) is not None


def encoding(body: str, requested: int | None = None) -> tuple[int, int]:
    """The data coding (0 GSM, 2 UCS-2) and the number of segments of a text.

    UCS-2 when asked for, or when a character is outside the GSM alphabet.
    """
    gsm = all(c in GSM_BASIC or c in GSM_EXTENSION for c in body)
    if gsm and requested != DATACODING_UCS2:
        units = sum(2 if c in GSM_EXTENSION else 1 for c in body)
        coding, single, part = DATACODING_GSM, 160, 153
    else:
        units = len(body.encode("utf-16-le")) // 2
        coding, single, part = DATACODING_UCS2, 70, 67
    return coding, 1 if units <= single else math.ceil(units / part)


def _network(address: str) -> tuple[str | None, str | None]:
    if is_number(address) and address.startswith("46"):
        return "240", "01"
    return None, None


def parse_time(value: object) -> datetime | None:
    """A control-interface time: None, or an ISO 8601 string with an offset."""
    if value is None:
        return None
    if not isinstance(value, str):
        msg = "times must be ISO 8601 strings"
        raise TypeError(msg)
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        msg = f"time {value!r} needs a UTC offset"
        raise ValueError(msg)
    return moment


class Problem(ServiceError):
    """An error answered as problem details, optionally with field errors."""

    def __init__(
        self,
        status: int,
        title: str | None = None,
        *,
        detail: str | None = None,
        errors: Mapping[str, list[str]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(status, title or _phrase(status), headers)
        self.detail = detail
        self.errors = dict(errors) if errors is not None else None


def _invalid(errors: Mapping[str, list[str]], detail: str | None = None) -> Problem:
    return Problem(400, VALIDATION_TITLE, detail=detail, errors=errors)


@dataclass
class Status:
    """One entry of a message's `statuses`."""

    code: int
    created: datetime
    duration: int = 0

    def to_json(self) -> dict[str, Any]:
        """The API representation."""
        return {
            "code": self.code,
            "duration": self.duration,
            "created": _iso(self.created),
        }


@dataclass
class Message:
    """A message of the account; `seq` breaks ties between equal creation times."""

    id: str
    seq: int
    owner: str
    sender: str
    recipient: str
    body: str
    direction: int
    batch_id: str | None
    reference: str | None
    statuses: list[Status]
    type: int = TYPE_SMS
    priority: int = PRIORITY_NORMAL
    datacoding: int | None = None  # asked for by the batch; None: by the text

    @property
    def created(self) -> datetime:
        """The time of the first status."""
        return self.statuses[0].created

    @property
    def code(self) -> int:
        """The newest status code (the last appended)."""
        return self.statuses[-1].code

    @property
    def inbound(self) -> bool:
        """Whether the account received this message."""
        return self.direction == DIRECTION_MO

    def involves(self, participant: str) -> bool:
        """Whether the participant is this message's sender or recipient."""
        return participant in {self.sender, self.recipient}

    @property
    def coding(self) -> tuple[int, int]:
        """The data coding and the number of segments."""
        return encoding(self.body, self.datacoding)

    @property
    def price(self) -> float:
        """What the message cost the account."""
        return 0.0 if self.inbound else round(PRICE_PER_SEGMENT * self.coding[1], 4)

    def to_json(self) -> dict[str, Any]:
        """The API representation, as the seed lists its fields."""
        coding, segments = self.coding
        mcc, mnc = _network(self.sender if self.inbound else self.recipient)
        return {
            "id": self.id,
            "batchId": self.batch_id,
            "owner": self.owner,
            "sender": self.sender,
            "recipient": self.recipient,
            "body": self.body,
            "direction": self.direction,
            "segments": segments,
            "type": self.type,
            "datacoding": coding,
            "priority": self.priority,
            "price": self.price,
            "currency": CURRENCY,
            "statuses": [status.to_json() for status in self.statuses],
            "modified": _iso(self.statuses[-1].created),
            "reference": self.reference,
            "mcc": mcc,
            "mnc": mnc,
        }


@dataclass(frozen=True)
class BatchOptions:
    """What a batch may ask for besides sender, recipients and body."""

    type: int = TYPE_SMS
    datacoding: int | None = None  # None: by the text
    priority: int = PRIORITY_NORMAL
    delivery_windows: tuple[tuple[str | None, str | None], ...] = ()
    tags: tuple[str, ...] = ()


@dataclass
class Batch:
    """One send: a message per recipient."""

    id: str
    owner: str
    sender: str
    recipients: list[str]
    body: str
    delivery_report_url: str | None
    reference: str | None
    created: datetime
    options: BatchOptions = field(default_factory=BatchOptions)
    message_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class BatchRequest:
    """A valid `POST /v2/batches` body."""

    sender: str
    recipients: list[str] | dict[str, dict[str, str]]
    body: str
    delivery_report_url: str | None
    reference: str | None
    options: BatchOptions


@dataclass
class Attempt:
    """One HTTP attempt of a callback: the status answered, or the error."""

    at: datetime
    status: int | None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON view for the control interface."""
        return {"at": _iso(self.at), "status": self.status, "error": self.error}


@dataclass
class Delivery:
    """A callback the sandbox owes a receiver, with its attempts so far."""

    kind: DeliveryKind
    url: str
    payload: dict[str, Any]
    message_id: str
    created: datetime
    max_attempts: int | None = None  # None: tried until answered
    attempts: list[Attempt] = field(default_factory=list)
    in_flight: bool = False

    @property
    def delivered(self) -> bool:
        """Whether the last attempt was answered 200."""
        return bool(self.attempts) and self.attempts[-1].status == 200

    @property
    def discarded(self) -> bool:
        """Whether every attempt allowed went unanswered: never tried again."""
        limit = self.max_attempts
        return not self.delivered and limit is not None and len(self.attempts) >= limit

    @property
    def pending(self) -> bool:
        """Whether another attempt is still to come."""
        return not self.delivered and not self.discarded

    @property
    def status(self) -> int | None:
        """The HTTP status of the last attempt (None: none yet, or no answer)."""
        return self.attempts[-1].status if self.attempts else None

    def due(self, now: datetime) -> bool:
        """Whether to (re)try now: pending, idle, and never or long ago tried."""
        if not self.pending or self.in_flight:
            return False
        return not self.attempts or now - self.attempts[-1].at >= RETRY_INTERVAL

    def to_json(self) -> dict[str, Any]:
        """A JSON view for the control interface."""
        return {
            "kind": self.kind,
            "url": self.url,
            "message_id": self.message_id,
            "payload": self.payload,
            "created": _iso(self.created),
            "delivered": self.delivered,
            "discarded": self.discarded,
            "status": self.status,
            "attempts": [attempt.to_json() for attempt in self.attempts],
        }


class Ip1Sandbox(ServiceSandbox):
    """The IP1 SMS API v2 for one account, seeded with a few conversations."""

    name = "ip1"

    account_id: str
    numbers: list[str]
    api_keys: set[str]
    inbound_callback_url: str | None
    messages: dict[str, Message]
    batches: dict[str, Batch]
    deliveries: list[Delivery]
    report_id_key: ReportIdKey
    link_style: LinkStyle
    direction_style: DirectionStyle
    clock_offset: timedelta

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()
        self._seq = 0
        super().__init__()

    # -- state helpers ---------------------------------------------------------

    def seed(self) -> None:
        """One account and number; conversations relative to the current time."""
        for task in self._tasks:
            with contextlib.suppress(RuntimeError):  # a loop already closed
                task.cancel()
        self._tasks = set()
        self.account_id = SEED_ACCOUNT
        self.numbers = [SEED_NUMBER]
        self.api_keys = {SEED_API_KEY}
        self.inbound_callback_url = None
        self.messages, self.batches, self.deliveries = {}, {}, []
        self.report_id_key = "id"
        self.link_style = "standard"
        self.direction_style = "number"
        self.clock_offset = timedelta(0)
        now = self.now()
        day = timedelta(days=1)
        self.add_inbound(
            SEED_PARTICIPANT,
            "Hi, is the shop open on Saturday?",
            at=now - 2 * day,
        )
        self.add_outbound(
            SEED_PARTICIPANT,
            "Yes, 10\u201316. Welcome!",  # an en dash: UCS-2
            at=now - 2 * day + timedelta(minutes=5),
        )
        self.add_inbound(SEED_PARTICIPANT, "Great, see you then", at=now - day)
        self.add_inbound(
            SEED_NAME,
            "Your prescription is ready for pickup.",
            at=now - 3 * day,
        )
        self.add_outbound(
            SEED_PARTICIPANT_2,
            "Your table for 4 is booked for 19:00.",
            sender=SEED_SENDER_NAME,
            at=now - timedelta(hours=1),
            status=(STATUS_QUEUED, STATUS_SENT),
        )

    def now(self) -> datetime:
        """The sandbox's time: the wall clock, moved on by `advance`."""
        return datetime.now(UTC) + self.clock_offset

    def variants(self) -> dict[str, str]:
        """The switches between the forms IP1's pages disagree on."""
        return {name: getattr(self, name) for name in VARIANTS}

    def set_variants(self, changes: Mapping[str, object]) -> dict[str, str]:
        """Set some switches (ValueError for an unknown switch or value)."""
        for name, value in changes.items():
            if name not in VARIANTS:
                msg = f"unknown variant {name!r}; the switches are {sorted(VARIANTS)}"
                raise ValueError(msg)
            if value not in VARIANTS[name]:
                msg = f"{name} must be one of {list(VARIANTS[name])}, not {value!r}"
                raise ValueError(msg)
        for name, value in changes.items():
            setattr(self, name, value)
        return self.variants()

    def render(self, message: Message) -> dict[str, Any]:
        """A message as the API shows it, `direction` in the chosen form."""
        data = message.to_json()
        if self.direction_style == "name":
            data["direction"] = "mo" if message.inbound else "mt"
        return data

    def _message(
        self,
        sender: str,
        recipient: str,
        body: str,
        *,
        direction: int,
        at: datetime | None,
        codes: Iterable[int],
        batch: Batch | None = None,
    ) -> Message:
        created = at if at is not None else self.now()
        self._seq += 1
        options = batch.options if batch is not None else BatchOptions()
        message = Message(
            id=_new_id(),
            seq=self._seq,
            owner=self.account_id,
            sender=sender,
            recipient=recipient,
            body=body,
            direction=direction,
            batch_id=batch.id if batch is not None else None,
            reference=batch.reference if batch is not None else None,
            statuses=[Status(code, created) for code in codes],
            type=options.type,
            priority=options.priority,
            datacoding=options.datacoding,
        )
        if not message.statuses:
            msg = "a message needs at least one status"
            raise ValueError(msg)
        self.messages[message.id] = message
        if batch is not None:
            batch.message_ids.append(message.id)
        return message

    def send_batch(
        self,
        sender: str,
        recipients: Sequence[str] | Mapping[str, Mapping[str, str]],
        body: str,
        *,
        delivery_report_url: str | None = None,
        reference: str | None = None,
        at: datetime | None = None,
        status: int | Sequence[int] = STATUS_QUEUED,
        options: BatchOptions | None = None,
    ) -> Batch:
        """Create a batch and one outbound message per recipient (no validation).

        `recipients` is a list of numbers or IP1's templating object.
        """
        created = at if at is not None else self.now()
        codes = [status] if isinstance(status, int) else list(status)
        for code in codes:
            _check_code(code)
        texts = personalised(body, recipients)
        batch = Batch(
            id=_new_id(),
            owner=self.account_id,
            sender=sender,
            recipients=[recipient for recipient, _ in texts],
            body=body,
            delivery_report_url=delivery_report_url,
            reference=reference,
            created=created,
            options=options or BatchOptions(),
        )
        self.batches[batch.id] = batch
        for recipient, text in texts:
            self._message(
                sender,
                recipient,
                text,
                direction=DIRECTION_MT,
                at=created,
                codes=codes,
                batch=batch,
            )
        return batch

    def add_inbound(
        self,
        participant: str,
        body: str,
        *,
        to: str | None = None,
        at: datetime | None = None,
    ) -> dict[str, Any]:
        """A message from `participant` to one of the account's numbers.

        When `inbound_callback_url` is set, it is delivered there (at once when an
        event loop is running, else by the next `retry_pending`).
        """
        if not is_sender(participant):
            msg = f"participant {participant!r} {SENDER_RULE}"
            raise ValueError(msg)
        recipient = to if to is not None else self.numbers[0]
        if recipient not in self.numbers:
            msg = f"{recipient!r} is not one of the account's numbers {self.numbers}"
            raise ValueError(msg)
        message = self._message(
            participant,
            recipient,
            body,
            direction=DIRECTION_MO,
            at=at,
            codes=[STATUS_DELIVERED],
        )
        if self.inbound_callback_url is not None:
            self._dispatch(self._inbound_delivery(message, self.inbound_callback_url))
        return self.render(message)

    def add_outbound(
        self,
        participant: str,
        body: str,
        *,
        sender: str | None = None,
        at: datetime | None = None,
        status: int | Sequence[int] = DEFAULT_OUTBOUND_STATUSES,
    ) -> dict[str, Any]:
        """A message the account sent to `participant` (a batch of one, no reports).

        `status` is the code, or the codes in order, the message has (all at `at`).
        """
        if not is_number(participant):
            msg = f"participant {participant!r} {RECIPIENT_RULE}"
            raise ValueError(msg)
        from_ = sender if sender is not None else self.numbers[0]
        if not is_sender(from_):
            msg = f"sender {from_!r} {SENDER_RULE}"
            raise ValueError(msg)
        batch = self.send_batch(from_, [participant], body, at=at, status=status)
        return self.render(self.messages[batch.message_ids[0]])

    def set_status(
        self, message_id: str, code: int, at: datetime | None = None
    ) -> dict[str, Any]:
        """Append a status to a message (KeyError if unknown).

        For a message of a batch with a `deliveryReportUrl`, a delivery report is
        owed to that URL (sent at once when an event loop is running).
        """
        message = self.messages[message_id]
        _check_code(code)
        message.statuses.append(Status(code, at if at is not None else self.now()))
        batch = self.batches.get(message.batch_id or "")
        if batch is not None and batch.delivery_report_url is not None:
            self._dispatch(self._report_delivery(message, batch.delivery_report_url))
        return self.render(message)

    def message(self, message_id: str) -> dict[str, Any]:
        """A message's API representation (KeyError if unknown)."""
        return self.render(self.messages[message_id])

    def conversation(self, participant: str) -> list[Message]:
        """The participant's messages, oldest first."""
        found = [m for m in self.messages.values() if m.involves(participant)]
        return sorted(found, key=lambda m: (m.created, m.seq))

    # -- callbacks -------------------------------------------------------------

    @property
    def pending_deliveries(self) -> list[Delivery]:
        """Callbacks not answered 200 yet, and not given up on."""
        return [d for d in self.deliveries if d.pending]

    async def deliver_inbound(
        self, message_id: str, url: str | None = None
    ) -> Delivery:
        """POST an inbound message to `url` (default: the account's callback URL)."""
        message = self.messages[message_id]
        if not message.inbound:
            msg = f"message {message_id} is not inbound"
            raise ValueError(msg)
        target = url if url is not None else self.inbound_callback_url
        if target is None:
            msg = "no inbound callback URL is set"
            raise ValueError(msg)
        delivery = self._inbound_delivery(message, target)
        await self._attempt(delivery)
        return delivery

    async def deliver_report(self, message_id: str) -> Delivery:
        """POST a report of a message's newest status to its batch's report URL."""
        message = self.messages[message_id]
        batch = self.batches.get(message.batch_id or "")
        if batch is None or batch.delivery_report_url is None:
            msg = f"message {message_id} was not sent with a deliveryReportUrl"
            raise ValueError(msg)
        delivery = self._report_delivery(message, batch.delivery_report_url)
        await self._attempt(delivery)
        return delivery

    async def retry_pending(self, *, due_only: bool = False) -> list[Delivery]:
        """Attempt pending callbacks again: all, or those due (10 minutes)."""
        now = self.now()
        chosen = [
            d
            for d in self.deliveries
            if d.pending and not d.in_flight and (not due_only or d.due(now))
        ]
        await asyncio.gather(*(self._attempt(d) for d in chosen))
        return chosen

    async def advance(self, delta: timedelta) -> list[Delivery]:
        """Move the clock on, then make the attempts that are due by then."""
        if delta < timedelta(0):
            msg = "the clock only moves forward"
            raise ValueError(msg)
        await self.wait_deliveries()
        self.clock_offset += delta
        return await self.retry_pending(due_only=True)

    async def wait_deliveries(self) -> None:
        """Wait until every callback attempt started in the background has ended."""
        # Only tasks not done: a finished one may still await its clean-up callback.
        while pending := [task for task in self._tasks if not task.done()]:
            await asyncio.gather(*pending, return_exceptions=True)

    def _inbound_delivery(self, message: Message, url: str) -> Delivery:
        payload = self.render(message)
        delivery = Delivery("inbound_message", url, payload, message.id, self.now())
        self.deliveries.append(delivery)
        return delivery

    def _report_delivery(self, message: Message, url: str) -> Delivery:
        delivery = Delivery(
            "delivery_report",
            url,
            self.report_payload(message),
            message.id,
            self.now(),
            max_attempts=MAX_REPORT_ATTEMPTS,
        )
        self.deliveries.append(delivery)
        return delivery

    def report_payload(self, message: Message) -> dict[str, Any]:
        """The report of a message's newest status, its id under the chosen key."""
        status = message.statuses[-1]
        return {
            self.report_id_key: message.id,
            "batchId": message.batch_id,
            "recipient": message.recipient,
            "code": status.code,
            "duration": status.duration,
            "created": _iso(status.created),
            "segments": message.coding[1],
            "price": message.price,
            "currency": CURRENCY,
            "reference": message.reference,
        }

    def _dispatch(self, delivery: Delivery) -> None:
        """Attempt a delivery in the background, if there is an event loop."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # stays pending until retry_pending
        delivery.in_flight = True  # claimed now: retry_pending must not double it
        task = loop.create_task(self._attempt(delivery, claimed=True))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _attempt(self, delivery: Delivery, *, claimed: bool = False) -> None:
        if delivery.in_flight and not claimed:
            return
        delivery.in_flight = True
        try:
            status, error = await post_json(
                delivery.url,
                delivery.payload,
                user_agent=USER_AGENT,
                answer_within=DELIVERY_TIMEOUT,
            )
        finally:
            delivery.in_flight = False
        delivery.attempts.append(Attempt(self.now(), status, error))

    # -- service hooks ---------------------------------------------------------

    def routes(self) -> list[Route]:
        """The API routes."""
        return [
            Route("GET", CONVERSATION_PATH, self._get_conversation, CT_JSON),
            Route(
                "GET",
                CONVERSATION_PATH + "/{direction:mo|mt}",
                self._get_conversation,
                CT_JSON,
            ),
            Route("GET", "/v2/batches", self._get_batches, CT_JSON),
            Route("POST", "/v2/batches", self._post_batch, CT_JSON),
            Route("GET", "/v2/batches/{batch}", self._get_batch, CT_JSON),
            Route(
                "GET", "/v2/batches/{batch}/messages", self._get_batch_messages, CT_JSON
            ),
            Route(
                "GET",
                "/v2/batches/{batch}/messages/{message}",
                self._get_batch_message,
                CT_JSON,
            ),
            Route("GET", "/v2/messages/{message}", self._get_message, CT_JSON),
        ]

    async def before_handler(self, request: web.Request) -> None:
        """Authenticate with `Authorization: Bearer <API key>`."""
        scheme, _, key = request.headers.get("Authorization", "").partition(" ")
        challenge = {"WWW-Authenticate": "Bearer"}
        if scheme.lower() != "bearer" or not key.strip():
            raise Problem(401, detail="Missing API key.", headers=challenge)
        if key.strip() not in self.api_keys:
            raise Problem(401, detail="Invalid API key.", headers=challenge)

    def error_response(self, error: ServiceError) -> web.Response:
        """Problem details (RFC 7807) for every error."""
        body: dict[str, Any] = {
            "type": PROBLEM_TYPES.get(error.status, "about:blank"),
            "title": error.message,
            "status": error.status,
        }
        if isinstance(error, Problem):
            if error.detail is not None:
                body["detail"] = error.detail
            if error.errors is not None:
                body["errors"] = error.errors
        return web.Response(
            status=error.status,
            body=json.dumps(body).encode(),
            headers={"Content-Type": CT_PROBLEM, **error.headers},
        )

    def control_routes(self) -> list[ControlRoute]:
        """State changes for tests, scripts and the demo."""
        return [
            ControlRoute("GET", "/messages", self._control_messages),
            ControlRoute("POST", "/inbound", self._control_inbound),
            ControlRoute("POST", "/outbound", self._control_outbound),
            ControlRoute("POST", "/messages/{id}/statuses", self._control_status),
            ControlRoute(
                "POST", "/messages/{id}/deliver_inbound", self._control_deliver_inbound
            ),
            ControlRoute(
                "POST", "/messages/{id}/deliver_report", self._control_deliver_report
            ),
            ControlRoute("GET", "/callback", self._control_get_callback),
            ControlRoute("PUT", "/callback", self._control_set_callback),
            ControlRoute("GET", "/deliveries", self._control_deliveries),
            ControlRoute("POST", "/deliveries/retry", self._control_retry),
            ControlRoute("PUT", "/api_keys", self._control_api_keys),
            ControlRoute("GET", "/variants", self._control_get_variants),
            ControlRoute("PUT", "/variants", self._control_set_variants),
            ControlRoute("POST", "/clock/advance", self._control_advance),
        ]

    def state(self) -> dict[str, Any]:
        """The account, message counts per participant, callbacks."""
        participants: dict[str, int] = {}
        for message in self.messages.values():
            other = message.sender if message.inbound else message.recipient
            participants[other] = participants.get(other, 0) + 1
        inbound = sum(1 for m in self.messages.values() if m.inbound)
        return {
            "account": self.account_id,
            "numbers": list(self.numbers),
            "api_keys": sorted(self.api_keys),
            "inbound_callback_url": self.inbound_callback_url,
            "messages": len(self.messages),
            "inbound": inbound,
            "outbound": len(self.messages) - inbound,
            "batches": len(self.batches),
            "participants": participants,
            "deliveries": len(self.deliveries),
            "pending_deliveries": len(self.pending_deliveries),
            "discarded_deliveries": sum(d.discarded for d in self.deliveries),
            "variants": self.variants(),
            "now": _iso(self.now()),
        }

    def summary(self) -> list[str]:
        """Credentials and participants worth knowing."""
        counts = self.state()["participants"]
        lines = [f"api_key {key!r} (Authorization: Bearer)" for key in self.api_keys]
        lines.append(f"account {self.account_id}, numbers {', '.join(self.numbers)}")
        lines.append(
            "participants: "
            + ", ".join(
                f"{p} ({n} message{'s' if n != 1 else ''})" for p, n in counts.items()
            )
            + f"; {EMPTY_PARTICIPANT} has none (404)"
        )
        callback = self.inbound_callback_url or "not set (PUT /_control/ip1/callback)"
        lines.append(f"inbound callback: {callback}")
        variants = ", ".join(f"{k} {v!r}" for k, v in self.variants().items())
        lines.append(f"variants: {variants} (PUT /_control/ip1/variants)")
        return lines

    def demo_step(self, step: int) -> None:
        """Advance outbound statuses; now and then a message in or out; retries."""
        for message in list(self.messages.values()):
            if message.inbound:
                continue
            if message.code == STATUS_QUEUED:
                self.set_status(message.id, STATUS_SENT)
            elif message.code == STATUS_SENT and step % 2 == 0:
                self.set_status(message.id, STATUS_DELIVERED)
        if step % 3 == 1:
            senders = (SEED_PARTICIPANT, SEED_PARTICIPANT_2, SEED_NAME)
            sender = senders[(step // 3) % len(senders)]
            self.add_inbound(sender, f"Demo message #{step}")
        elif step % 3 == 2:
            self.add_outbound(
                SEED_PARTICIPANT, f"Demo reply #{step}", status=STATUS_QUEUED
            )
        now = self.now()
        for delivery in self.deliveries:
            if delivery.due(now):
                self._dispatch(delivery)

    # -- API handlers ----------------------------------------------------------

    async def _get_conversation(self, request: web.Request) -> web.Response:
        """A conversation, or its `/mo` (received) or `/mt` (sent) half."""
        participant = request.match_info["participant"]
        if not is_sender(participant):
            raise _invalid(
                {"participant": [f"A participant {SENDER_RULE}."]},
                detail=PARTICIPANT_INVALID,
            )
        paging = _paging(request.query)
        messages = self.conversation(participant)
        if (direction := request.match_info.get("direction")) is not None:
            messages = [m for m in messages if m.inbound == (direction == "mo")]
        if not messages:
            raise Problem(404, detail=NO_MESSAGES)
        return self._page(request.url, list(map(self.render, messages)), paging)

    async def _get_batches(self, request: web.Request) -> web.Response:
        paging = _paging(request.query)
        own = [b for b in self.batches.values() if b.owner == self.account_id]
        batches = sorted(own, key=lambda b: b.created)
        return self._page(request.url, list(map(self._batch_json, batches)), paging)

    async def _get_batch_messages(self, request: web.Request) -> web.Response:
        paging = _paging(request.query)
        batch = self._batch(request)
        messages = [self.render(self.messages[m]) for m in batch.message_ids]
        return self._page(request.url, messages, paging)

    async def _get_batch_message(self, request: web.Request) -> web.Response:
        batch = self._batch(request)
        message_id = request.match_info["message"]
        if message_id not in batch.message_ids:
            raise Problem(404, detail="No such message.")
        return _json(self.render(self.messages[message_id]))

    def _batch(self, request: web.Request) -> Batch:
        """The account's batch the path names, else 404."""
        batch = self.batches.get(request.match_info["batch"])
        if batch is None or batch.owner != self.account_id:
            raise Problem(404, detail="No such batch.")
        return batch

    def _page(
        self, url: URL, items: list[dict[str, Any]], paging: Paging
    ) -> web.Response:
        """One page of a list, with `Link`s to the pages next to it."""
        start, limit, order = paging
        if order == "desc":
            items = items[::-1]
        response = _json(items[start : start + limit])
        links = []
        if start + limit < len(items):
            links.append(self._link(url, start + limit, limit, order, "next"))
        if start > 0:
            links.append(self._link(url, max(0, start - limit), limit, order, "prev"))
        if links:
            response.headers["Link"] = ", ".join(links)
        return response

    def _link(self, url: URL, start: int, limit: int, order: str, rel: str) -> str:
        target = url.update_query(start=str(start), limit=str(limit), order=order)
        # An older IP1 page writes the link without the `;` before its parameters.
        separator = ";" if self.link_style == "standard" else ""
        return f'<{target}>{separator} rel="{rel}"'

    async def _post_batch(self, request: web.Request) -> web.Response:
        mime = request.content_type
        if mime != "application/json" and not mime.endswith("+json"):
            raise Problem(415, detail="Send the batch as application/json.")
        try:
            data = json.loads(await request.read())
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise _invalid({"$": ["The body must be a JSON object."]})
        asked = validate_batch(data)
        batch = self.send_batch(
            asked.sender,
            asked.recipients,
            asked.body,
            delivery_report_url=asked.delivery_report_url,
            reference=asked.reference,
            options=asked.options,
        )
        response = _json(self._batch_json(batch))
        response.set_status(201)
        response.headers["Location"] = str(request.url.with_query(None) / batch.id)
        return response

    async def _get_batch(self, request: web.Request) -> web.Response:
        return _json(self._batch_json(self._batch(request)))

    async def _get_message(self, request: web.Request) -> web.Response:
        message = self.messages.get(request.match_info["message"])
        if message is None or message.owner != self.account_id:
            raise Problem(404, detail="No such message.")
        return _json(self.render(message))

    def _batch_json(self, batch: Batch) -> dict[str, Any]:
        return {
            "id": batch.id,
            "owner": batch.owner,
            "sender": batch.sender,
            "recipients": list(batch.recipients),
            "body": batch.body,
            "deliveryReportUrl": batch.delivery_report_url,
            "reference": batch.reference,
            "deliveryWindows": [
                {"opens": opens, "closes": closes}
                for opens, closes in batch.options.delivery_windows
            ],
            "tags": list(batch.options.tags),
            "created": _iso(batch.created),
            "messages": [self.render(self.messages[m]) for m in batch.message_ids],
        }

    # -- control handlers ------------------------------------------------------

    async def _control_messages(self, request: web.Request) -> object:
        participant = request.query.get("participant")
        if participant is not None:
            return [self.render(m) for m in self.conversation(participant)]
        ordered = sorted(self.messages.values(), key=lambda m: (m.created, m.seq))
        return [self.render(m) for m in ordered]

    async def _control_inbound(self, request: web.Request) -> object:
        body = await read_json_object(request)
        to = body.get("to")
        if to is not None and not isinstance(to, str):
            msg = "field 'to' must be a string"
            raise TypeError(msg)
        message = self.add_inbound(
            _required_str(body, "participant"),
            _required_str(body, "body"),
            to=to,
            at=parse_time(body.get("at")),
        )
        await self.wait_deliveries()
        return message

    async def _control_outbound(self, request: web.Request) -> object:
        body = await read_json_object(request)
        sender = body.get("sender")
        if sender is not None and not isinstance(sender, str):
            msg = "field 'sender' must be a string"
            raise TypeError(msg)
        status = body.get("status", list(DEFAULT_OUTBOUND_STATUSES))
        codes = [status] if not isinstance(status, list) else status
        if not codes or not all(
            isinstance(c, int) and not isinstance(c, bool) for c in codes
        ):
            msg = "field 'status' must be a status code or a non-empty list of them"
            raise TypeError(msg)
        return self.add_outbound(
            _required_str(body, "participant"),
            _required_str(body, "body"),
            sender=sender,
            at=parse_time(body.get("at")),
            status=codes,
        )

    async def _control_status(self, request: web.Request) -> object:
        body = await read_json_object(request)
        code = body.get("code")
        if not isinstance(code, int) or isinstance(code, bool):
            msg = "field 'code' must be a status code"
            raise TypeError(msg)
        message = self.set_status(
            request.match_info["id"], code, parse_time(body.get("at"))
        )
        await self.wait_deliveries()
        return message

    async def _control_deliver_inbound(self, request: web.Request) -> object:
        body = await read_json_object(request)
        url = body.get("url")
        if url is not None and not isinstance(url, str):
            msg = "field 'url' must be a string"
            raise TypeError(msg)
        delivery = await self.deliver_inbound(request.match_info["id"], url)
        return delivery.to_json()

    async def _control_deliver_report(self, request: web.Request) -> object:
        return (await self.deliver_report(request.match_info["id"])).to_json()

    async def _control_get_callback(self, _request: web.Request) -> object:
        return {"url": self.inbound_callback_url}

    async def _control_set_callback(self, request: web.Request) -> object:
        url = (await read_json_object(request)).get("url")
        if url is not None and (not isinstance(url, str) or not _is_http_url(url)):
            msg = "field 'url' must be an absolute http(s) URL or null"
            raise ValueError(msg)
        self.inbound_callback_url = url
        return {"url": url}

    async def _control_deliveries(self, _request: web.Request) -> object:
        return [d.to_json() for d in self.deliveries]

    async def _control_retry(self, request: web.Request) -> object:
        due_only = (await read_json_object(request)).get("due_only", False)
        if not isinstance(due_only, bool):
            msg = "field 'due_only' must be a boolean"
            raise TypeError(msg)
        return [d.to_json() for d in await self.retry_pending(due_only=due_only)]

    async def _control_api_keys(self, request: web.Request) -> object:
        keys = (await read_json_object(request)).get("api_keys")
        if not isinstance(keys, list) or not all(
            isinstance(k, str) and k for k in keys
        ):
            msg = "field 'api_keys' must be a list of non-empty strings"
            raise TypeError(msg)
        self.api_keys = set(keys)
        return {"api_keys": sorted(self.api_keys)}

    async def _control_get_variants(self, _request: web.Request) -> object:
        return self.variants()

    async def _control_set_variants(self, request: web.Request) -> object:
        return self.set_variants(await read_json_object(request))

    async def _control_advance(self, request: web.Request) -> object:
        minutes = require(await read_json_object(request), "minutes", (int, float))
        attempted = await self.advance(timedelta(minutes=minutes))
        return {
            "now": _iso(self.now()),
            "attempted": [d.to_json() for d in attempted],
        }


def _check_code(code: int) -> None:
    if code not in STATUS_CODES:
        msg = f"unknown status code {code!r}; the API knows {sorted(STATUS_CODES)}"
        raise ValueError(msg)


def _required_str(body: Mapping[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str):
        msg = f"field {key!r} must be a string"
        raise TypeError(msg)
    return value


def _is_http_url(value: str) -> bool:
    try:
        url = URL(value)
    except ValueError:
        return False
    return url.is_absolute() and url.scheme in {"http", "https"} and bool(url.host)


def _json(data: object) -> web.Response:
    return web.Response(
        body=json.dumps(data).encode(), headers={"Content-Type": CT_JSON}
    )


def _paging(query: Mapping[str, str]) -> Paging:
    """`start`, `limit` (clamped) and `order` from the query, or a 400."""
    errors: Errors = {}
    start, limit = 0, DEFAULT_LIMIT
    raw_start = query.get("start")
    if raw_start is not None:
        if raw_start.isascii() and raw_start.isdigit():
            start = int(raw_start)
        else:
            errors["start"] = ["start must be a non-negative integer."]
    raw_limit = query.get("limit")
    if raw_limit is not None:
        if raw_limit.isascii() and raw_limit.isdigit() and int(raw_limit) > 0:
            limit = min(int(raw_limit), MAX_LIMIT)
        else:
            errors["limit"] = ["limit must be a positive integer."]
    order = query.get("order", "asc").lower()
    if order not in {"asc", "desc"}:
        errors["order"] = ["order must be 'asc' or 'desc'."]
    if errors:
        raise _invalid(errors)
    return start, limit, order


def personalised(
    body: str, recipients: Sequence[str] | Mapping[str, Mapping[str, str]]
) -> list[tuple[str, str]]:
    """Each recipient and its text: the body, its `{key}`s filled in if templated."""
    if not isinstance(recipients, Mapping):
        return [(recipient, body) for recipient in recipients]
    default = recipients.get(TEMPLATE_DEFAULT, {})
    return [
        (number, _fill(body, {**default, **values}))
        for number, values in recipients.items()
        if number != TEMPLATE_DEFAULT
    ]


def _fill(body: str, values: Mapping[str, str]) -> str:
    return PLACEHOLDER_RE.sub(lambda m: values.get(m.group(1), m.group(0)), body)


def validate_batch(data: Mapping[str, Any]) -> BatchRequest:
    """The batch asked for, or a 400 listing every field error."""
    errors: Errors = {}
    sender = _batch_sender(data.get("sender"), errors)
    recipients = _batch_recipients(data.get("recipients"), errors)
    body = _batch_body(data.get("body"), errors)
    url = data.get("deliveryReportUrl") or None  # one of IP1's pages sends ""
    if url is not None and (not isinstance(url, str) or not _is_http_url(url)):
        errors["deliveryReportUrl"] = ["deliveryReportUrl must be an absolute URL."]
    reference = data.get("reference")
    if reference is not None and not isinstance(reference, str):
        errors["reference"] = ["reference must be a string."]
    options = BatchOptions(
        type=_named(data.get("type"), "type", TYPES, errors, TYPE_SMS),
        datacoding=_named(data.get("datacoding"), "datacoding", DATACODINGS, errors),
        priority=_named(
            data.get("priority"), "priority", PRIORITIES, errors, PRIORITY_NORMAL
        ),
        delivery_windows=_delivery_windows(data.get("deliveryWindows"), errors),
        tags=_tags(data.get("tags"), errors),
    )
    if errors:
        raise _invalid(errors)
    return BatchRequest(sender, recipients, body, url, reference, options)


def _batch_sender(sender: object, errors: Errors) -> str:
    if not isinstance(sender, str) or not sender:
        errors["sender"] = ["The sender field is required."]
        return ""
    if not is_sender(sender):
        errors["sender"] = [f"The sender {SENDER_RULE}."]
    return sender


def _batch_recipients(
    recipients: object, errors: Errors
) -> list[str] | dict[str, dict[str, str]]:
    if isinstance(recipients, dict):
        return _templated_recipients(recipients, errors)
    if not isinstance(recipients, list) or not recipients:
        errors["recipients"] = ["At least one recipient is required."]
        return []
    for index, recipient in enumerate(recipients):
        if not isinstance(recipient, str) or not is_number(recipient):
            errors[f"recipients[{index}]"] = [f"A recipient {RECIPIENT_RULE}."]
    return recipients


def _templated_recipients(
    recipients: dict[str, Any], errors: Errors
) -> dict[str, dict[str, str]]:
    """IP1's templating object: each number's values, and the `default` ones."""
    if not any(key != TEMPLATE_DEFAULT for key in recipients):
        errors["recipients"] = ["At least one recipient is required."]
    for key, values in recipients.items():
        if key != TEMPLATE_DEFAULT and not is_number(key):
            errors[f"recipients.{key}"] = [f"A recipient {RECIPIENT_RULE}."]
        elif not isinstance(values, dict) or not all(
            isinstance(value, str) for value in values.values()
        ):
            errors[f"recipients.{key}"] = ["Template values must be texts."]
    return recipients


def _batch_body(body: object, errors: Errors) -> str:
    if not isinstance(body, str) or not body.strip():
        errors["body"] = ["The body field is required."]
        return ""
    if len(body) > MAX_BODY:
        errors["body"] = [f"The body must be at most {MAX_BODY} characters."]
    return body


def _named[D](
    value: object,
    key: str,
    names: Mapping[str, int],
    errors: Errors,
    default: D = None,  # type: ignore[assignment]
) -> int | D:
    """An option given by number or by name (any case); `default` when absent."""
    if value is None:
        return default
    if isinstance(value, str) and value.lower() in names:
        return names[value.lower()]
    if type(value) is int and value in names.values():  # bool is no option
        return value
    choices = ", ".join(f"{number} ({name})" for name, number in names.items())
    errors[key] = [f"{key} must be one of {choices}."]
    return default


def _delivery_windows(
    windows: object, errors: Errors
) -> tuple[tuple[str | None, str | None], ...]:
    if windows is None:
        return ()
    if not isinstance(windows, list):
        errors["deliveryWindows"] = ["deliveryWindows must be a list."]
        return ()
    valid: list[tuple[str | None, str | None]] = []
    for index, window in enumerate(windows):
        bounds = (
            (window.get("opens"), window.get("closes"))
            if isinstance(window, dict)
            else None
        )
        if bounds is None or not all(b is None or _is_time(b) for b in bounds):
            errors[f"deliveryWindows[{index}]"] = [
                "A window has 'opens' and 'closes': ISO 8601 times or null."
            ]
        else:
            valid.append(bounds)
    return tuple(valid)


def _is_time(value: object) -> bool:
    """Whether a value is an ISO 8601 time (IP1's C# sample may send no offset)."""
    if not isinstance(value, str):
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _tags(tags: object, errors: Errors) -> tuple[str, ...]:
    if tags is None:
        return ()
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        errors["tags"] = ["tags must be a list of texts."]
        return ()
    return tuple(tags)
