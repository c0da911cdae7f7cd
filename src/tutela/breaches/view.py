"""What `breaches show` and the API say of one breach: its summary, its assessment with the
reasons, each notification to the authority, and how the messages to the people went."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tutela.breaches.models import Breach, BreachPerson
from tutela.breaches.service import local, note, summary
from tutela.breaches.steps import delay_label, notifications
from tutela.crypto.keyring import Keyring
from tutela.outbox.models import OutboxMessage
from tutela.policy.schema import Policy

__all__ = ["full"]


def delivery(session: Session, breach: Breach) -> dict[str, int]:
    """The messages to the people, by outbox status (pending, sent, failed)."""
    rows = session.execute(
        select(OutboxMessage.status, func.count())
        .join(BreachPerson, BreachPerson.message_id == OutboxMessage.id)
        .where(BreachPerson.breach_id == breach.id)
        .group_by(OutboxMessage.status)
    )
    return dict(sorted(rows.all()))


def full(session: Session, keyring: Keyring, policy: Policy, breach: Breach, at: datetime) -> dict:
    out = summary(session, keyring, policy, breach, at)
    out["assessment"] = breach.assessment
    out["assessed_at"] = breach.assessed_at
    out["measures"] = note(keyring, breach, "measures")
    out["consequences"] = note(keyring, breach, "consequences")
    out["notifications"] = [
        {
            "phase": n.phase,
            "submitted_at": n.submitted_at,
            "submitted_local": local(policy, n.submitted_at),
            "submitted_by": n.submitted_by,
            "reference": n.reference,
            "late": n.submitted_at > breach.deadline_at,
            "delay_reason": keyring.open_note(n.delay_reason, label=delay_label(breach, n.phase))
            if n.delay_reason
            else None,
        }
        for n in notifications(session, breach)
    ]
    out["told_at"], out["told_how"] = breach.told_at, breach.told_how
    out["messages"] = delivery(session, breach)
    return out
