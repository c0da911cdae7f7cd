"""The one clock: every time-dependent function asks it, so tests and `--as-of` can move time."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time

__all__ = ["as_of_datetime", "now", "today", "travel", "utc_naive"]

_frozen: datetime | None = None


def now() -> datetime:
    return _frozen or datetime.now(UTC)


def today() -> date:
    return now().date()


@contextmanager
def travel(moment: datetime) -> Iterator[None]:
    """Make the clock read `moment` inside the block (tests, simulations)."""
    global _frozen
    previous, _frozen = _frozen, moment
    try:
        yield
    finally:
        _frozen = previous


def as_of_datetime(day: date | None) -> datetime:
    """The instant a command runs `--as-of` a day: the end of that day, or now when no day is given."""
    if day is None:
        return now()
    return datetime.combine(day, time.max, tzinfo=UTC)


def utc_naive(moment: datetime) -> datetime:
    """Datetimes are stored as naive UTC on every engine; aware ones are converted first."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment
