"""Reading values back from a Store: never trust their shape."""

from datetime import datetime


def stored_time(value: object) -> datetime | None:
    """An aware datetime from its ISO form; None for anything else (naive too)."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    # A naive time cannot be compared with the aware times it is used with.
    return parsed if parsed.tzinfo is not None else None
