"""The one way Tutela writes JSON for people and programs to read (the API, `--json`, copies,
notices): times in ISO-8601, in UTC, with a `Z`; days as ISO dates; models by their fields.

Stored times are naive UTC (`db.utc_naive`): they are written as UTC. What is hashed or
encrypted keeps its own fixed encoding and does not come through here.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import orjson
from fastapi.responses import JSONResponse
from pydantic import BaseModel, PlainSerializer

__all__ = ["Instant", "JsonAnswer", "dumps", "instant", "text"]

OPTIONS = orjson.OPT_NAIVE_UTC | orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS


def _default(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="python")
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write a {type(value).__name__} as JSON")


def dumps(data: Any, *, indent: bool = False) -> bytes:
    return orjson.dumps(data, default=_default, option=OPTIONS | (orjson.OPT_INDENT_2 * indent))


def text(data: Any, *, indent: bool = False) -> str:
    return dumps(data, indent=indent).decode()


def instant(moment: datetime) -> str:
    """One moment as JSON writes it: `2026-12-01T10:00:00Z`."""
    return orjson.dumps(moment, option=OPTIONS).decode()[1:-1]


# A moment in a response model: written by `instant`, documented as a date-time.
Instant = Annotated[datetime, PlainSerializer(instant, return_type=str, when_used="json")]


class JsonAnswer(JSONResponse):
    """An API answer built from plain data, written as every other answer is."""

    def render(self, content: Any) -> bytes:
        return dumps(content)
