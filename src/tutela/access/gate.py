"""The single authorisation gate: principal x subject x categories x purpose -> decision.

Every read or write of personal data asks `authorize` first and touches only what it allows.
A decision carries its reasons, so that a refusal explains itself and is audited as such.
"""

from __future__ import annotations

import getpass
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from tutela.db import utc_naive
from tutela.errors import Denied
from tutela.policy.schema import Policy

__all__ = ["Actor", "Decision", "authorize", "depends_on_standing", "require_purpose"]


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
    subject_kind: str,
    purpose: str | None,
    categories: Sequence[str] | None = None,
    consented: Collection[str] = (),
    objections: Collection[str] = (),
    restricted: bool = False,
    at: datetime,
) -> Decision:
    """Decide which of `categories` the actor may read for `purpose`, or write.

    Reads default to every category the purpose uses; a restricted subject's data serves only
    `archive` purposes (legal claims and obligations). `consented` are the purposes the
    subject holds an active consent for; `objections` the scopes the subject objected to.
    """
    inactive = actor.inactive_reason(at)
    if inactive:
        return Decision(purpose, (), reason=inactive)
    if action == "write":
        return _write(policy, actor, purpose, categories or ())
    spec = policy.purpose(purpose) if purpose else None
    if spec is None:
        return Decision(purpose, (), reason=f"unknown purpose '{purpose}'")
    if subject_kind not in spec.subject_kinds:
        return Decision(
            purpose, (), reason=f"purpose '{purpose}' does not apply to a {subject_kind}"
        )
    if restricted and not spec.archive:
        return Decision(
            purpose,
            (),
            reason="processing of the subject's data is restricted: only legal claims and "
            "obligations may use it",
        )
    objected = sorted(set(spec.objection_scopes) & set(objections))
    if objected:
        return Decision(
            purpose, (), reason=f"the subject objected to {objected[0]}, which covers '{purpose}'"
        )
    if spec.legal_basis == "consent" and purpose not in consented:
        return Decision(
            purpose,
            (),
            reason=f"purpose '{purpose}' rests on consent and the subject has no active consent",
        )
    granted = _granted(policy, actor.roles, purpose)
    allowed, withheld = [], {}
    for category in categories or spec.categories:
        if policy.category(category) is None:
            withheld[category] = "unknown category"
        elif category not in spec.categories:
            withheld[category] = f"not used by purpose '{purpose}'"
        elif granted is not None and category not in granted:
            withheld[category] = f"no role of the principal may use it for '{purpose}'"
        else:
            allowed.append(category)
    archive = spec.archive and (
        actor.roles is None
        or any((r := policy.recipient(role)) and r.archive_access for role in actor.roles)
    )
    return Decision(purpose, tuple(allowed), withheld, _refusal(allowed, withheld), archive)


def require_purpose(policy: Policy, actor: Actor, purpose: str) -> None:
    """Denied unless one of the actor's roles is granted `purpose` (the operator always is):
    for work that serves one purpose on everything held, such as answering a rights request."""
    granted = _granted(policy, actor.roles, purpose)
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
    granted = _granted(policy, actor.roles, None)
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


def _granted(policy: Policy, roles: Sequence[str] | None, purpose: str | None) -> set[str] | None:
    """Categories the roles are granted for `purpose` (any purpose when None); None: no limit."""
    if roles is None:
        return None
    granted: set[str] = set()
    for role in roles:
        recipient = policy.recipient(role)
        for grant in recipient.grants if recipient else ():
            if purpose is None or purpose in grant.purposes:
                granted.update(grant.categories)
    return granted
