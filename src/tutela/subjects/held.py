"""What a person holds of one category, as the rights decisions see it: a plain value."""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

__all__ = ["Held"]


class Held(NamedTuple):
    """What a subject holds of one category: values or records, the latest collection (or
    record time), and the fields the person gave themselves."""

    records: int
    latest: date | None
    given: frozenset[str]
