"""Changes to the consent ledger, each audited."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from tutela.access.gate import Actor
from tutela.audit import service as audit
from tutela.audit.service import Event
from tutela.consent import service
from tutela.errors import InvalidInput
from tutela.policy.schema import Policy
from tutela.subjects.models import Subject

__all__ = ["give", "object_to", "withdraw"]


def give(
    *,
    session: Session,
    policy: Policy,
    actor: Actor,
    subject: Subject,
    purpose: str,
    channel: str | None,
    expires_at: datetime | None,
    at: datetime,
) -> None:
    """Record the subject's consent to a purpose resting on their kind's consent."""
    spec = policy.purpose(purpose)  # an unknown one, or one on another basis: the service says
    if (
        spec is not None
        and spec.legal_basis == "consent"
        and subject.kind not in spec.subject_kinds
    ):
        raise InvalidInput(
            f"purpose '{purpose}' does not rest on the consent of a {subject.kind}",
            location="purpose",
        )
    service.give(
        session=session,
        policy=policy,
        subject_id=subject.id,
        purpose=purpose,
        at=at,
        channel=channel,
        expires_at=expires_at,
    )
    audit.log(
        session,
        policy,
        at,
        Event(actor.name, "give_consent", "done", subject_id=subject.id, purpose=purpose),
    )


def withdraw(
    *, session: Session, policy: Policy, actor: Actor, subject: Subject, purpose: str, at: datetime
) -> None:
    service.withdraw(session=session, subject_id=subject.id, purpose=purpose, at=at)
    audit.log(
        session,
        policy,
        at,
        Event(actor.name, "withdraw_consent", "done", subject_id=subject.id, purpose=purpose),
    )


def object_to(
    *, session: Session, policy: Policy, actor: Actor, subject: Subject, scope: str, at: datetime
) -> None:
    """Record the subject's objection to a scope that some purpose reaching their kind names."""
    if policy.objection(scope) is not None and scope not in {
        o.id for o in policy.objections_for(subject.kind)
    }:
        raise InvalidInput(
            f"no purpose reaching a {subject.kind} can be objected to as '{scope}'",
            location="scope",
        )
    service.object_to(session=session, policy=policy, subject_id=subject.id, scope=scope, at=at)
    if scope in policy.suppressing_scopes:  # bought or researched data must not bring them back
        service.suppress(session=session, subject_id=subject.id, reason="objection", at=at)
    audit.log(
        session,
        policy,
        at,
        Event(actor.name, "object", "done", subject_id=subject.id, reason=f"objection to {scope}"),
    )
