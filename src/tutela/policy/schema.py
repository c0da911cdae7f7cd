"""The policy file's shape. Everything Tutela decides is derived from a validated `Policy`.

Shape errors come from pydantic; cross-references (a purpose naming an unknown category...)
are checked by `Policy` itself so that the error names the exact key path. The questions
every domain asks of the policy (what may these roles reach? which categories does a hold
cover? is this contract running?) are methods of `Policy`, answered in one place.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import date
from functools import cached_property
from types import MappingProxyType
from typing import Annotated, Any
from zoneinfo import available_timezones

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from tutela.policy.sections import (
    AccessReview,
    Assumption,
    Authority,
    Breaches,
    Category,
    Contact,
    Controller,
    Dpia,
    Form,
    ObjectionScope,
    Purpose,
    Recipient,
    RetentionRule,
    Right,
    RightsRequests,
    SecurityMeasure,
    Source,
    SubjectKind,
    Subprocessor,
)

__all__ = ["BASE_LANGUAGE", "Policy", "PolicyReferenceError"]

BASE_LANGUAGE = "en"  # the language of the policy's own texts


class Policy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Annotated[str, StringConstraints(min_length=1, max_length=32)] = Field(
        description="Recorded beside every decision made under it."
    )
    effective_from: date
    controller: Controller
    dpo: Contact
    supervisory_authority: Authority
    rights_requests: RightsRequests
    rights: list[Right] = []
    objections: list[ObjectionScope] = []
    access_review: AccessReview
    breaches: Breaches | None = None
    subject_kinds: list[SubjectKind] = Field(min_length=1)
    categories: list[Category] = Field(min_length=1)
    sources: list[Source] = Field(min_length=1)
    forms: list[Form] = []
    purposes: list[Purpose] = Field(min_length=1)
    recipients: list[Recipient] = []
    subprocessors: list[Subprocessor] = []
    retention: list[RetentionRule] = []
    security_measures: list[SecurityMeasure] = []
    impact_assessments: list[Dpia] = []
    assumptions: list[Assumption] = []
    languages: list[Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$")]] = Field(
        ["en"],
        description="The languages of notices and registers; the texts above are in English, "
        "the first; `translations` gives the others.",
    )
    translations: dict[str, dict[str, str]] = Field(
        {},
        description="By language, each text people read, keyed by its path "
        "(`purposes.newsletter.name`); `policy check` reports the missing ones.",
    )

    @model_validator(mode="after")
    def _references_resolve(self) -> Policy:
        _check_references(self)
        return self

    # Lookups -------------------------------------------------------------------------------

    def text(self, lang: str, key: str, english: str) -> str:
        """A text people read, in `lang`: its translation, or the English text without one."""
        if lang == BASE_LANGUAGE:
            return english
        return self.translations.get(lang, {}).get(key, english)

    @cached_property
    def _by_id(self) -> dict[str, dict[str, Any]]:
        """Each section by id: the gate looks these up on every request."""
        sections = ("categories", "purposes", "sources", "forms", "recipients", "subject_kinds")
        return {
            section: {item.id: item for item in getattr(self, section)}
            for section in (*sections, "objections", "impact_assessments")
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

    def subject_kind(self, kind_id: str) -> SubjectKind | None:
        return self._by_id["subject_kinds"].get(kind_id)

    def impact_assessment(self, dpia_id: str) -> Dpia | None:
        return self._by_id["impact_assessments"].get(dpia_id)

    def objection(self, scope_id: str) -> ObjectionScope | None:
        return self._by_id["objections"].get(scope_id)

    def consent_purposes(self, kind: str) -> list[Purpose]:
        """The purposes that rest on this kind of person's consent: what they give and
        withdraw themselves."""
        return [p for p in self.purposes if p.legal_basis == "consent" and kind in p.subject_kinds]

    def objections_for(self, kind: str) -> list[ObjectionScope]:
        """The objections this kind of person can make: the scopes of purposes reaching them."""
        used = {s for p in self.purposes if kind in p.subject_kinds for s in p.objection_scopes}
        return [o for o in self.objections if o.id in used]

    def record_field(self, field_type: str) -> tuple[str, str] | None:
        """The first (category, field) stored per subject with this type (the e-mail
        address, the country), if the policy has one."""
        for category in self.categories:
            for spec in category.fields:
                if category.storage == "record" and spec.type == field_type:
                    return category.id, spec.id
        return None

    @property
    def kind_ids(self) -> list[str]:
        return [k.id for k in self.subject_kinds]

    @property
    def purpose_ids(self) -> list[str]:
        return [p.id for p in self.purposes]

    # What roles reach ----------------------------------------------------------------------

    def reach(self, roles: Sequence[str]) -> Mapping[str, frozenset[str]]:
        """Purpose -> the categories the roles are granted for it. Worked out once for each
        set of roles (every read asks, twice): the policy never changes."""
        key = tuple(roles)
        found = self._reaches.get(key)
        if found is None:
            reach: dict[str, set[str]] = {}
            for role in key:
                recipient = self.recipient(role)
                for grant in recipient.grants if recipient else ():
                    for purpose in grant.purposes:
                        reach.setdefault(purpose, set()).update(grant.categories)
            found = self._reaches[key] = {
                purpose: frozenset(categories) for purpose, categories in sorted(reach.items())
            }
        return MappingProxyType(found)  # read-only: the next caller gets the same

    @cached_property
    def _reaches(self) -> dict[tuple[str, ...], dict[str, frozenset[str]]]:
        return {}  # plain values: a policy is pickled into import worker processes

    def granted(self, roles: Sequence[str] | None, purpose: str | None) -> frozenset[str] | None:
        """Categories the roles are granted for `purpose` (for any purpose when None); None
        for the operator at the console, whom no grant limits."""
        if roles is None:
            return None
        reach = self.reach(roles)
        if purpose is not None:
            return reach.get(purpose, frozenset())
        return frozenset().union(*reach.values())

    def reads_archive(self, roles: Sequence[str] | None) -> bool:
        """Whether the roles may read the intermediate archive (for archive purposes)."""
        return roles is None or any(
            (r := self.recipient(role)) is not None and r.archive_access for role in roles
        )

    def listable_kinds(self, roles: Sequence[str] | None) -> frozenset[str] | None:
        """The kinds of people the roles may list: those of every purpose they are granted
        some category for (every kind for the console, None, or a role that oversees)."""
        if roles is None or self.has_oversight(roles):
            return None
        reach = self.reach(roles)
        return frozenset(
            kind
            for purpose in self.purposes
            if reach.get(purpose.id)
            for kind in purpose.subject_kinds
        )

    def is_staff(self, roles: Sequence[str] | None) -> bool:
        """Whether the roles make their holder staff: one of them is an internal recipient."""
        return roles is None or any(
            (r := self.recipient(role)) is not None and r.kind == "internal" for role in roles
        )

    def handles_breaches(self, roles: Sequence[str] | None) -> bool:
        """Whether the roles may handle breaches (the operator at the console may)."""
        if roles is None:
            return True
        return self.breaches is not None and bool(set(roles) & set(self.breaches.roles))

    def has_oversight(self, roles: Sequence[str] | None) -> bool:
        return roles is None or any(
            (r := self.recipient(role)) is not None and r.oversight for role in roles
        )

    @property
    def administrator_roles(self) -> list[str]:
        return [r.id for r in self.recipients if r.administrator]

    def administers(self, roles: Sequence[str] | None) -> bool:
        """Whether the roles may administer principals: one is an administrator role."""
        return roles is None or bool(set(roles) & set(self.administrator_roles))

    def steers_requests(self, roles: Sequence[str] | None) -> bool:
        """Whether the roles may steer rights requests: they are granted the rights purpose."""
        granted = self.granted(roles, self.rights_requests.purpose)
        return granted is None or bool(granted)

    def is_door(self, roles: Sequence[str] | None) -> bool:
        """Whether the roles submit requests for people (and follow only those)."""
        return roles is not None and bool(set(roles) & set(self.rights_requests.doors))

    # Holds, restrictions, erasure grounds --------------------------------------------------

    @cached_property
    def hold_purposes(self) -> list[str]:
        """The purposes a legal hold may serve: those that read the archive (a debt, a
        dispute, a legal obligation)."""
        return [p.id for p in self.purposes if p.archive]

    def handles_holds(self, roles: Sequence[str] | None) -> bool:
        """Whether the roles may see, place and lift legal holds: one of them is an internal
        role granted some category for a purpose a hold serves (the operator at the console
        may). A hold is the controller's decision, never an outside recipient's."""
        if roles is None:
            return True
        return any(
            self.is_staff([role]) and any(self.reach([role]).get(p) for p in self.hold_purposes)
            for role in roles
        )

    def hold_covers(self, categories: Collection[str]) -> frozenset[str]:
        """The categories a legal hold covers: those it names, or every one when none."""
        return frozenset(categories) if categories else frozenset(c.id for c in self.categories)

    @cached_property
    def restriction_purposes(self) -> frozenset[str]:
        """What a restricted person's data may still be used for, beyond storage (Art. 18(2)):
        legal obligations, legal claims, and the person's own rights."""
        kept = {p.id for p in self.purposes if p.erasure_exception}
        return frozenset({*kept, self.rights_requests.purpose})

    def ground_purposes(self, ground: str, category: str, kind: str) -> frozenset[str]:
        """The purposes data kept on `ground` may serve: those of the ground that use the
        category for this kind of person. A ground is `legal_obligation`, `legal_claims`,
        `contract` (a running contract) or `hold:PURPOSE` (a legal hold)."""
        if ground.startswith("hold:"):
            return frozenset({ground.removeprefix("hold:")})
        return frozenset(
            p.id
            for p in self.purposes
            if category in p.categories
            and kind in p.subject_kinds
            and (
                p.legal_basis == "contract"
                if ground == "contract"
                else p.erasure_exception == ground
            )
        )

    def contract_running(self, lifecycle: Mapping[str, date | None], on: date) -> bool:
        """Whether the person's contract runs on `on` (started, and not yet ended)."""
        contract = self.rights_requests.running_contract
        started, ended = lifecycle.get(contract.started), lifecycle.get(contract.ended)
        return started is not None and started <= on and (ended is None or ended > on)

    def rules_for(self, category: str, kind: str) -> list[RetentionRule]:
        """The retention rules that keep this category of this kind of person."""
        return [r for r in self.retention if category in r.categories and kind in r.subject_kinds]

    @cached_property
    def suppressing_scopes(self) -> frozenset[str]:
        return frozenset(o.id for o in self.objections if o.suppress)

    @cached_property
    def after_death_scopes(self) -> frozenset[str]:
        return frozenset(o.id for o in self.objections if o.after_death)


