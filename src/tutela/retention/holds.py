"""Legal holds placed and lifted, each audited: a hold suspends deletion and anonymisation of
the categories it covers (a debt, a dispute: §7), never archiving."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from tutela.access.gate import Actor
from tutela.audit import service as audit
from tutela.audit.service import Event
from tutela.policy.schema import Policy
from tutela.retention import service
from tutela.retention.models import LegalHold

__all__ = ["place_hold", "release_hold"]


def place_hold(
    *,
    session: Session,
    policy: Policy,
    actor: Actor,
    subject_id: str,
    categories: list[str],
    purpose: str,
    reference: str,
    at: datetime,
) -> LegalHold:
    """Suspend deletion and anonymisation of the subject's categories; audited."""
    hold = service.place_hold(
        session=session,
        policy=policy,
        subject_id=subject_id,
        categories=categories,
        purpose=purpose,
        reference=reference,
        by=actor.name,
        at=at,
    )
    audit.log(
        session,
        policy,
        at,
        Event(
            actor.name,
            "place_hold",
            "done",
            subject_id=subject_id,
            categories=hold.categories,
            purpose=purpose,
            detail={"hold": hold.id},
        ),
    )
    return hold


def release_hold(
    *, session: Session, policy: Policy, actor: Actor, hold_id: int, at: datetime
) -> LegalHold:
    """Lift a hold: the rules apply again at the next run; audited."""
    hold = service.release_hold(session=session, hold_id=hold_id, by=actor.name, at=at)
    audit.log(
        session,
        policy,
        at,
        Event(
            actor.name,
            "release_hold",
            "done",
            subject_id=hold.subject_id,
            detail={"hold": hold.id},
        ),
    )
    return hold
