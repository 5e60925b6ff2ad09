"""What Mobiniti reports, as CommHub events: from a webhook delivery or a poll.

A delivery is checked against one table of field rules per kind with
`check_fields`, the helper under every API record's reader (one way of reading
records, and cheap on the webhook path: `bench/mobiniti_webhooks.py`).
"""

from collections.abc import Callable, Mapping
from contextlib import suppress
from datetime import datetime
import hashlib
import json
from typing import Any, NamedTuple

import orjson

from ...api.mobiniti import MobinitiContact, MobinitiMessage, parse_mobiniti_time
from ...api.records import (
    OPTIONAL,
    PRESENT,
    REQUIRED,
    FieldRule,
    MalformedRecordError,
    Presence,
    check_fields,
)
from ...webhooks import InvalidPayloadError

WEBHOOK_KINDS = (
    "unsubscribe",
    "inbound_message",
    "delivery_report",
    "contact_status",
    "bounce",
    "rejection",
)
CONTACT_STATUSES = ("suspended", "deactivated", "resumed", "transferred")
# The content key's canonical JSON (one encoder: building one per call costs more).
CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"))


class MobinitiEvent(NamedTuple):
    """One event to fire: its kind, dedupe key, data and when it happened."""

    kind: str
    key: str
    data: dict[str, Any]
    at: datetime | None = None


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


def _is_time(value: str) -> bool:
    """Whether `parse_mobiniti_time` takes the text: ISO 8601 with an offset."""
    try:
        return datetime.fromisoformat(value).tzinfo is not None
    except ValueError:
        return False


def _not_negative(value: int) -> bool:
    return value >= 0


def _all_texts(values: list[Any]) -> bool:
    return all(isinstance(value, str) for value in values)


def _iso(value: str | None) -> str | None:
    """A checked time as a normalised ISO 8601 string, so keys and data match."""
    return None if value is None else parse_mobiniti_time(value).isoformat()


def _contact_rules(phone: Presence) -> tuple[FieldRule, ...]:
    """The contact a delivery is about; its phone number is null for some kinds.

    The documented payload always has `phone_number`, even when it is null.
    """
    return (
        ("phone_number", str, phone, None),
        ("first_name", str, OPTIONAL, None),
        ("last_name", str, OPTIONAL, None),
        ("email", str, OPTIONAL, None),
        ("created_at", str, OPTIONAL, _is_time),
        ("updated_at", str, OPTIONAL, _is_time),
        ("id", str, REQUIRED, None),
    )


# A status code: the document writes some as text, some as numbers.
CODE: FieldRule = ("code", (str, int), REQUIRED, None)
UNSUBSCRIBE = (
    *_contact_rules(PRESENT),
    ("to", str, OPTIONAL, None),
    ("unsubscribed_at", str, PRESENT, _is_time),
)
INBOUND = (
    *_contact_rules(PRESENT),
    ("message", str, PRESENT, None),
    ("short_code", str, OPTIONAL, None),
    ("unsubscribed_at", str, OPTIONAL, _is_time),
    ("received_at", str, REQUIRED, _is_time),
)
DELIVERY_REPORT = (
    ("total_messages", int, REQUIRED, _not_negative),
    ("statuses", list, REQUIRED, None),
    ("messages", list, REQUIRED, None),
)
REPORT_STATUS = (
    CODE,
    ("status", str, OPTIONAL, None),
    ("count", int, OPTIONAL, _not_negative),
    ("success", bool, OPTIONAL, None),
    ("bounce", bool, OPTIONAL, None),
    ("recipients", list, OPTIONAL, _all_texts),
)
CONTACT_STATUS = (
    *_contact_rules(REQUIRED),
    ("status", str, REQUIRED, CONTACT_STATUSES.__contains__),
    ("previous_phone_number", str, OPTIONAL, None),
)
BOUNCE = (
    *_contact_rules(REQUIRED),
    ("unsubscribed_at", str, OPTIONAL, _is_time),
    ("bounces", int, REQUIRED, _not_negative),
)
REJECTION = (
    CODE,
    ("message", str, REQUIRED, None),
    ("description", str, REQUIRED, None),
)


