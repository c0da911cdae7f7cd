"""Who actually received a person's data, from the facts: the trail's allowed reads (by the
role each read served: the reader's roles granted that purpose), the disclosures to
authorities, and the subprocessors whose service processes the categories the person holds
for a purpose that applies to them (one resting on consent only if they ever gave it)
(§8, §19, Art. 15(1)(c), Art. 19)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from tutela.access.models import Disclosure, Principal
from tutela.audit.models import AuditEvent
from tutela.consent.models import Consent
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
    reads = session.execute(
        select(AuditEvent.principal, AuditEvent.purpose, AuditEvent.categories)
        .where(
            AuditEvent.subject_id == subject_id,
            AuditEvent.action == "read",
            AuditEvent.outcome == "allowed",
        )
        .distinct()
    ).all()
    roles = dict(
        session.execute(
            select(Principal.name, Principal.roles).where(
                Principal.name.in_({principal for principal, _, _ in reads})
            )
        ).all()
    )
    by_role: dict[str, set[str]] = {}
    for principal, purpose, categories in reads:
        read = {c for c in categories.split(",") if c}
        mine = roles.get(principal)
        served = [r for r in mine or () if read & policy.reach([r]).get(purpose, frozenset())]
        for role in served or ([OPERATOR] if mine is None else mine):
            by_role.setdefault(role, set()).update(read)
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
    consented = set(
        session.scalars(select(Consent.purpose).where(Consent.subject_id == subject_id))
    )
    for sub in policy.subprocessors:
        applies = any(
            kind in (spec := policy.purpose(p)).subject_kinds
            and (spec.legal_basis != "consent" or p in consented)
            for p in sub.purposes
        )
        processed = set(sub.categories) & set(held)
        if applies and processed:
            found.append(Received(sub.id, sub.name, "subprocessor", frozenset(processed)))
    return found
