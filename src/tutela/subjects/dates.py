"""Dates a write may not bring in: a lifecycle date (a death included) that has not come yet
or that runs backwards, and a consent that has lapsed already.

Each would mislead what follows from it: retention counts from lifecycle dates, the gate closes
purposes from a death, a lapsed consent grants nothing. Pure, given the moment of the write
`at` (`--as-of` moves it), so that the API, the import, the demo and the consent ledger refuse
alike. A problem names the field and the rule, never the date.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from tutela.clock import utc_naive
from tutela.errors import InvalidInput

if TYPE_CHECKING:
    from tutela.subjects.validation import ValidRecord

__all__ = [
    "ORDER",
    "check_record",
    "consent_problem",
    "has_begun",
    "lifecycle_problem",
    "record_problem",
]

# A day begins first at UTC+14. A date someone wrote down where they live may be tomorrow in
# UTC (in Paris just after midnight): it is in the future only once it has begun nowhere.
EARLIEST_ZONE = timedelta(hours=14)

# Lifecycle dates that come in this order: (earlier, later).
ORDER = (
    ("first_contact_at", "last_contact_at"),
    ("subscription_started_at", "subscription_ended_at"),
)


def has_begun(day: date, at: datetime) -> bool:
    """Whether `day` has begun somewhere on Earth at the moment `at`."""
    return day <= (utc_naive(at) + EARLIEST_ZONE).date()


def lifecycle_problem(
    given: Mapping[str, date | None],
    at: datetime,
    stored: Mapping[str, date | None] | None = None,
) -> tuple[str, str] | None:
    """(field, rule) of the first date of `given` in the future or out of order, or None.

    `stored` holds the person's dates already known: an update that gives one date of a pair
    is checked against the other as it will then stand.
    """
    for name, day in given.items():
        if day is not None and not has_begun(day, at):
            return f"lifecycle.{name}", "cannot be in the future"
    merged = {**(stored or {}), **given}
    for earlier, later in ORDER:
        first, last = merged.get(earlier), merged.get(later)
        if first is None or last is None or last >= first:
            continue
        if later in given:
            return f"lifecycle.{later}", f"cannot be before {earlier}"
        if earlier in given:
            return f"lifecycle.{earlier}", f"cannot be after {later}"
    return None


def consent_problem(given_at: datetime, expires_at: datetime | None, at: datetime) -> str | None:
    """Why a consent given at `given_at` may not expire at `expires_at`, or None."""
    if expires_at is None:
        return None
    if utc_naive(expires_at) <= utc_naive(at):
        return "a consent cannot expire in the past"
    if utc_naive(expires_at) <= utc_naive(given_at):
        return "a consent cannot expire before it is given"
    return None


def record_problem(
    record: ValidRecord, at: datetime, stored: Mapping[str, date | None] | None = None
) -> tuple[str, str] | None:
    """(field, rule) of the first date of the record a write at `at` may not bring, or None."""
    problem = lifecycle_problem(record.lifecycle, at, stored)
    if problem:
        return problem
    for i, consent in enumerate(record.consents):
        why = consent_problem(consent["given_at"], consent["expires_at"], at)
        if why:
            return f"consents[{i}].expires_at", why
    return None


def check_record(record: ValidRecord, at: datetime) -> None:
    """InvalidInput naming the field when the record's own dates may not be written at `at`."""
    problem = record_problem(record, at)
    if problem:
        raise InvalidInput(problem[1], location=problem[0])