def _check_items(
    payload: Mapping[str, Any], key: str, rules: tuple[FieldRule, ...]
) -> None:
    """Each object of a checked list; a fault is named `key.index.field`."""
    for index, item in enumerate(payload[key]):
        try:
            if not isinstance(item, dict):
                raise MalformedRecordError("")
            check_fields(item, rules)
        except MalformedRecordError as err:
            raise MalformedRecordError(
                ".".join(p for p in (key, str(index), err.field) if p)
            ) from err


def _canonical(payload: Mapping[str, Any]) -> bytes:
    """The payload as sorted, compact JSON, non-ASCII escaped: a content key's input.

    orjson writes the stdlib's bytes when they are printable ASCII, ten times
    faster, except for numbers between 1e-9 and 1e-4, which Mobiniti never sends;
    anything else takes the stdlib, so the keys stay those earlier versions stored.
    """
    with suppress(orjson.JSONEncodeError):  # e.g. an int beyond 64 bits
        text = orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)
        if text.isascii() and b"\x7f" not in text:
            return text
    return CANONICAL.encode(payload).encode()


def _content_key(kind: str, payload: Mapping[str, Any]) -> str:
    """A key for a delivery that has no natural id: its content."""
    return f"{kind}:{hashlib.sha256(_canonical(payload)).hexdigest()}"


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


def _contact(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The checked contact a delivery is about, as the event names it."""
    return {"contact_id": payload["id"], "phone_number": payload["phone_number"]}


def _unsubscribe(payload: Mapping[str, Any]) -> MobinitiEvent:
    check_fields(payload, UNSUBSCRIBE)
    unsubscribed_at = _iso(payload["unsubscribed_at"])
    return MobinitiEvent(
        "unsubscribe",
        unsubscribe_key(
            payload["id"], unsubscribed_at or _iso(payload.get("updated_at"))
        ),
        {
            **_contact(payload),
            "to": payload.get("to"),
            "unsubscribed_at": unsubscribed_at,
            "first_name": payload.get("first_name"),
            "last_name": payload.get("last_name"),
            "email": payload.get("email"),
        },
    )


def _inbound(payload: Mapping[str, Any]) -> MobinitiEvent:
    check_fields(payload, INBOUND)
    phone_number, message = payload["phone_number"], payload["message"]
    received_at = parse_mobiniti_time(payload["received_at"]).isoformat()
    return MobinitiEvent(
        "inbound_message",
        inbound_key(phone_number or payload["id"], received_at, message),
        {
            "phone_number": phone_number,
            "message": message,
            "received_at": received_at,
            "contact_id": payload["id"],
        },
    )


def _delivery_report(payload: Mapping[str, Any]) -> dict[str, Any]:
    check_fields(payload, DELIVERY_REPORT)
    _check_items(payload, "statuses", REPORT_STATUS)
    _check_items(payload, "messages", ())
    return {
        "total_messages": payload["total_messages"],
        "statuses": payload["statuses"],
        "messages": payload["messages"],
    }


def _contact_status(payload: Mapping[str, Any]) -> dict[str, Any]:
    check_fields(payload, CONTACT_STATUS)
    return {
        **_contact(payload),
        "status": payload["status"],
        "previous_phone_number": payload.get("previous_phone_number"),
    }


def _bounce(payload: Mapping[str, Any]) -> dict[str, Any]:
    check_fields(payload, BOUNCE)
    return {**_contact(payload), "bounces": payload["bounces"]}


def _rejection(payload: Mapping[str, Any]) -> dict[str, Any]:
    check_fields(payload, REJECTION)
    return {
        "code": payload["code"],
        "message": payload["message"],
        "description": payload["description"],
    }


# Kinds with an identity of their own; the others are keyed on their content.
IDENTIFIED: dict[str, Callable[[Mapping[str, Any]], MobinitiEvent]] = {
    "unsubscribe": _unsubscribe,
    "inbound_message": _inbound,
}
BY_CONTENT: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
    "delivery_report": _delivery_report,
    "contact_status": _contact_status,
    "bounce": _bounce,
    "rejection": _rejection,
}


def event_from_webhook(kind: str, payload: dict[str, Any]) -> MobinitiEvent:
    """The event a delivery stands for (InvalidPayloadError if it does not validate)."""
    try:
        if (identified := IDENTIFIED.get(kind)) is not None:
            return identified(payload)
        data = BY_CONTENT[kind](payload)
    except MalformedRecordError as err:
        raise InvalidPayloadError(f"the {err.field!r} field is invalid") from err
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
