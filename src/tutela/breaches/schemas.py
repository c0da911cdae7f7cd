"""API shapes of the breach register (§21, Art. 33-34)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from tutela.breaches.severity import Assessment
from tutela.jsonout import Instant
from tutela.wire import Moment

__all__ = [
    "AssessIn",
    "BreachDetail",
    "BreachIn",
    "BreachOut",
    "CommunicateIn",
    "CommunicateOut",
    "NotificationIn",
    "NotificationOut",
    "ScopeIn",
]

Nature = Literal["confidentiality", "integrity", "availability"]
Text = Annotated[str, Field(min_length=1, max_length=10_000)]
Name = Annotated[str, Field(min_length=1, max_length=128)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BreachIn(_In):
    aware_at: Moment = Field(description="When the controller became aware, with its offset.")
    natures: list[Nature] = Field(min_length=1, max_length=3)
    description: Text = Field(description="What happened (kept sealed).")
    encrypted: bool = Field(False, description="Only encrypted data leaked; its keys did not.")


class ScopeIn(_In):
    """One way to find the people: a principal and a window, a category, or a list."""

    principal: Name | None = Field(None, description="Whose reads leaked.")
    from_: Moment | None = Field(None, alias="from", description="Window start, with offset.")
    until: Moment | None = Field(None, description="Window end, with offset.")
    category: Annotated[str, Field(max_length=64)] | None = None
    kind: Annotated[str, Field(max_length=64)] | None = None
    external_ids: list[Name] | None = Field(None, max_length=100_000)
    encrypted: bool = Field(False, description="What leaked of them was ciphertext, keys safe.")


class AssessIn(_In):
    confidentiality: Literal["known_recipients", "unknown_recipients"] | None = None
    integrity: Literal["recoverable", "not_recoverable"] | None = None
    availability: Literal["temporary", "permanent"] | None = None
    malicious: bool = False
    identification: Literal["negligible", "limited", "significant", "maximum"] | None = Field(
        None, description="The DPO's judgement; by default the categories' own."
    )
    measures: Text | None = Field(None, description="Measures taken or proposed (sealed).")
    consequences: Text | None = Field(None, description="Likely consequences (sealed).")


class NotificationIn(_In):
    lang: Literal["en", "fr"] = "en"
    reference: Name | None = Field(None, description="The authority's reference.")
    delay_reason: Text | None = Field(None, description="Past the deadline: why (Art. 33(1)).")


class CommunicateIn(_In):
    public: bool = Field(False, description="A public communication instead (Art. 34(3)(c)).")
    required_by_authority: bool = Field(False, description="The authority required it (34(4)).")


class Counts(BaseModel):
    people: int
    records: int


class BreachOut(BaseModel):
    id: str
    status: str
    natures: list[str]
    encrypted: bool
    aware_at: Instant
    deadline_at: Instant
    deadline_local: str
    hours_left: float | None
    overdue: bool
    people: int
    records: int
    by_category: dict[str, Counts]
    opened_by: str
    closed_at: Instant | None
    level: str | None


class NotificationOut(BaseModel):
    phase: int
    submitted_at: Instant
    submitted_local: str
    submitted_by: str
    reference: str | None
    late: bool
    delay_reason: str | None


class BreachDetail(BreachOut):
    description: str
    assessment: Assessment | None
    assessed_at: Instant | None
    measures: str | None
    consequences: str | None
    notifications: list[NotificationOut]
    told_at: Instant | None
    told_how: str | None
    messages: dict[str, int] = Field(description="The messages to the people, by status.")


class CommunicateOut(BaseModel):
    breach: str
    how: Literal["individual", "public"]
    people: int
    spared_encrypted: int
    deceased: int
    queued: int | None = None
    unreachable: int | None = None
    text: str | None = Field(None, description="The public communication, to publish.")
