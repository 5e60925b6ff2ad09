"""Typed records from JSON lists: parse what is well-formed, name what is not."""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any, cast


class MalformedRecordError(ValueError):
    """One record of a list does not have the documented fields and types."""

    def __init__(self, field: str) -> None:
        """Name the field at fault."""
        super().__init__(field)
        self.field = field


@dataclass(frozen=True, slots=True)
class MalformedRecord:
    """A record that was skipped: its id when it has one, and the field at fault."""

    identity: str | None
    field: str


@dataclass(frozen=True, slots=True)
class Page[T]:
    """One page of a list: the records that parsed, and what did not."""

    items: list[T]
    malformed: list[MalformedRecord]
    next_page: int | None


class Presence(Enum):
    """How a field may be missing."""

    OPTIONAL = "absent or null"
    PRESENT = "the key is there, its value may be null"
    REQUIRED = "not null"


# Short names for the rule tables.
OPTIONAL, PRESENT, REQUIRED = Presence.OPTIONAL, Presence.PRESENT, Presence.REQUIRED

# The key, the type(s) of a value that is not null, how it may be missing, and a
# test that value must also pass (or None).
type FieldRule = tuple[
    str, type | tuple[type, ...], Presence, Callable[[Any], bool] | None
]


def optional_field[T](record: Mapping[str, Any], key: str, kind: type[T]) -> T | None:
    value = record.get(key)
    if value is None:
        return None
    check_fields(record, ((key, kind, OPTIONAL, None),))
    return cast(T, value)


def required_field[T](record: Mapping[str, Any], key: str, kind: type[T]) -> T:
    value = optional_field(record, key, kind)
    if value is None:
        raise MalformedRecordError(key)
    return value


def check_fields(record: Mapping[str, Any], rules: Iterable[FieldRule]) -> None:
    """Raise MalformedRecordError naming the first field that breaks its rule.

    One loop over a table instead of a call per field: webhook deliveries are read
    with it in the event loop, many per second.
    """
    for key, kind, presence, test in rules:
        value = record.get(key)
        if value is None:
            if presence is REQUIRED or (presence is PRESENT and key not in record):
                raise MalformedRecordError(key)
        elif (
            not isinstance(value, kind)
            # bool is an int subclass, but true is never an id or a count.
            or ((value is True or value is False) and kind is not bool)
            or (test is not None and not test(value))
        ):
            raise MalformedRecordError(key)


def optional_time(record: Mapping[str, Any], key: str) -> datetime | None:
    value = optional_field(record, key, str)
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as err:
        raise MalformedRecordError(key) from err
    if parsed.tzinfo is None:
        raise MalformedRecordError(key)
    return parsed


def required_time(record: Mapping[str, Any], key: str) -> datetime:
    value = optional_time(record, key)
    if value is None:
        raise MalformedRecordError(key)
    return value


def parse_records[T](
    data: list[Any], parse: Callable[[Mapping[str, Any]], T]
) -> tuple[list[T], list[MalformedRecord]]:
    """Every record that parses, and the identity and field of each that does not."""
    items: list[T] = []
    malformed: list[MalformedRecord] = []
    for record in data:
        if not isinstance(record, dict):
            malformed.append(MalformedRecord(None, "record"))
            continue
        try:
            items.append(parse(record))
        except MalformedRecordError as err:
            identity = record.get("uuid", record.get("id"))
            malformed.append(
                MalformedRecord(
                    str(identity) if isinstance(identity, str | int) else None,
                    err.field,
                )
            )
    return items, malformed
