"""API shapes of rights requests."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["CodeIn", "Extension", "RequestIn", "RequestOut"]


class RequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str = Field(
        description="confirmation, access, rectification, erasure, restriction, "
        "portability, objection, consent_withdrawal or post_mortem"
    )
    external_id: str | None = Field(None, max_length=128)
    email: str | None = Field(None, max_length=254)
    received: date | None = Field(None, description="Day received (default: today).")
    channel: str = "api"
    changes: dict[str, str] | None = Field(
        None,
        description='For a rectification: the values asked for, {"category.field": value}.',
        max_length=50,
    )

    @model_validator(mode="after")
    def _one_identifier(self) -> RequestIn:
        if (self.external_id is None) == (self.email is None):
            raise ValueError("give exactly one of external_id and email")
        return self


class Extension(BaseModel):
    model_config = ConfigDict(extra="forbid")

    months: int = Field(ge=1, le=2)
    reason: str = Field(min_length=1, max_length=1000)


class CodeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=r"^\d{6}$", description="The six-digit code the person received.")


class RequestOut(BaseModel):
    id: str
    type: str
    channel: str
    subject_id: str | None
    received_on: date
    due_on: date
    extended_months: int
    extension_reason: str | None
    status: str
    flag: str | None = Field(None, description="Why the DPO should look at it (§10).")
