"""API shapes of rights requests."""

from __future__ import annotations

from datetime import UTC, date
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tutela.jsonout import Instant
from tutela.requests.models import RequestStatus, RightsRequest
from tutela.wire import Day

__all__ = ["CodeIn", "Extension", "Lifting", "Refusal", "RequestIn", "RequestOut"]


class RequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str = Field(
        max_length=32,
        description="confirmation, access, rectification, erasure, restriction, "
        "lift_restriction, portability, objection, consent_withdrawal or post_mortem",
    )
    external_id: str | None = Field(None, max_length=128)
    email: str | None = Field(None, max_length=254)
    received: Day | None = Field(None, description="Day received (default: today).")
    channel: str = Field("api", max_length=16)
    changes: (
        dict[Annotated[str, Field(max_length=128)], Annotated[str, Field(max_length=1000)]] | None
    ) = Field(
        None,
        description='For a rectification: the values asked for, {"category.field": value}.',
        max_length=50,
    )
    scopes: list[Annotated[str, Field(max_length=64)]] | None = Field(
        None,
        description="For an objection: the scopes objected to (default: every one).",
        max_length=10,
    )
    directive: str | None = Field(
        None,
        max_length=16,
        description="For a post-mortem request: keep, erase, communicate or revoke.",
    )
    designate: str | None = Field(
        None, max_length=254, description="With communicate: who receives the data."
    )

    @model_validator(mode="after")
    def _one_identifier(self) -> RequestIn:
        if (self.external_id is None) == (self.email is None):
            raise ValueError("give exactly one of external_id and email")
        return self

    def particulars(self) -> dict[str, Any]:
        return {
            key: value
            for key, value in (
                ("changes", self.changes),
                ("scopes", self.scopes),
                ("directive", self.directive),
                ("designate", self.designate),
            )
            if value
        }


class Extension(BaseModel):
    model_config = ConfigDict(extra="forbid")

    months: int = Field(ge=1, le=2)
    reason: str = Field(min_length=1, max_length=1000)


class Refusal(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(
        min_length=1, max_length=1000, description="Why it is manifestly unfounded or excessive."
    )


class Lifting(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=200, description="Why (no personal data).")
    told_by_letter: bool = Field(
        False, description="With no e-mail on file: the person was written to first (Art. 18(3))."
    )


class CodeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(
        max_length=6, pattern=r"^\d{6}$", description="The six-digit code the person received."
    )


class RequestOut(BaseModel):
    """A request as staff see it: the person by their external id, never an internal id."""

    id: str
    type: str
    channel: str
    external_id: str | None
    received_on: date
    due_on: date
    extended_months: int
    extension_reason: str | None
    status: RequestStatus
    flag: str | None = Field(None, description="Why the DPO should look at it (§10).")
    opened_by: str
    answered_at: Instant | None = None
    answer: dict[str, Any] | None = Field(
        None,
        description="Once ended: the outcome, each category's action with its ground and end, "
        "what was done, the reasons and who was told.",
    )
    receipt: str | None = Field(None, description="The erasure receipt's id, if any.")

    @classmethod
    def of(cls, request: RightsRequest, *, full: bool = True) -> RequestOut:
        """The request as staff see it (`full`), or as a door does: without who the person is
        nor what was decided about their data, which a door has no need to learn."""
        if not full:
            return cls(
                id=request.id,
                type=request.type,
                channel=request.channel,
                external_id=None,
                received_on=request.received_on,
                due_on=request.due_on,
                extended_months=request.extended_months,
                extension_reason=None,
                status=request.status,
                opened_by=request.opened_by,
                answered_at=request.answered_at and request.answered_at.replace(tzinfo=UTC),
            )
        return cls(
            id=request.id,
            type=request.type,
            channel=request.channel,
            external_id=request.external_id,
            received_on=request.received_on,
            due_on=request.due_on,
            extended_months=request.extended_months,
            extension_reason=request.extension_reason,
            status=request.status,
            flag=request.flag,
            opened_by=request.opened_by,
            answered_at=request.answered_at and request.answered_at.replace(tzinfo=UTC),
            answer=request.answer,
            receipt=request.receipt_id,
        )
