"""The single authorisation gate: principal x subject facts x categories x purpose -> decision.

Every read or write of personal data asks `authorize` first and touches only what it allows.
A decision carries its reasons, so that a refusal explains itself and is audited as such.
It is a pure function of the policy, the facts about the person and the moment.
"""

from __future__ import annotations

import getpass
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from tutela.clock import utc_naive
from tutela.errors import Denied
from tutela.policy.schema import Policy

__all__ = [
    "EVERY_CATEGORY",
    "Actor",
    "Decision",
    "Limit",
    "SubjectFacts",
    "authorize",
    "depends_on_standing",
    "erased_for_good",
    "require_purpose",
]

EVERY_CATEGORY = "*"  # a limit on this key covers every category of the person


@dataclass(frozen=True)
class Actor:
    """Who acts: a principal with roles, or the operator at the console (roles None)."""

    name: str
    roles: tuple[str, ...] | None
    active_from: datetime | None = None
    active_until: datetime | None = None

    @classmethod
    def console(cls) -> Actor:
        return cls(f"console:{getpass.getuser()}", None)

    def inactive_reason(self, at: datetime) -> str | None:
        moment = utc_naive(at)
        if self.active_from and moment < self.active_from:
            return f"principal '{self.name}' is active only from {self.active_from:%Y-%m-%d}"
        if self.active_until and moment >= self.active_until:
            return f"principal '{self.name}' left on {self.active_until:%Y-%m-%d %H:%M}"
        return None


@dataclass(frozen=True, slots=True)
class Limit:
    """Some of a person's data serves only some grounds: a restriction (Art. 18), or what an
    erasure request kept (`grounds`: legal_obligation, legal_claims, contract, hold:PURPOSE)."""

    basis: Literal["restriction", "erasure"]
    grounds: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SubjectFacts:
    """What the gate needs to know of the person: their kind, the purposes they consented
    to, the scopes they objected to, the limits on their data (by category, or
    `EVERY_CATEGORY`), and their lifecycle dates (a running contract, a date of death)."""

    kind: str
    consented: frozenset[str] = frozenset()
    objections: frozenset[str] = frozenset()
    limits: Mapping[str, tuple[Limit, ...]] = field(default_factory=dict)
    lifecycle: Mapping[str, date | None] = field(default_factory=dict)

    @property
    def died_on(self) -> date | None:
        return self.lifecycle.get("date_of_death")


@dataclass(frozen=True)
class Decision:
    purpose: str | None
    allowed: tuple[str, ...]
    withheld: dict[str, str] = field(default_factory=dict)
    reason: str = ""
    archive: bool = False  # may also read what is in the intermediate archive (§9)

    @property
    def granted(self) -> bool:
        return not self.reason

    def require(self) -> Decision:
        """The decision itself when granted; Denied with the reason otherwise."""
        if self.reason:
            raise Denied(self.reason)
        return self


def authorize(
    *,
    policy: Policy,
    actor: Actor,
    action: Literal["read", "write"],
    facts: SubjectFacts,
    purpose: str | None,
    categories: Sequence[str] | None = None,
    at: datetime,
) -> Decision:
    """Decide which of `categories` the actor may read for `purpose`, or write.

    Reads default to every category the purpose uses. A purpose an objection covers is
    refused, and so, from a recorded death, are the purposes the policy closes then; a
    category under a limit serves only the purposes of its grounds.
    """
    inactive = actor.inactive_reason(at)
    if inactive:
        return Decision(purpose, (), reason=inactive)
    if action == "write":
        return _write(policy, actor, purpose, categories or ())
    spec = policy.purpose(purpose) if purpose else None
    if spec is None:
        return Decision(purpose, (), reason=f"unknown purpose '{purpose}'")
    if facts.kind not in spec.subject_kinds:
        return Decision(purpose, (), reason=f"purpose '{purpose}' does not apply to a {facts.kind}")
    refused = _refused_purpose(policy, facts, purpose, spec.objection_scopes, at)
    if refused:
        return Decision(purpose, (), reason=refused)
    if spec.legal_basis == "consent" and purpose not in facts.consented:
        return Decision(
            purpose,
            (),
            reason=f"purpose '{purpose}' rests on consent and the subject has no active consent",
        )
    granted = policy.granted(actor.roles, purpose)
    allowed, withheld = [], {}
    for category in categories or spec.categories:
        if policy.category(category) is None:
            withheld[category] = "unknown category"
        elif category not in spec.categories:
            withheld[category] = f"not used by purpose '{purpose}'"
        elif granted is not None and category not in granted:
            withheld[category] = f"no role of the principal may use it for '{purpose}'"
        elif limited := _limited(policy, facts, category, purpose, at):
            withheld[category] = limited
        else:
            allowed.append(category)
    archive = spec.archive and policy.reads_archive(actor.roles)
    return Decision(purpose, tuple(allowed), withheld, _refusal(allowed, withheld), archive)


