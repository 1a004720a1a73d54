"""The server's clock. Deadlines are judged by it alone; tests freeze it with time-machine."""

from datetime import UTC, datetime


def now() -> datetime:
    """The current time as an aware UTC datetime."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Make a datetime from the database aware UTC (SQLite may hand back naive or offset values)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def rfc3339(value: datetime | None) -> str | None:
    if value is None:
        return None
    return as_utc(value).isoformat().replace("+00:00", "Z")
