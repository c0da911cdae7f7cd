"""API shapes of §8 oversight."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from tutela.jsonout import Instant

__all__ = ["AccessReportIn", "AccessReportOut", "Filed"]


class AccessReportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str = Field(
        min_length=1, max_length=5000, description="What you can reach and believe you should not."
    )
    subject_external_id: str | None = Field(None, max_length=128)
    categories: list[Annotated[str, Field(max_length=64)]] = Field([], max_length=50)


class Filed(BaseModel):
    id: int
    status: str


class AccessReportOut(BaseModel):
    id: int
    at: Instant
    reporter: str
    external_id: str | None = Field(description="The person concerned, if still held.")
    categories: list[str]
    description: str
    status: str
    resolved_at: Instant | None
    resolution: str | None
