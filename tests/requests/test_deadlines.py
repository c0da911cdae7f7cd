"""Deadlines of rights requests: one calendar month, month ends, leap years, one extension."""

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tutela.errors import Conflict, InvalidInput
from tutela.requests.deadlines import due_on, extended_due_on

days = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31))


@pytest.mark.parametrize(
    ("received", "due"),
    [
        (date(2026, 1, 31), date(2026, 2, 28)),
        (date(2028, 1, 31), date(2028, 2, 29)),
        (date(2026, 3, 31), date(2026, 4, 30)),
        (date(2026, 12, 15), date(2027, 1, 15)),
        (date(2028, 2, 29), date(2028, 3, 29)),
    ],
)
def test_one_calendar_month(received, due):
    assert due_on(received) == due


@given(received=days)
def test_due_within_a_month_and_never_before(received):
    due = due_on(received)
    assert received < due <= received + timedelta(days=31)
    assert due.month == (received.month % 12) + 1


@given(received=days, months=st.integers(1, 2), delay=st.integers(0, 40))
def test_one_extension_of_up_to_two_months_decided_in_time(received, months, delay):
    decided = received + timedelta(days=delay)
    if decided > due_on(received):
        with pytest.raises(Conflict):
            extended_due_on(received, already_extended=0, months=months, decided_on=decided)
        return
    new_due = extended_due_on(received, already_extended=0, months=months, decided_on=decided)
    assert due_on(received) < new_due <= received + timedelta(days=31 * (1 + months))
    with pytest.raises(Conflict):
        extended_due_on(received, already_extended=months, months=1, decided_on=decided)


def test_an_extension_is_one_or_two_months():
    for months in (0, 3):
        with pytest.raises(InvalidInput):
            extended_due_on(
                date(2026, 1, 31), already_extended=0, months=months, decided_on=date(2026, 2, 1)
            )
    assert extended_due_on(
        date(2026, 1, 31), already_extended=0, months=2, decided_on=date(2026, 2, 28)
    ) == date(2026, 4, 30)
