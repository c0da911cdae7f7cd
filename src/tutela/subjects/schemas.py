"""What the company's applications send (API body, one import line) and what they get back.

The fixed part of a record is checked here; its categories and fields are checked against the
policy by `subjects.validation`, since the policy declares them.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from tutela.jsonout import Instant
from tutela.wire import Day, Moment

__all__ = [
    "ConsentIn",
    "Lifecycle",
    "SubjectPage",
    "SubjectRecord",
    "SubjectSummary",
    "SubjectView",
    "WriteSummary",
]

FieldValues = dict[str, Any]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Lifecycle(_In):
    first_contact_at: Day | None = None
    last_contact_at: Day | None = Field(None, description="Last contact initiated by the person.")
    subscription_started_at: Day | None = None
    subscription_ended_at: Day | None = None
    last_connection_at: Day | None = None
    last_transaction_at: Day | None = None
    date_of_death: Day | None = None


class ConsentIn(_In):
    purpose: str = Field(
        max_length=64, description="A purpose identifier of the policy (see docs/policy.md)."
    )
    given_at: Moment
    channel: str | None = Field(None, max_length=64)
    expires_at: Moment | None = None


class SubjectRecord(BaseModel):
    """One person as the company's systems know them. Other keys are policy categories.

    A category key maps field names to values, e.g. `"identification": {"email": ...}`.
    `connections` and `payments` hold time-stamped records of the categories stored that way.
    """

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "example": {
                "external_id": "crm-42",
                "kind": "prospect",
                "source": "website_contact",
                "identification": {
                    "first_name": "Ana",
                    "last_name": "Roy",
                    "email": "ana@example.org",
                    "phone": "+33 6 12 34 56 78",
                },
                "provided_by_subject": ["identification"],
                "lifecycle": {"first_contact_at": "2022-05-01", "last_contact_at": "2023-03-01"},
                "consents": [
                    {
                        "purpose": "profiling",
                        "given_at": "2023-03-01T10:00:00Z",
                        "channel": "web_form",
                    }
                ],
                "connections": [
                    {
                        "at": "2023-02-01T09:00:00Z",
                        "ip": "203.0.113.7",
                        "device": "desktop",
                        "browser_language": "fr-FR",
                    }
                ],
                "payments": [
                    {
                        "at": "2023-02-10T12:00:00Z",
                        "method": "card",
                        "card_last4": "4242",
                        "retain_consent": False,
                    }
                ],
                "enriched": {"segment": "smb", "score": 0.7},
            }
        },
    )

    external_id: str = Field(min_length=1, max_length=128, pattern=r"^\S(.*\S)?$")
    kind: str = Field(max_length=64)
    source: str = Field(max_length=64)
    form: str | None = Field(
        None, max_length=64, description="Collection form; defaults to the source's form."
    )
    collected_at: Moment | None = Field(None, description="Defaults to the time of writing.")
    provided_by_subject: list[Annotated[str, Field(max_length=64)]] | None = Field(
        None,
        max_length=50,
        description="Categories the person gave themselves; defaults to the source's provenance.",
    )
    lifecycle: Lifecycle = Lifecycle()
    consents: list[ConsentIn] = Field([], max_length=200)
    connections: list[dict[str, Any]] = Field([], max_length=10_000)
    payments: list[dict[str, Any]] = Field([], max_length=10_000)


class WriteSummary(BaseModel):
    id: str
    external_id: str
    created: bool


class SubjectSummary(BaseModel):
    """A subject without any personal value, as a list shows it."""

    external_id: str
    kind: str
    source: str
    created_at: Instant
    updated_at: Instant
    lifecycle: Lifecycle | None = Field(
        None, description="The person's lifecycle dates, death included: for roles that oversee."
    )


class SubjectPage(BaseModel):
    total: int
    subjects: list[SubjectSummary]


class SubjectView(BaseModel):
    """What one purpose may see of one subject."""

    external_id: str
    kind: str
    purpose: str
    data: dict[str, Any]
    provenance: dict[str, dict[str, Any]]
    withheld: dict[str, str] = Field(
        description="Categories asked for but not disclosed, each with the reason."
    )
