"""The single authorisation gate: principal roles x subject x categories x purpose.

Every read of personal data asks `authorize` first and decrypts only what it allows. The
decision carries its reasons so that a denial explains itself.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from tutela.errors import Denied
from tutela.policy.schema import Policy

__all__ = ["Decision", "authorize"]


@dataclass(frozen=True)
class Decision:
    purpose: str
    allowed: tuple[str, ...]
    withheld: dict[str, str] = field(default_factory=dict)
    reason: str = ""

    def require(self) -> Decision:
        """The decision itself when anything is allowed; Denied with the reason otherwise."""
        if not self.allowed:
            raise Denied(self.reason or "; ".join(f"{c}: {r}" for c, r in self.withheld.items()))
        return self


def authorize(
    *,
    policy: Policy,
    roles: Sequence[str] | None,
    subject_kind: str,
    purpose: str,
    categories: Sequence[str] | None = None,
    consented_purposes: Collection[str] = (),
) -> Decision:
    """Decide which of `categories` (default: all the purpose uses) may be read.

    `roles` None is the operator at the console: bounded by the purpose, not by a role.
    `consented_purposes` are the purposes the subject holds an active consent for.
    """
    spec = policy.purpose(purpose)
    if spec is None:
        return Decision(purpose, (), reason=f"unknown purpose '{purpose}'")
    if subject_kind not in spec.subject_kinds:
        return Decision(
            purpose, (), reason=f"purpose '{purpose}' does not apply to a {subject_kind}"
        )
    if spec.legal_basis == "consent" and purpose not in consented_purposes:
        return Decision(
            purpose,
            (),
            reason=f"purpose '{purpose}' rests on consent and the subject has no active consent",
        )
    asked = list(categories) if categories else list(spec.categories)
    granted = _granted_categories(policy, roles, purpose)
    allowed, withheld = [], {}
    for category in asked:
        if policy.category(category) is None:
            withheld[category] = "unknown category"
        elif category not in spec.categories:
            withheld[category] = f"not used by purpose '{purpose}'"
        elif granted is not None and category not in granted:
            withheld[category] = f"no role of the principal may use it for '{purpose}'"
        else:
            allowed.append(category)
    reason = "" if allowed else "nothing asked for may be disclosed for this purpose"
    return Decision(purpose, tuple(allowed), withheld, reason)


def _granted_categories(
    policy: Policy, roles: Sequence[str] | None, purpose: str
) -> set[str] | None:
    if roles is None:
        return None
    granted: set[str] = set()
    for role in roles:
        recipient = policy.recipient(role)
        for grant in recipient.grants if recipient else ():
            if purpose in grant.purposes:
                granted.update(grant.categories)
    return granted
