"""§8 operations that change who may reach what, or record a disclosure: each is audited."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from tutela.access import oversight, service
from tutela.access.gate import Actor
from tutela.access.models import AccessReport, Disclosure, Principal
from tutela.audit import service as audit
from tutela.audit.service import Event
from tutela.crypto.keyring import Keyring
from tutela.policy.schema import Policy

__all__ = [
    "add_principal",
    "change_roles",
    "deactivate_principal",
    "disclose",
    "reissue_key",
    "report_access",
    "resolve",
]


def _principal_changed(
    session: Session,
    policy: Policy,
    actor: Actor,
    action: str,
    at: datetime,
    name: str,
    **detail: object,
) -> None:
    """The audit event of a change to a principal, in the change's transaction."""
    event = Event(actor.name, action, "done", detail={"principal": name, **detail})
    audit.log(session, policy, at, event)


def add_principal(
    *,
    session: Session,
    policy: Policy,
    actor: Actor,
    name: str,
    roles: Sequence[str],
    active_from: datetime | None,
    active_until: datetime | None,
    at: datetime,
) -> tuple[Principal, str]:
    """A new principal and its API key, shown this once."""
    principal = service.create_principal(
        session=session,
        policy=policy,
        name=name,
        roles=roles,
        at=at,
        active_from=active_from,
        active_until=active_until,
    )
    key = service.issue_key(session=session, principal=principal, at=at)
    _principal_changed(session, policy, actor, "add_principal", at, name, roles=sorted(roles))
    return principal, key


def deactivate_principal(
    *, session: Session, policy: Policy, actor: Actor, name: str, at: datetime
) -> int:
    principal = service.get_principal(session=session, name=name, lock=True)
    revoked = service.deactivate(session=session, policy=policy, principal=principal, at=at)
    _principal_changed(
        session, policy, actor, "deactivate_principal", at, name, keys_revoked=revoked
    )
    return revoked


def reissue_key(
    *, session: Session, policy: Policy, actor: Actor, name: str, at: datetime
) -> tuple[int, str]:
    """The principal's keys revoked and a new one issued: (keys revoked, new key)."""
    principal = service.get_principal(session=session, name=name)
    revoked, key = service.reissue_key(session=session, principal=principal, at=at)
    _principal_changed(session, policy, actor, "reissue_key", at, name, keys_revoked=revoked)
    return revoked, key


def change_roles(
    *,
    session: Session,
    policy: Policy,
    actor: Actor,
    name: str,
    add: Sequence[str],
    remove: Sequence[str],
    at: datetime,
) -> tuple[list[str], list[str]]:
    """The principal's roles changed: (before, after), both in the audit event."""
    principal = service.get_principal(session=session, name=name, lock=True)
    before, after = service.change_roles(
        session=session, policy=policy, principal=principal, add=add, remove=remove, at=at
    )
    _principal_changed(session, policy, actor, "change_roles", at, name, before=before, after=after)
    return before, after


def disclose(
    *,
    session: Session,
    policy: Policy,
    actor: Actor,
    authority: str,
    legal_basis: str,
    subject_id: str,
    categories: Sequence[str],
    reference: str | None,
    at: datetime,
) -> Disclosure:
    disclosure = oversight.record_disclosure(
        session=session,
        policy=policy,
        authority=authority,
        legal_basis=legal_basis,
        subject_id=subject_id,
        categories=categories,
        reference=reference,
        recorded_by=actor.name,
        at=at,
    )
    audit.log(
        session,
        policy,
        at,
        Event(
            actor.name,
            "disclose",
            "done",
            subject_id=subject_id,
            categories=disclosure.categories,
            reason=f"disclosed to {disclosure.authority}",
            detail={"disclosure": disclosure.id},
        ),
    )
    return disclosure


def report_access(
    *,
    session: Session,
    policy: Policy,
    keyring: Keyring,
    actor: Actor,
    subject_id: str | None,
    categories: Sequence[str],
    description: str,
    at: datetime,
) -> AccessReport:
    report = oversight.file_report(
        session=session,
        policy=policy,
        keyring=keyring,
        reporter=actor.name,
        subject_id=subject_id,
        categories=categories,
        description=description,
        at=at,
    )
    audit.log(
        session,
        policy,
        at,
        Event(
            actor.name,
            "report_access",
            "done",
            subject_id=subject_id,
            categories=report.categories,
            detail={"report": report.id},
        ),
    )
    return report


def resolve(
    *,
    session: Session,
    policy: Policy,
    keyring: Keyring,
    actor: Actor,
    report_id: int,
    resolution: str,
    at: datetime,
) -> AccessReport:
    report = oversight.resolve_report(
        session=session, keyring=keyring, report_id=report_id, resolution=resolution, at=at
    )
    audit.log(
        session,
        policy,
        at,
        Event(
            actor.name,
            "resolve_report",
            "done",
            subject_id=report.subject_id,
            detail={"report": report.id},
        ),
    )
    return report
