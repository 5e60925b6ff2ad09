"""Client for the IP1 SMS API v2: conversations and batches."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from http import HTTPStatus
import re
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import aiohttp

from .errors import CommHubNotFoundError, CommHubRequestError, CommHubResponseError
from .http import HttpClient, RawResponse
from .records import (
    MalformedRecordError,
    Page,
    optional_field,
    optional_time,
    parse_records,
    required_field,
)

IP1_API_URL = "https://api.ip1sms.com"
# The API's largest page; a conversation rarely grows more than this between polls.
# A number to ask about when no participant is followed (to prove the key).
PROBE_PARTICIPANT = "46700000000"
PAGE_LIMIT = 100
MAX_BODY_LENGTH = 2000
SENDER_RE = re.compile(r"[A-Za-z0-9]{3,11}|[0-9]{1,15}")
NUMBER_RE = re.compile(r"[0-9]{1,15}")
# How people write numbers: "+46 70-123 45 67", "(070) 1234567".
_WRITTEN_NUMBER_RE = re.compile(r"\+?[0-9(][0-9 ().-]*")
# A `Link` header's targets, each with its parameters: IP1's pages write them both
# as `<url>; rel="next"` and (an older page) as `<url> rel="next"`.
_LINK_RE = re.compile(r"<([^>]*)>([^<]*)")
_REL_RE = re.compile(r'\brel\s*=\s*(?:"([^"]*)"|([^\s;,"]+))', re.IGNORECASE)


def normalise_number(value: str) -> str | None:
    """A phone number as IP1 wants it (digits only, no `+`); None if it is not one."""
    value = value.strip()
    if value.startswith("+"):
        # "+46 (0)70 ...": the trunk zero in brackets is not dialled internationally.
        value = value.replace("(0)", "")
    if not _WRITTEN_NUMBER_RE.fullmatch(value):
        return None
    digits = re.sub(r"[^0-9]", "", value)
    return digits if NUMBER_RE.fullmatch(digits) else None


def normalise_participant(value: str) -> str | None:
    """A phone number (digits only) or a sender name; None if it is neither."""
    value = value.strip()
    number = normalise_number(value)
    if number is not None:
        return number
    return value if SENDER_RE.fullmatch(value) else None


@dataclass(frozen=True, slots=True)
class Ip1Message:
    """A message as a conversation lists it, reduced to what the integration uses."""

    id: str
    sender: str
    recipient: str
    body: str
    created: datetime  # the earliest status time: when the message came to be
    status: int | None  # the newest status code
    status_at: datetime | None
    batch_id: str | None

    def inbound_from(self, participant: str) -> bool:
        """Whether the participant sent it.

        `direction` is left aside: the seed leaves 0/1 undefined and IP1's pages
        write "mo"/"mt" instead.
        """
        return self.sender == participant


@dataclass(frozen=True, slots=True)
class Ip1SentMessage:
    """One recipient's message of a batch just sent (id None: IP1 did not say)."""

    id: str | None
    recipient: str
    status: int | None


@dataclass(frozen=True, slots=True)
class Ip1Batch:
    """A batch just sent: its id and one message per recipient."""

    id: str | None
    messages: list[Ip1SentMessage]


def _statuses(record: Mapping[str, Any]) -> list[tuple[datetime, int]]:
    """(time, code) of every status, oldest first; later entries win ties."""
    raw = optional_field(record, "statuses", list) or []
    statuses: list[tuple[datetime, int]] = []
    for status in raw:
        if not isinstance(status, dict):
            raise MalformedRecordError("statuses")
        created = optional_time(status, "created")
        code = required_field(status, "code", int)
        if created is None:
            raise MalformedRecordError("statuses")
        statuses.append((created, code))
    return sorted(statuses, key=lambda status: status[0])


def parse_message(record: Mapping[str, Any]) -> Ip1Message:
    """A message from its API representation."""
    statuses = _statuses(record)
    # Without statuses: a callback's own `created`, else `modified`.
    created = (
        statuses[0][0]
        if statuses
        else optional_time(record, "created") or optional_time(record, "modified")
    )
    if created is None:
        raise MalformedRecordError("statuses")
    return Ip1Message(
        id=required_field(record, "id", str),
        sender=required_field(record, "sender", str),
        recipient=required_field(record, "recipient", str),
        body=optional_field(record, "body", str) or "",
        created=created,
        status=statuses[-1][1] if statuses else None,
        status_at=statuses[-1][0] if statuses else None,
        batch_id=optional_field(record, "batchId", str),
    )


