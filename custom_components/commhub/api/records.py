"""Typed records from JSON lists: parse what is well-formed, name what is not."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any


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


def optional_field[T](record: Mapping[str, Any], key: str, kind: type[T]) -> T | None:
    value = record.get(key)
    if value is None:
        return None
    # bool is an int subclass, but true is never an id or a duration.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise MalformedRecordError(key)
    return value


def required_field[T](record: Mapping[str, Any], key: str, kind: type[T]) -> T:
    value = optional_field(record, key, kind)
    if value is None:
        raise MalformedRecordError(key)
    return value


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