def refusal_for_anyone(
    *,
    policy: Policy,
    actor: Actor,
    purpose: str | None,
    categories: Sequence[str] | None = None,
    at: datetime,
) -> str | None:
    """Why `actor` may read no one at all for `purpose` (its dates, an unknown purpose, roles
    granted none of the categories asked); None when some person could be read.

    Such a refusal says nothing of any person, so it may be told as it is; one that depends
    on the person is answered as an unknown id is (`errors.Unreadable`)."""
    inactive = actor.inactive_reason(at)
    if inactive:
        return inactive
    spec = policy.purpose(purpose) if purpose else None
    if spec is None:
        return f"unknown purpose '{purpose}'"
    granted = policy.granted(actor.roles, purpose)
    if granted is not None and not granted & set(categories or spec.categories):
        asked = ", ".join(sorted(categories)) if categories else "any category"
        return f"no role of '{actor.name}' may read {asked} for '{purpose}'"
    return None


def _refused_purpose(
    policy: Policy, facts: SubjectFacts, purpose: str, scopes: Sequence[str], at: datetime
) -> str | None:
    """Why the person's objections, or their death, refuse the purpose; None if they do not."""
    objected = sorted(set(scopes) & facts.objections)
    if objected:
        return f"the subject objected to {objected[0]}, which covers '{purpose}'"
    died_on = facts.died_on
    closed = sorted(set(scopes) & policy.after_death_scopes)
    if died_on is not None and died_on <= at.date() and closed:
        # Not the day itself: the reason goes to the trail, which outlives an erasure.
        return f"the subject has died: no {closed[0]} since, which covers '{purpose}'"
    return None


def _limited(
    policy: Policy, facts: SubjectFacts, category: str, purpose: str, at: datetime
) -> str | None:
    """Why a limit on the person's data keeps this category from the purpose, if one does."""
    for limit in (*facts.limits.get(EVERY_CATEGORY, ()), *facts.limits.get(category, ())):
        if limit.basis == "restriction":
            if purpose not in policy.restriction_purposes:
                return (
                    "processing of the subject's data is restricted (Art. 18): only legal "
                    "obligations, legal claims and the person's own rights may use it"
                )
            continue
        serves = _serves(policy, facts, limit, category, at)
        if purpose not in serves:
            return "since an erasure request, only for: " + ", ".join(sorted(serves))
    return None


def _serves(
    policy: Policy, facts: SubjectFacts, limit: Limit, category: str, at: datetime
) -> set[str]:
    """The purposes a category limited by an erasure request still serves: its grounds' (a
    running contract's only while it runs), and the person's own rights."""
    serves = {policy.rights_requests.purpose}
    for ground in limit.grounds:
        if ground != "contract" or policy.contract_running(facts.lifecycle, at.date()):
            serves |= policy.ground_purposes(ground, category, facts.kind)
    return serves


def erased_for_good(policy: Policy, facts: SubjectFacts, category: str, at: datetime) -> bool:
    """Whether an erasure request left this category of the person no purpose but their own
    rights: then new data of it is not stored again (a later import, an application's write)."""
    return any(
        limit.basis == "erasure"
        and _serves(policy, facts, limit, category, at) == {policy.rights_requests.purpose}
        for limit in (*facts.limits.get(EVERY_CATEGORY, ()), *facts.limits.get(category, ()))
    )


def require_purpose(policy: Policy, actor: Actor, purpose: str) -> None:
    """Denied unless one of the actor's roles is granted `purpose` (the operator always is):
    for work that serves one purpose on everything held, such as answering a rights request."""
    granted = policy.granted(actor.roles, purpose)
    if granted is not None and not granted:
        raise Denied(f"no role of the principal is granted '{purpose}'")


def depends_on_standing(policy: Policy, purpose: str) -> bool:
    """Whether the subject's consents and objections can change a read for `purpose`: when it
    rests on consent or an objection scope covers it. Otherwise callers need not look them up."""
    spec = policy.purpose(purpose)
    return spec is not None and (spec.legal_basis == "consent" or bool(spec.objection_scopes))


def _write(
    policy: Policy, actor: Actor, purpose: str | None, categories: Sequence[str]
) -> Decision:
    """A principal may collect a category that one of its roles may use for some purpose."""
    granted = policy.granted(actor.roles, None)
    allowed, withheld = [], {}
    for category in categories:
        if granted is not None and category not in granted:
            withheld[category] = "no role of the principal may use it for any purpose"
        else:
            allowed.append(category)
    if withheld:  # a write is whole or nothing: half a record is worse than none
        return Decision(purpose, (), withheld, _refusal([], withheld))
    return Decision(purpose, tuple(allowed))


def _refusal(allowed: Sequence[str], withheld: dict[str, str]) -> str:
    """Why a read discloses nothing (empty when something is disclosed)."""
    if allowed:
        return ""
    return (
        "; ".join(f"{category}: {why}" for category, why in withheld.items()) or "nothing asked for"
    )
