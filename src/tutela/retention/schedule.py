"""Dates of retention: a period of N months after an anchor, exactly, month ends included."""

from __future__ import annotations

from calendar import monthrange
from datetime import date, timedelta

__all__ = ["add_months", "latest_anchor"]


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day when it has no such day
    (31 January + 1 month = 28 or 29 February)."""
    years, month_index = divmod(day.month - 1 + months, 12)
    year, month = day.year + years, month_index + 1
    return date(year, month, min(day.day, monthrange(year, month)[1]))


def latest_anchor(as_of: date, months: int) -> date:
    """The latest anchor whose period of `months` has ended by `as_of`.

    A period has ended when `add_months(anchor, months) <= as_of`; since that is monotonic in
    the anchor, the anchors whose period has ended are exactly those up to this date, which
    lets a single SQL comparison select them.
    """
    candidate = add_months(as_of, -months)
    while add_months(candidate + timedelta(days=1), months) <= as_of:
        candidate += timedelta(days=1)
    while add_months(candidate, months) > as_of:
        candidate -= timedelta(days=1)
    return candidate
