"""What Mobiniti reports, as CommHub events: from a webhook delivery or a poll.

A delivery is read field by field with the same helpers as every API record (one
way of reading records, and cheap on the webhook path: `bench/mobiniti_webhooks.py`).
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
import hashlib
import json
from typing import Any

from ...api.mobiniti import MobinitiContact, MobinitiMessage, parse_mobiniti_time
from ...api.records import MalformedRecordError, optional_field, required_field
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


@dataclass(frozen=True, slots=True)
class MobinitiEvent:
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


def _present(record: Mapping[str, Any], key: str) -> None:
    """The documented payload always has the key, even when its value is null."""
    if key not in record:
        raise MalformedRecordError(key)


def _time(record: Mapping[str, Any], key: str) -> str | None:
    """A time as a normalised ISO 8601 string (so keys and data match); None if null."""
    value = optional_field(record, key, str)
    if value is None:
        return None
    try:
        return parse_mobiniti_time(value).isoformat()
    except ValueError as err:
        raise MalformedRecordError(key) from err


def _required_time(record: Mapping[str, Any], key: str) -> str:
    if (value := _time(record, key)) is None:
        raise MalformedRecordError(key)
    return value


def _count(
    record: Mapping[str, Any], key: str, *, required: bool = False
) -> int | None:
    value = (required_field if required else optional_field)(record, key, int)
    if value is not None and value < 0:
        raise MalformedRecordError(key)
    return value


def _code(record: Mapping[str, Any], key: str) -> str | int:
    """A status code: the document writes some as text, some as numbers."""
    value = record.get(key)
    return value if isinstance(value, str) else required_field(record, key, int)


def _contact(payload: Mapping[str, Any], *, phone_required: bool) -> dict[str, Any]:
    """The contact a delivery is about; its phone number is null for some kinds."""
    _present(payload, "phone_number")
    for name in ("first_name", "last_name", "email"):
        optional_field(payload, name, str)
    _time(payload, "created_at")
    _time(payload, "updated_at")
    read = required_field if phone_required else optional_field
    return {
        "contact_id": required_field(payload, "id", str),
        "phone_number": read(payload, "phone_number", str),
    }


def _status(record: object) -> dict[str, Any]:
    """One line of a delivery report's `statuses`."""
    if not isinstance(record, dict):
        raise MalformedRecordError("")
    _code(record, "code")
    optional_field(record, "status", str)
    _count(record, "count")
    optional_field(record, "success", bool)
    optional_field(record, "bounce", bool)
    recipients = optional_field(record, "recipients", list)
    if recipients is not None and not all(isinstance(r, str) for r in recipients):
        raise MalformedRecordError("recipients")
    return record


def _each[T](
    payload: Mapping[str, Any], key: str, read: Callable[[object], T]
) -> list[T]:
    """A list field read item by item; a fault is named `key.index.field`."""
    items = required_field(payload, key, list)
    result = []
    for index, item in enumerate(items):
        try:
            result.append(read(item))
        except MalformedRecordError as err:
            raise MalformedRecordError(
                ".".join(p for p in (key, str(index), err.field) if p)
            ) from err
    return result


def _message(record: object) -> dict[str, Any]:
    if not isinstance(record, dict):
        raise MalformedRecordError("")
    return record


def _content_key(kind: str, payload: Mapping[str, Any]) -> str:
    """A key for a delivery that has no natural id: its content."""
    digest = hashlib.sha256(CANONICAL.encode(payload).encode()).hexdigest()
    return f"{kind}:{digest}"


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


def _unsubscribe(payload: Mapping[str, Any]) -> MobinitiEvent:
    contact = _contact(payload, phone_required=False)
    optional_field(payload, "to", str)
    _present(payload, "unsubscribed_at")
    unsubscribed_at = _time(payload, "unsubscribed_at")
    at = unsubscribed_at or _time(payload, "updated_at")
    return MobinitiEvent(
        "unsubscribe",
        unsubscribe_key(contact["contact_id"], at),
        {
            **contact,
            "to": payload.get("to"),
            "unsubscribed_at": unsubscribed_at,
            "first_name": payload.get("first_name"),
            "last_name": payload.get("last_name"),
            "email": payload.get("email"),
        },
    )


def _inbound(payload: Mapping[str, Any]) -> MobinitiEvent:
    contact = _contact(payload, phone_required=False)
    _present(payload, "message")
    message = optional_field(payload, "message", str)
    optional_field(payload, "short_code", str)
    _time(payload, "unsubscribed_at")
    received_at = _required_time(payload, "received_at")
    return MobinitiEvent(
        "inbound_message",
        inbound_key(
            contact["phone_number"] or contact["contact_id"], received_at, message
        ),
        {
            "phone_number": contact["phone_number"],
            "message": message,
            "received_at": received_at,
            "contact_id": contact["contact_id"],
        },
    )


def _delivery_report(payload: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "total_messages": _count(payload, "total_messages", required=True),
        "statuses": _each(payload, "statuses", _status),
        "messages": _each(payload, "messages", _message),
    }


def _contact_status(payload: Mapping[str, Any]) -> dict[str, Any]:
    contact = _contact(payload, phone_required=True)
    if (status := payload.get("status")) not in CONTACT_STATUSES:
        raise MalformedRecordError("status")
    return {
        **contact,
        "status": status,
        "previous_phone_number": optional_field(payload, "previous_phone_number", str),
    }


def _bounce(payload: Mapping[str, Any]) -> dict[str, Any]:
    contact = _contact(payload, phone_required=True)
    _time(payload, "unsubscribed_at")
    return {**contact, "bounces": _count(payload, "bounces", required=True)}


def _rejection(payload: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "code": _code(payload, "code"),
        "message": required_field(payload, "message", str),
        "description": required_field(payload, "description", str),
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
