"""Month arithmetic of retention periods, over month ends and leap years."""

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from tutela.retention.schedule import add_months, latest_anchor

days = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31))
months = st.integers(min_value=0, max_value=240)


def test_month_ends_and_leap_years():
    assert add_months(date(2023, 1, 31), 1) == date(2023, 2, 28)
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)
    assert add_months(date(2022, 5, 1), 36) == date(2025, 5, 1)
    assert add_months(date(2023, 3, 31), -1) == date(2023, 2, 28)


@given(anchor=days, as_of=days, n=months)
def test_the_cutoff_selects_exactly_the_anchors_whose_period_has_ended(anchor, as_of, n):
    assert (anchor <= latest_anchor(as_of, n)) == (add_months(anchor, n) <= as_of)


@given(day=days, n=months)
def test_a_period_never_ends_before_it_starts_nor_shortens(day, n):
    later = add_months(day, n)
    assert later >= day
    assert add_months(day, n + 1) >= later
