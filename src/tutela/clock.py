"""The one clock: every time-dependent function asks it, so tests and `--as-of` can move time."""

from datetime import UTC, date, datetime, time

__all__ = ["as_of_datetime", "now", "today"]


def now() -> datetime:
    return datetime.now(UTC)


def today() -> date:
    return now().date()


def as_of_datetime(day: date | None) -> datetime:
    """The instant a command runs `--as-of` a day: the end of that day, or now when no day is given."""
    if day is None:
        return now()
    return datetime.combine(day, time.max, tzinfo=UTC)
