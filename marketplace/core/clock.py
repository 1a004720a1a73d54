"""The server's clock. Deadlines are judged by it alone; tests freeze it with time-machine.

Where a deadline decides whether a write is accepted (a submission), the database's clock decides,
inside the writing transaction: `marketplace.core.db.stamp_before`. The test suite sets
`database_follows_app_clock` so that the database's clock follows the frozen one too."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

database_follows_app_clock = False  # tests only: PostgreSQL's clock cannot be frozen


def now() -> datetime:
    """The current time as an aware UTC datetime."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Make a datetime from the database aware UTC (SQLite may hand back naive or offset values)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def from_db(value: datetime | str | None) -> datetime | None:
    """A timestamp read with raw SQL: SQLite hands it back as text, PostgreSQL as a datetime."""
    if value is None:
        return None
    return as_utc(value if isinstance(value, datetime) else datetime.fromisoformat(str(value)))


def rfc3339(value: datetime | None) -> str | None:
    if value is None:
        return None
    return as_utc(value).isoformat().replace("+00:00", "Z")


BRUSSELS = ZoneInfo("Europe/Brussels")
DEADLINE_HOUR = 12  # default deadlines fall at noon, Belgian time: never at the second someone clicked "publish"


def deadline_on_or_after(value: datetime) -> datetime:
    """The first 12:00 Brussels time at or after `value`, as aware UTC (daylight saving included)."""
    local = as_utc(value).astimezone(BRUSSELS)
    noon = local.replace(hour=DEADLINE_HOUR, minute=0, second=0, microsecond=0)
    if noon < local:
        noon = (local + timedelta(days=1)).replace(hour=DEADLINE_HOUR, minute=0, second=0, microsecond=0)
    return noon.astimezone(UTC)
