"""The DPO is e-mailed as a breach's deadline to notify the authority nears, and once it has
passed (Art. 33(1)), while the authority awaits it: once each, by whichever worker comes first."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from tutela.audit import service as audit
from tutela.audit.service import Event
from tutela.breaches.models import Breach
from tutela.breaches.service import clock_runs, local
from tutela.clock import utc_naive
from tutela.crypto.keyring import Keyring
from tutela.outbox.service import enqueue_email
from tutela.policy.schema import Policy

__all__ = ["REMINDER", "remind"]

REMINDER = "breach-clock"  # the principal the trail names for these messages


def remind(*, session: Session, keyring: Keyring, policy: Policy, at: datetime) -> int:
    """Queue what is due to the DPO; the number of messages queued."""
    if policy.breaches is None or not policy.dpo.email:
        return 0
    moment = utc_naive(at)
    warn = timedelta(hours=policy.breaches.warn_hours_before)
    due = session.scalars(
        select(Breach)
        .where(
            Breach.status != "closed",
            Breach.notified_at.is_(None),
            Breach.deadline_at <= moment + warn,
        )
        .with_for_update(skip_locked=True)  # another worker's: it tells the DPO
    ).all()
    sent = 0
    for breach in filter(clock_runs, due):
        deadline = local(policy, breach.deadline_at)
        if breach.deadline_at <= moment and breach.overdue_told_at is None:
            breach.overdue_told_at = moment
            body = (
                f"Breach {breach.id} ({', '.join(breach.natures)}) was not notified to "
                f"{policy.supervisory_authority.name} by its deadline, {deadline}. Notify it "
                "now, with the reasons for the delay (GDPR Art. 33(1))."
            )
            topic = f"breach {breach.id}: the deadline to notify has passed"
        elif breach.deadline_at > moment and breach.warned_at is None:
            breach.warned_at = moment
            hours = (breach.deadline_at - moment).total_seconds() / 3600
            body = (
                f"Breach {breach.id} ({', '.join(breach.natures)}) must be notified to "
                f"{policy.supervisory_authority.name} by {deadline}: {hours:.0f} hours left "
                "(GDPR Art. 33(1))."
            )
            topic = f"breach {breach.id}: {hours:.0f} hours left to notify"
        else:
            continue
        enqueue_email(
            session=session,
            keyring=keyring,
            to=policy.dpo.email,
            subject=f"Tutela: {topic}",
            body=body,
            at=at,
        )
        event = Event(
            REMINDER, "breach_reminder", "done", reason=topic, detail={"breach": breach.id}
        )
        audit.log(session, policy, at, event)
        sent += 1
    return sent