class PolicyReferenceError(ValueError):
    """Keys that name something the policy does not declare: each problem is (path, message),
    all of them found at once."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{path}: {message}" for path, message in problems))


def _check_references(policy: Policy) -> None:
    problems: list[tuple[str, str]] = []
    kinds = {k.id for k in policy.subject_kinds}
    categories = {c.id: c for c in policy.categories}
    purposes = {p.id for p in policy.purposes}
    recipients = {r.id for r in policy.recipients}
    forms = {f.id for f in policy.forms}
    scopes = {o.id for o in policy.objections}
    assumptions = {a.id for a in policy.assumptions}
    assessments = {a.id for a in policy.impact_assessments}

    def expect(value: str, known: set[str] | dict, path: str, what: str) -> None:
        if value not in known:
            problems.append(
                (path, f"unknown {what} '{value}'; expected one of: {', '.join(sorted(known))}")
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
        ("objections", policy.objections),
        ("impact_assessments", policy.impact_assessments),
        ("rights", policy.rights),
        ("assumptions", policy.assumptions),
    ):
        seen: set[str] = set()
        for i, item in enumerate(items):
            if item.id in seen:
                problems.append((f"{section}[{i}].id", f"duplicate id '{item.id}'"))
            seen.add(item.id)

    if policy.breaches is not None:
        for j, role in enumerate(policy.breaches.roles):
            expect(role, recipients, f"breaches.roles[{j}]", "recipient")
        if policy.breaches.time_zone not in available_timezones():
            problems.append(("breaches.time_zone", "unknown time zone; expected an IANA name"))
        for name in policy.breaches.categories:
            expect(name, categories, f"breaches.categories.{name}", "category")
        for name in sorted(set(categories) - set(policy.breaches.categories)):
            problems.append((f"breaches.categories.{name}", "missing: every category needs one"))
        scores = [band.score for band in policy.breaches.severity.levels]
        if scores != sorted(scores) or len(set(scores)) != len(scores):
            problems.append(("breaches.severity.levels", "expected levels in increasing score"))
    rights = policy.rights_requests
    expect(rights.purpose, purposes, "rights_requests.purpose", "purpose")
    for j, role in enumerate(rights.doors):
        expect(role, recipients, f"rights_requests.doors[{j}]", "recipient")
    for j, c in enumerate(rights.running_contract.categories):
        expect(c, categories, f"rights_requests.running_contract.categories[{j}]", "category")
    for i, kind in enumerate(policy.subject_kinds):
        for j, other in enumerate(kind.can_become):
            expect(other, kinds, f"subject_kinds[{i}].can_become[{j}]", "subject kind")
    for i, category in enumerate(policy.categories):
        names = [f.id for f in category.fields]
        if len(names) != len(set(names)):
            problems.append((f"categories[{i}].fields", "duplicate field id"))
    for i, source in enumerate(policy.sources):
        if source.form is not None:
            expect(source.form, forms, f"sources[{i}].form", "form")
    for i, source in enumerate(policy.sources):
        for j, c in enumerate(source.categories):
            expect(c, categories, f"sources[{i}].categories[{j}]", "category")
    if policy.languages[:1] != [BASE_LANGUAGE]:
        problems.append(("languages", f"must start with '{BASE_LANGUAGE}'"))
    for i, form in enumerate(policy.forms):
        for j, ff in enumerate(form.fields):
            path = f"forms[{i}].fields[{j}].field"
            expect(ff.category, categories, path, "category")
            if ff.category in categories and categories[ff.category].field(ff.name) is None:
                known = {f.id for f in categories[ff.category].fields}
                expect(ff.name, known, path, f"field of category '{ff.category}'")
    for i, purpose in enumerate(policy.purposes):
        for j, c in enumerate(purpose.categories):
            expect(c, categories, f"purposes[{i}].categories[{j}]", "category")
        for j, k in enumerate(purpose.subject_kinds):
            expect(k, kinds, f"purposes[{i}].subject_kinds[{j}]", "subject kind")
        for j, s in enumerate(purpose.objection_scopes):
            expect(s, scopes, f"purposes[{i}].objection_scopes[{j}]", "objection scope")
        if purpose.dpia is not None:
            expect(purpose.dpia, assessments, f"purposes[{i}].dpia", "impact assessment")
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
    if problems:
        raise PolicyReferenceError(problems)
