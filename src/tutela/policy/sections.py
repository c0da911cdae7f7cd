"""The sections of a policy file, one frozen model each; `schema.Policy` assembles them.

Shape errors come from pydantic and name the key path; what a section refers to elsewhere in
the file (a purpose's categories...) is checked by `schema.Policy`.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from tutela.policy.breach_rules import Breaches

# The longest period a policy may name: a century, so that every date a record can hold
# (up to 2999) plus a period stays a date (a longer one crashed every retention count).
MAX_MONTHS = 1200
MAX_DAYS = 36_600

__all__ = [
    "AccessReview",
    "Anchor",
    "Assumption",
    "Authority",
    "Breaches",
    "Category",
    "Contact",
    "Controller",
    "DataField",
    "Dpia",
    "ErasureGround",
    "Form",
    "FormField",
    "Grant",
    "Identifier",
    "LegalBasis",
    "ObjectionScope",
    "Purpose",
    "Recipient",
    "RepeatedRequests",
    "RetentionRule",
    "Right",
    "RightsRequests",
    "RunningContract",
    "SecurityMeasure",
    "Source",
    "SubjectKind",
    "Subprocessor",
]

Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]

LegalBasis = Literal[
    "consent",  # Art. 6(1)(a)
    "contract",  # Art. 6(1)(b)
    "legal_obligation",  # Art. 6(1)(c)
    "vital_interests",  # Art. 6(1)(d)
    "public_task",  # Art. 6(1)(e)
    "legitimate_interests",  # Art. 6(1)(f)
]

# Why data is kept despite an erasure request, and still usable under a restriction:
# GDPR Art. 17(3)(b) and (e), Art. 18(2).
ErasureGround = Literal["legal_obligation", "legal_claims"]

FieldType = Literal[
    "string", "email", "phone", "date", "number", "boolean", "ip", "country", "language"
]

# Lifecycle dates of a subject (or of one of its records) a retention period can start from.
Anchor = Literal[
    "first_contact_at",
    "last_contact_at",
    "subscription_started_at",
    "subscription_ended_at",
    "last_connection_at",
    "last_transaction_at",
    "collected_at",
    "date_of_death",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Contact(_Strict):
    name: str
    organisation: str | None = None
    email: str | None = None
    phone: str | None = None
    address: str | None = None


class Controller(_Strict):
    name: str
    legal_name: str | None = None
    address: str
    email: str
    websites: list[str] = []
    country: str
    representative: Contact | None = Field(
        None,
        description="The representative in the Union (Art. 27), for a controller established "
        "outside it; none otherwise.",
    )
    default_calling_code: Annotated[str, StringConstraints(pattern=r"^[1-9][0-9]{0,2}$")] = Field(
        description="Calling code given to national phone numbers (leading 0) before indexing."
    )


class Authority(_Strict):
    name: str
    complaint_service: str
    address: str
    phone: str | None = None
    website: str | None = None


class RepeatedRequests(_Strict):
    """When one person's requests of one type come often enough to show the DPO (§10: the
    right of access may not be used on a regular basis only to disrupt). A flag, never a
    refusal: the DPO decides."""

    within_days: int = Field(gt=0, le=MAX_DAYS)
    more_than: int = Field(ge=1, description="earlier requests of the same type in the window")


class RunningContract(_Strict):
    """While a contract runs, the data it needs still serve it: a restriction of that data is
    refused (§13) and an erasure keeps it for the contract (GDPR Art. 17(1)(a))."""

    started: Anchor = Field(description="The lifecycle date the contract starts on.")
    ended: Anchor = Field(description="The lifecycle date it ends on; unset while it runs.")
    categories: list[Identifier] = Field(min_length=1, description="What the contract needs.")


class RightsRequests(_Strict):
    purpose: Identifier = Field(
        description="The purpose whose grant lets a role steer rights requests: list, open on "
        "someone's behalf, verify, extend, process, refuse, export."
    )
    doors: list[Identifier] = Field(
        [],
        description="Roles that submit requests for the people themselves (the company's "
        "applications, OpenGDPR clients) and follow only those they submitted.",
    )
    unverified_after_days: int = Field(
        gt=0, le=MAX_DAYS, description="Days after which a request still unverified is closed."
    )
    running_contract: RunningContract
    repeated: RepeatedRequests
    identity_proof: str | None = Field(
        None, description="What a requester sends to prove who they are (§10, §12, §16)."
    )
    id_document_for: list[Identifier] = Field(
        [],
        description="Request types whose requester only staff verify, on the identity "
        "document (`identity_proof`): no e-mailed code verifies them (§16: a signed copy).",
    )


class Right(_Strict):
    """A right of the people, as the policy grants it and its limits (§10-16): what the
    notices tell them."""

    id: Identifier
    name: str
    description: str
    articles: str = Field(description="The articles that grant it (GDPR Art. 15...).")
    how: str | None = Field(None, description="A way to exercise it of its own, if any.")
    policy_section: str | None = None


class ObjectionScope(_Strict):
    """What a person may object to (§12, §15); purposes name the scopes that refuse them."""

    id: Identifier
    name: str
    suppress: bool = Field(
        False,
        description="An objection of this scope puts the person on the suppression list, so "
        "that purchased or researched data does not bring them back (§5.3).",
    )
    after_death: bool = Field(
        False, description="From a recorded date of death, the person counts as objecting."
    )


class AccessReview(_Strict):
    unused_after_days: int = Field(
        gt=0, le=MAX_DAYS, description="A grant no read used for this many days is flagged (§8)."
    )


class SubjectKind(_Strict):
    id: Identifier
    name: str
    description: str
    can_become: list[Identifier] = Field(
        [], description="Kinds this kind may turn into (a prospect becomes a client)."
    )
    suppress_on_erasure: bool = Field(
        False,
        description="An erased person of this kind is put on the suppression list, so that "
        "purchased or researched data does not bring them back (§5.3).",
    )
    told_when: str | None = Field(
        None,
        description="When a person of this kind whose data was not collected from them is "
        "told of the processing (Art. 14(3)).",
    )
    dpv: str | None = None


class DataField(_Strict):
    id: Identifier
    type: FieldType = "string"
    description: str = ""
    blind_index: bool = Field(False, description="Searchable through a keyed blind index.")
    substantial: bool = Field(
        False, description="Civil status, identity or contact detail: rectifiable (§11)."
    )


class Category(_Strict):
    id: Identifier
    name: str
    description: str
    fields: list[DataField] = Field(min_length=1)
    storage: Literal["record", "connections", "payments"] = Field(
        "record",
        description="record: one value per field per subject; connections/payments: "
        "time-stamped records of their own.",
    )
    enriched: bool = Field(False, description="Derived by the company (§18), not collected.")
    sensitive: bool = Field(
        False, description="Special categories (Art. 9) or offences and convictions (Art. 10)."
    )
    dpv: str | None = None
    fides: str | None = None

    def field(self, field_id: str) -> DataField | None:
        return next((f for f in self.fields if f.id == field_id), None)


class Source(_Strict):
    id: Identifier
    name: str
    description: str
    provided_by_subject: bool = Field(
        description="Whether data from this source is, by default, given by the person themselves."
    )
    form: Identifier | None = Field(None, description="The collection form behind this source.")
    categories: list[Identifier] = Field(
        [], description="The categories of data that come from this source (Art. 14(1)(d))."
    )


class FormField(_Strict):
    field: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")]
    mandatory: bool = False

    @property
    def category(self) -> str:
        return self.field.split(".", 1)[0]

    @property
    def name(self) -> str:
        return self.field.split(".", 1)[1]


class Form(_Strict):
    id: Identifier
    name: str
    fields: list[FormField] = Field(min_length=1)
    consequence_if_missing: str = Field(
        description="What the person is told happens when a mandatory field is left empty (§17)."
    )

    @property
    def mandatory(self) -> list[FormField]:
        return [f for f in self.fields if f.mandatory]


class Dpia(_Strict):
    """Whether processing needs a data protection impact assessment (Art. 35), and why:
    purposes name the assessment that concerns them."""

    id: Identifier
    required: bool
    reason: str
    reference: str | None = Field(None, description="The assessment's reference, once done.")


class Purpose(_Strict):
    id: Identifier
    name: str
    description: str = ""
    sub_purposes: list[str] = []
    legal_basis: LegalBasis
    legitimate_interest: str | None = Field(
        None, description="The legitimate interest pursued (Art. 13(1)(d)), for that basis."
    )
    balancing_test: str | None = Field(
        None, description="The reference of the balancing test behind a legitimate interest."
    )
    withdrawal: str | None = Field(
        None, description="How a person withdraws their consent, for that basis (Art. 7(3))."
    )
    profiling: bool = Field(False, description="The processing profiles people (§15).")
    automated_decision: bool = Field(
        False,
        description="Decisions with legal or similarly significant effects are taken by "
        "automated means alone (Art. 22).",
    )
    dpia: Identifier | None = Field(
        None, description="The impact assessment (`impact_assessments`) of this processing."
    )
    categories: list[Identifier] = Field(min_length=1)
    subject_kinds: list[Identifier] = Field(min_length=1)
    archive: bool = Field(
        False, description="May read the intermediate archive (legal claims and obligations)."
    )
    erasure_exception: ErasureGround | None = Field(
        None,
        description="Data this purpose uses is kept despite an erasure request, and stays "
        "usable for it under a restriction: a legal obligation or legal claims (GDPR "
        "Art. 17(3)(b), (e), Art. 18(2)).",
    )
    objection_scopes: list[Identifier] = Field(
        [], description="An objection of one of these scopes (`objections`) refuses the purpose."
    )
    policy_section: str | None = None
    dpv: str | None = None
    fides: str | None = None


class Grant(_Strict):
    purposes: list[Identifier] = Field(min_length=1)
    categories: list[Identifier] = Field(min_length=1)


class Recipient(_Strict):
    """A role: an internal team or an external organisation that may receive data (§8)."""

    id: Identifier
    name: str
    kind: Literal["internal", "external"]
    description: str = ""
    grants: list[Grant] = []
    archive_access: bool = False
    oversight: bool = Field(
        False, description="Sees the DPO's registers: access reports, disclosures, the trail."
    )
    administrator: bool = Field(
        False,
        description="Administers Tutela itself; `tutela init` gives these roles to the first "
        "principal.",
    )


class Subprocessor(_Strict):
    id: Identifier
    name: str
    service: str
    location: str
    categories: list[Identifier] = []
    purposes: list[Identifier] = []
    guarantees: str = ""
    contract_reference: str | None = Field(None, description="The Art. 28 contract's reference.")
    contract_date: date | None = Field(None, description="The day that contract was signed.")
    last_audit: date | None = Field(None, description="The day the processor was last audited.")
    outside_eea: bool = Field(False, description="Data goes to a country outside the EEA.")
    transfer_safeguard: str | None = Field(
        None, description="The Art. 46 safeguard of such a transfer (standard clauses...)."
    )


class RetentionRule(_Strict):
    """How long one category of one kind of subject is kept, from which date, and what then."""

    id: Identifier
    description: str
    categories: list[Identifier] = Field(min_length=1)
    subject_kinds: list[Identifier] = Field(min_length=1)
    anchor: Anchor
    active_months: int = Field(
        ge=0, le=MAX_MONTHS, description="Months kept in the active base after the anchor."
    )
    archive_months: int = Field(
        0,
        ge=0,
        le=MAX_MONTHS,
        description="Months then kept in the intermediate archive (0: no archive).",
    )
    then: Literal["delete", "anonymise"]
    unless: Literal["retain_consent"] | None = Field(
        None, description="A record-level agreement that suspends this rule (§9 banking data)."
    )
    policy_section: str | None = None
    assumption: Identifier | None = None

    @property
    def months(self) -> int:
        """Months from the anchor to the rule's final action."""
        return self.active_months + self.archive_months


class SecurityMeasure(_Strict):
    id: Identifier
    description: str
    implemented_by: str


class Assumption(_Strict):
    """A value the seed policy leaves open, chosen and named so that a user can change it."""

    id: Identifier
    text: str
