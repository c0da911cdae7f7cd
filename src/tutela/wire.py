"""What may come in from outside: text in valid Unicode without NUL characters, and days
and moments within the years a person's record can name.

A lone surrogate cannot be encoded to be stored or encrypted, PostgreSQL refuses NUL in text,
and a moment in year 1 cannot be moved to UTC: left to the database or the clock they would
be server errors. They are refused where input arrives, naming where, never what.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Annotated, Any

import orjson
from pydantic import AfterValidator, BaseModel

__all__ = ["EARLIEST", "LATEST", "Day", "Moment", "day_problem", "json_loads", "text_problem"]

EARLIEST, LATEST = date(1900, 1, 1), date(2999, 12, 31)


def day_problem(day: date) -> str | None:
    """Why a day is outside the years a record can name, if it is."""
    if EARLIEST <= day <= LATEST:
        return None
    return f"must be between {EARLIEST} and {LATEST}"


def _day(day: date) -> date:
    if problem := day_problem(day):
        raise ValueError(problem)
    return day


def _moment(moment: datetime) -> datetime:
    _day(moment.replace(tzinfo=None).date())  # before any move to UTC, which could overflow
    return moment


Day = Annotated[date, AfterValidator(_day)]
Moment = Annotated[datetime, AfterValidator(_moment)]


def text_problem(value: Any, where: str = "") -> str | None:
    """Where in `value` (nested models, dicts and lists) a string holds a NUL or a lone
    surrogate."""
    if isinstance(value, str):
        if "\x00" in value:
            return where or "value"
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return where or "value"
        return None
    if isinstance(value, BaseModel):
        value = {**vars(value), **(value.model_extra or {})}
    if isinstance(value, dict):
        for key, item in value.items():
            found = text_problem(key, where) or text_problem(
                item, f"{where}.{key}" if where else str(key)
            )
            if found:
                return found
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            found = text_problem(item, f"{where}[{index}]")
            if found:
                return found
    return None


def json_loads(body: bytes | str) -> Any:
    """JSON as FastAPI expects it (a `json.JSONDecodeError` becomes a 422), refusing lone
    surrogates (orjson does) and NUL characters."""
    data = orjson.loads(body)
    where = text_problem(data)
    if where:
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        raise json.JSONDecodeError(f"{where}: NUL characters are not accepted", text, 0)
    return data