def _next_link(link_header: str) -> str | None:
    """The target of the link whose relations include `next`."""
    for link in _LINK_RE.finditer(link_header):
        rel = _REL_RE.search(link.group(2))
        if rel and "next" in (rel.group(1) or rel.group(2)).lower().split():
            return link.group(1)
    return None


def _next_start(link_header: str | None) -> int | None:
    """The `start` of the page the `Link` header's rel="next" points at.

    Only the offset is taken: the link's host is never sent the key.
    """
    target = _next_link(link_header) if link_header else None
    if target is None:
        return None
    try:
        return int(parse_qs(urlsplit(target).query)["start"][0])
    except (KeyError, ValueError) as err:
        raise CommHubResponseError("Link rel=next without a start") from err


def _sent_batch(response: RawResponse, recipients: Sequence[str]) -> Ip1Batch:
    """What a 2xx to a batch said: the batch and message ids where it gave them.

    IP1 accepted the batch; an answer of another shape never turns it into a failure.
    """
    try:
        answer = response.json_object()
    except CommHubResponseError:
        answer = {}
    batch_id = answer.get("id")
    raw = answer.get("messages")
    messages, _ = parse_records(raw if isinstance(raw, list) else [], parse_message)
    by_recipient: dict[str, list[Ip1Message]] = {}
    for message in messages:
        by_recipient.setdefault(message.recipient, []).append(message)
    sent = []
    for recipient in recipients:
        queue = by_recipient.get(recipient)
        if queue:
            message = queue.pop(0)
            sent.append(Ip1SentMessage(message.id, recipient, message.status))
        else:
            sent.append(Ip1SentMessage(None, recipient, None))
    return Ip1Batch(batch_id if isinstance(batch_id, str) else None, sent)


class Ip1Client(HttpClient):
    """One IP1 account, authenticated by its API key."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        api_key: str,
        base_url: str = IP1_API_URL,
        **kwargs: Any,
    ) -> None:
        """Authenticate with the account's API key."""
        super().__init__(session, base_url, **kwargs)
        self._authorization = f"Bearer {api_key}"

    def _auth_headers(self) -> Mapping[str, str]:
        return {"Authorization": self._authorization, "Accept": "application/json"}

    def _error_message(self, response: RawResponse) -> str:
        """RFC 7807 problem details: the detail, else the title, and field errors."""
        try:
            problem = response.json_object()
        except CommHubResponseError:
            return super()._error_message(response)
        parts = [
            text
            for key in ("detail", "title")
            if isinstance(text := problem.get(key), str) and text
        ][:1]
        errors = problem.get("errors")
        if isinstance(errors, dict):
            parts.extend(
                f"{field}: {text}"
                for field, texts in errors.items()
                if isinstance(texts, list)
                for text in texts
                if isinstance(text, str)
            )
        return " ".join(parts) or super()._error_message(response)

    async def conversation_page(
        self, participant: str, start: int = 0, *, limit: int = PAGE_LIMIT
    ) -> Page[Ip1Message]:
        """One page of the messages with a participant, newest first.

        A participant without messages is an empty page (the API answers 404).
        """
        try:
            response = await self.request(
                "GET",
                f"/v2/conversations/{quote(participant, safe='')}",
                params={"start": start, "limit": limit, "order": "desc"},
            )
        except CommHubNotFoundError:
            return Page([], [], None)
        items, malformed = parse_records(response.json_list(), parse_message)
        next_start = _next_start(response.headers.get("Link"))
        if next_start is not None and next_start <= start:
            raise CommHubResponseError("Link rel=next goes backwards")
        return Page(items, malformed, next_start)

    async def check_key(self) -> None:
        """Prove the key without a followed participant: any answer but 401 does.

        A number nobody follows is asked for; its 404 (no messages) is an answer.
        """
        try:
            await self.conversation_page(PROBE_PARTICIPANT, limit=1)
        except CommHubRequestError as err:
            if err.status != HTTPStatus.BAD_REQUEST:
                raise

    async def send_batch(
        self,
        sender: str,
        recipients: Sequence[str],
        body: str,
        *,
        delivery_report_url: str | None = None,
    ) -> Ip1Batch:
        """Send one message to each recipient (digits only)."""
        payload: dict[str, Any] = {
            "sender": sender,
            "recipients": list(recipients),
            "body": body,
        }
        if delivery_report_url is not None:
            payload["deliveryReportUrl"] = delivery_report_url
        response = await self.request("POST", "/v2/batches", json=payload)
        return _sent_batch(response, recipients)
