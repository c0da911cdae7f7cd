"""The policy file's shape. Everything Tutela decides is derived from a validated `Policy`.

Shape errors come from pydantic; cross-references (a purpose naming an unknown category...)
are checked by `Policy` itself so that the error names the exact key path.
"""

from __future__ import annotations

from datetime import date
from functools import cached_property
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

__all__ = [
    "Anchor",
    "Assumption",
    "Authority",
    "Category",
    "Contact",
    "Controller",
    "DataField",
    "Form",
    "FormField",
    "Grant",
    "LegalBasis",
    "ObjectionScope",
    "Policy",
    "Purpose",
    "Recipient",
    "RetentionRule",
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

ObjectionScope = Literal["prospecting", "profiling"]

FieldType = Literal["string", "email", "phone", "date", "number", "boolean", "ip", "country"]

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

    within_days: int = Field(gt=0)
    more_than: int = Field(ge=1, description="earlier requests of the same type in the window")


class RightsRequests(_Strict):
    repeated: RepeatedRequests


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


class Purpose(_Strict):
    id: Identifier
    name: str
    description: str = ""
    legal_basis: LegalBasis
    categories: list[Identifier] = Field(min_length=1)
    subject_kinds: list[Identifier] = Field(min_length=1)
    archive: bool = Field(
        False, description="May read the intermediate archive (legal claims and obligations)."
    )
    erasure_exception: bool = Field(
        False,
        description="Data this purpose uses is kept despite an erasure request: a legal "
        "obligation or legal claims (GDPR Art. 17(3)(b), (e)).",
    )
    objection_scopes: list[ObjectionScope] = Field(
        [],
        description="An objection of one of these scopes refuses the purpose (§12, §15): "
        "prospecting (direct marketing) or profiling.",
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


class Subprocessor(_Strict):
    id: Identifier
    name: str
    service: str
    location: str
    categories: list[Identifier] = []
    purposes: list[Identifier] = []
    guarantees: str = ""


class RetentionRule(_Strict):
    """How long one category of one kind of subject is kept, from which date, and what then."""

    id: Identifier
    description: str
    categories: list[Identifier] = Field(min_length=1)
    subject_kinds: list[Identifier] = Field(min_length=1)
    anchor: Anchor
    active_months: int = Field(ge=0, description="Months kept in the active base after the anchor.")
    archive_months: int = Field(
        0, ge=0, description="Months then kept in the intermediate archive (0: no archive)."
    )
    then: Literal["delete", "anonymise"]
    unless: Literal["retain_consent"] | None = Field(
        None, description="A record-level agreement that suspends this rule (§9 banking data)."
    )
    policy_section: str | None = None
    assumption: Identifier | None = None


class SecurityMeasure(_Strict):
    id: Identifier
    description: str
    implemented_by: str


class Assumption(_Strict):
    """A value the seed policy leaves open, chosen and named so that a user can change it."""

    id: Identifier
    text: str


class Policy(_Strict):
    version: str
    effective_from: date
    controller: Controller
    dpo: Contact
    supervisory_authority: Authority
    rights_requests: RightsRequests
    subject_kinds: list[SubjectKind] = Field(min_length=1)
    categories: list[Category] = Field(min_length=1)
    sources: list[Source] = Field(min_length=1)
    forms: list[Form] = []
    purposes: list[Purpose] = Field(min_length=1)
    recipients: list[Recipient] = []
    subprocessors: list[Subprocessor] = []
    retention: list[RetentionRule] = []
    security_measures: list[SecurityMeasure] = []
    assumptions: list[Assumption] = []

    @model_validator(mode="after")
    def _references_resolve(self) -> Policy:
        _check_references(self)
        return self

    # Lookups -------------------------------------------------------------------------------

    @cached_property
    def _by_id(self) -> dict[str, dict[str, Any]]:
        """Each section by id: the gate looks these up on every request."""
        return {
            section: {item.id: item for item in getattr(self, section)}
            for section in ("categories", "purposes", "sources", "forms", "recipients")
        }

    def category(self, category_id: str) -> Category | None:
        return self._by_id["categories"].get(category_id)

    def purpose(self, purpose_id: str) -> Purpose | None:
        return self._by_id["purposes"].get(purpose_id)

    def source(self, source_id: str) -> Source | None:
        return self._by_id["sources"].get(source_id)

    def form(self, form_id: str) -> Form | None:
        return self._by_id["forms"].get(form_id)

    def recipient(self, recipient_id: str) -> Recipient | None:
        return self._by_id["recipients"].get(recipient_id)

    @property
    def kind_ids(self) -> list[str]:
        return [k.id for k in self.subject_kinds]

    @property
    def purpose_ids(self) -> list[str]:
        return [p.id for p in self.purposes]


class PolicyReferenceError(ValueError):
    """A key names something the policy does not declare; `path` is where."""

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        self.message = message
        super().__init__(f"{path}: {message}")


def _check_references(policy: Policy) -> None:
    kinds = {k.id for k in policy.subject_kinds}
    categories = {c.id: c for c in policy.categories}
    purposes = {p.id for p in policy.purposes}
    forms = {f.id for f in policy.forms}
    assumptions = {a.id for a in policy.assumptions}

    def expect(value: str, known: set[str] | dict, path: str, what: str) -> None:
        if value not in known:
            raise PolicyReferenceError(
                path, f"unknown {what} '{value}'; expected one of: {', '.join(sorted(known))}"
            )

    for section, items in (
        ("subject_kinds", policy.subject_kinds),
        ("categories", policy.categories),
        ("sources", policy.sources),
        ("forms", policy.forms),
        ("purposes", policy.purposes),
        ("recipients", policy.recipients),
        ("subprocessors", policy.subprocessors),
        ("retention", policy.retention),
        ("assumptions", policy.assumptions),
    ):
        seen: set[str] = set()
        for i, item in enumerate(items):
            if item.id in seen:
                raise PolicyReferenceError(f"{section}[{i}].id", f"duplicate id '{item.id}'")
            seen.add(item.id)

    for i, kind in enumerate(policy.subject_kinds):
        for j, other in enumerate(kind.can_become):
            expect(other, kinds, f"subject_kinds[{i}].can_become[{j}]", "subject kind")
    for i, category in enumerate(policy.categories):
        names = [f.id for f in category.fields]
        if len(names) != len(set(names)):
            raise PolicyReferenceError(f"categories[{i}].fields", "duplicate field id")
    for i, source in enumerate(policy.sources):
        if source.form is not None:
            expect(source.form, forms, f"sources[{i}].form", "form")
    for i, form in enumerate(policy.forms):
        for j, ff in enumerate(form.fields):
            path = f"forms[{i}].fields[{j}].field"
            expect(ff.category, categories, path, "category")
            if categories[ff.category].field(ff.name) is None:
                known = {f.id for f in categories[ff.category].fields}
                expect(ff.name, known, path, f"field of category '{ff.category}'")
    for i, purpose in enumerate(policy.purposes):
        for j, c in enumerate(purpose.categories):
            expect(c, categories, f"purposes[{i}].categories[{j}]", "category")
        for j, k in enumerate(purpose.subject_kinds):
            expect(k, kinds, f"purposes[{i}].subject_kinds[{j}]", "subject kind")
    for i, recipient in enumerate(policy.recipients):
        for g, grant in enumerate(recipient.grants):
            for j, p in enumerate(grant.purposes):
                expect(p, purposes, f"recipients[{i}].grants[{g}].purposes[{j}]", "purpose")
            for j, c in enumerate(grant.categories):
                expect(c, categories, f"recipients[{i}].grants[{g}].categories[{j}]", "category")
    for i, sub in enumerate(policy.subprocessors):
        for j, c in enumerate(sub.categories):
            expect(c, categories, f"subprocessors[{i}].categories[{j}]", "category")
        for j, p in enumerate(sub.purposes):
            expect(p, purposes, f"subprocessors[{i}].purposes[{j}]", "purpose")
    for i, rule in enumerate(policy.retention):
        for j, c in enumerate(rule.categories):
            expect(c, categories, f"retention[{i}].categories[{j}]", "category")
        for j, k in enumerate(rule.subject_kinds):
            expect(k, kinds, f"retention[{i}].subject_kinds[{j}]", "subject kind")
        if rule.assumption is not None:
            expect(rule.assumption, assumptions, f"retention[{i}].assumption", "assumption")
