"""The policy's `breaches` section (§21, GDPR Art. 33-34): who handles breaches, the clock,
and the severity method with its scores, so that the risk decision is read off the policy.

The method is ENISA's (Recommendations for a methodology of the assessment of severity of
personal data breaches, 2013): severity = data-processing context x ease of identification +
circumstances of the breach. The scores are the policy's, each category's context included.
"""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

__all__ = ["LEVELS", "BreachCategory", "Breaches", "Identification", "Level", "Severity"]

Level = Literal["low", "medium", "high", "very_high"]
LEVELS: tuple[Level, ...] = ("low", "medium", "high", "very_high")  # in increasing order
Identification = Literal["negligible", "limited", "significant", "maximum"]
Confidentiality = Literal["none", "known_recipients", "unknown_recipients"]
Integrity = Literal["none", "recoverable", "not_recoverable"]
Availability = Literal["none", "temporary", "permanent"]
_Id = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BreachCategory(_Strict):
    """What a breach of one category means: its context score, how easily it identifies a
    person, and what the people are told (Art. 34(2))."""

    context: float = Field(
        ge=0,
        description="Data-processing context score (ENISA: 1 simple, 2 behavioural, "
        "3 financial, 4 sensitive data; adjusted for the context).",
    )
    identification: Identification = Field(
        description="How easily this data alone identifies the person (ENISA)."
    )
    consequences: str = Field(description="What a breach of this data may lead to.")
    advice: str = Field(description="What the person can do about it.")


_GRADES = {
    "identification": Identification,
    "confidentiality": Confidentiality,
    "integrity": Integrity,
    "availability": Availability,
}


class LevelFrom(_Strict):
    level: Level
    score: float = Field(ge=0, description="The lowest severity of this level.")


class Severity(_Strict):
    identification: dict[Identification, float]
    confidentiality: dict[Confidentiality, float]
    integrity: dict[Integrity, float]
    availability: dict[Availability, float]
    malicious: float = Field(ge=0, description="Added when the breach was intended.")
    levels: list[LevelFrom] = Field(min_length=1, description="Each level from its score.")
    notify_authority_from: Level = Field(
        description="Below this level the breach is unlikely to result in a risk (Art. 33(1))."
    )
    tell_people_from: Level = Field(description="The high risk of Art. 34(1).")

    @model_validator(mode="after")
    def _every_grade_scored(self) -> Severity:
        for name, grades in _GRADES.items():
            missing = [g for g in get_args(grades) if g not in getattr(self, name)]
            if missing:
                raise ValueError(f"{name}: no score for {', '.join(missing)}")
        return self

    def level(self, score: float) -> Level:
        reached = [band for band in self.levels if score >= band.score]
        return max(reached, key=lambda band: band.score).level if reached else LEVELS[0]


class Breaches(_Strict):
    """Personal data breaches (§21, GDPR Art. 33-34)."""

    authority_deadline_hours: int = Field(
        gt=0, description="Hours from awareness to notify the supervisory authority (Art. 33(1))."
    )
    roles: list[_Id] = Field(
        min_length=1, description="The recipients (roles) that handle breaches."
    )
    warn_hours_before: int = Field(
        ge=0, description="Hours before the deadline when the DPO is e-mailed that it nears."
    )
    time_zone: str = Field(description="Where deadlines are shown in local time (IANA name).")
    severity: Severity
    categories: dict[_Id, BreachCategory] = Field(
        description="For each category of the policy, what its breach means."
    )
    public_communication_over: int = Field(
        gt=0,
        description="Above this many people to tell, individual messages are disproportionate "
        "and a public communication is made instead (Art. 34(3)(c)).",
    )
