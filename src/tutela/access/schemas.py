"""API shapes of §8 oversight."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["AccessReportIn", "AccessReportOut", "Filed"]


class AccessReportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str = Field(
        min_length=1, max_length=5000, description="What you can reach and believe you should not."
    )
    subject_external_id: str | None = Field(None, max_length=128)
    categories: list[str] = []


class Filed(BaseModel):
    id: int
    status: str


class AccessReportOut(BaseModel):
    id: int
    at: datetime
    reporter: str
    subject_id: str | None
    categories: list[str]
    description: str
    status: str
    resolved_at: datetime | None
    resolution: str | None
