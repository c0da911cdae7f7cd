"""Who actually received a person's data, from the facts: the trail's allowed reads (by the
roles of the principals who read), the disclosures to authorities, and the subprocessors
whose service processes the categories the person holds (§8, §19, Art. 15(1)(c), Art. 19)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from tutela.access.models import Disclosure, Principal
from tutela.audit.models import AuditEvent
from tutela.policy.schema import Policy

__all__ = ["OPERATOR", "Received", "received"]

OPERATOR = "operator"  # staff reading at the console, as the controller itself


@dataclass(frozen=True)
class Received:
    """One recipient of the person's data and the categories it received. `kind` is the
    recipient's (`internal`, `external`), or `subprocessor`, `authority` or `operator`."""

    id: str
    name: str
    kind: str
    categories: frozenset[str]


def received(
    *, session: Session, policy: Policy, subject_id: str, kind: str, held: Collection[str]
) -> list[Received]:
    """Every recipient of the person's data, with what it received, by name."""
    by_principal: dict[str, set[str]] = {}
    for principal, categories in session.execute(
        select(AuditEvent.principal, AuditEvent.categories)
        .where(
            AuditEvent.subject_id == subject_id,
            AuditEvent.action == "read",
            AuditEvent.outcome == "allowed",
        )
        .distinct()
    ):
        by_principal.setdefault(principal, set()).update(c for c in categories.split(",") if c)
    roles = dict(
        session.execute(
            select(Principal.name, Principal.roles).where(Principal.name.in_(list(by_principal)))
        ).all()
    )
    by_role: dict[str, set[str]] = {}
    for principal, categories in by_principal.items():
        for role in roles.get(principal) or [OPERATOR]:
            by_role.setdefault(role, set()).update(categories)
    found = []
    for role, categories in sorted(by_role.items()):
        recipient = policy.recipient(role)
        if recipient is not None:
            found.append(Received(role, recipient.name, recipient.kind, frozenset(categories)))
        elif role == OPERATOR:
            staff = f"{policy.controller.name} staff at the console"
            found.append(Received(OPERATOR, staff, OPERATOR, frozenset(categories)))
    by_authority: dict[str, set[str]] = {}
    for disclosure in session.scalars(
        select(Disclosure).where(Disclosure.subject_id == subject_id)
    ):
        by_authority.setdefault(disclosure.authority, set()).update(disclosure.categories)
    found += [
        Received(authority, authority, "authority", frozenset(categories))
        for authority, categories in sorted(by_authority.items())
    ]
    for sub in policy.subprocessors:
        applies = any(kind in policy.purpose(p).subject_kinds for p in sub.purposes)
        processed = set(sub.categories) & set(held)
        if applies and processed:
            found.append(Received(sub.id, sub.name, "subprocessor", frozenset(processed)))
    return found
