"""The legal deadline of a rights request (GDPR Art. 12(3)).

One calendar month from receipt: the same day of the next month, or its last day when it has
no such day (received 31 January, due the last day of February). Extendable once, by one or
two further months counted from receipt like the first, with reasons, decided on or before
the original due day.
"""

from __future__ import annotations

from datetime import date

from tutela.errors import Conflict, InvalidInput
from tutela.retention.schedule import add_months

__all__ = ["MAX_EXTENSION", "due_on", "extended_due_on"]

MAX_EXTENSION = 2


def due_on(received: date) -> date:
    return add_months(received, 1)


def extended_due_on(
    received: date, *, already_extended: int, months: int, decided_on: date
) -> date:
    """The new due day, or why the request cannot be extended."""
    if already_extended:
        raise Conflict("the deadline was already extended once")
    if not 1 <= months <= MAX_EXTENSION:
        raise InvalidInput(f"expected 1 to {MAX_EXTENSION} months", location="months")
    if decided_on > due_on(received):
        raise Conflict(
            f"the deadline ({due_on(received)}) has passed: it can only be extended before"
        )
    return add_months(received, 1 + months)
