"""Telling people of a new purpose (GDPR Art. 13(3), 14(4)): an activated version that adds
a purpose queues a job; the worker carries it out a batch of people at a time.

Each batch reads the e-mail addresses of the people of the purpose's kinds (living, holding
an address) under the rights-requests purpose of the policy, records one audit event naming
them, then queues one message each in the outbox, in every language of the policy. The job
remembers where it stopped: a worker killed midway resumes after the last batch committed.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from tutela.audit import service as audit
from tutela.audit.service import Event
from tutela.crypto.keyring import Keyring
from tutela.crypto.models import DataKey
from tutela.db import session_scope, utc_naive
from tutela.outbox.service import enqueue_email
from tutela.policy import Policy
from tutela.policy.texts import Localised
from tutela.register import words
from tutela.register.models import PolicyNotice
from tutela.subjects.models import PersonalValue, Subject

__all__ = ["BATCH", "NOTIFIER", "jobs", "pending", "queue", "send_due"]

BATCH = 1000
NOTIFIER = "policy-notices"  # the principal the trail names for these reads


def queue(*, session: Session, version: str, purposes: list[str], at: datetime) -> None:
    for purpose in purposes:
        session.add(
            PolicyNotice(
                version=version,
                purpose=purpose,
                status="pending",
                queued=0,
                created_at=utc_naive(at),
            )
        )
    session.flush()


def jobs(session: Session) -> list[PolicyNotice]:
    return list(session.scalars(select(PolicyNotice).order_by(PolicyNotice.id)))


def pending(session: Session) -> list[PolicyNotice]:
    return list(session.scalars(select(PolicyNotice).where(PolicyNotice.status == "pending")))


def send_due(*, engine, keyring: Keyring, policy: Policy, at: datetime, batch: int = BATCH) -> int:
    """Carry out every pending job, a committed batch at a time; the messages queued."""
    total = 0
    with session_scope(engine, write=False) as session:
        jobs = [job.id for job in pending(session)]
    for job_id in jobs:
        while True:
            with session_scope(engine) as session:
                # Locked until this batch commits: another worker waits, then goes on after it.
                job = session.get(PolicyNotice, job_id, with_for_update=True)
                if job.status != "pending":
                    break
                sent, more = _one_batch(session, keyring, policy, job, at, batch)
                total += sent
            if not more:
                break
    return total


def _one_batch(
    session: Session, keyring: Keyring, policy: Policy, job: PolicyNotice, at: datetime, size: int
) -> tuple[int, bool]:
    purpose = policy.purpose(job.purpose)
    address = policy.record_field("email")
    if purpose is None or address is None:  # gone from the policy since: nobody to tell of it
        job.status, job.done_at = "done", utc_naive(at)
        return 0, False
    subjects_t, values_t, keys_t = Subject.__table__, PersonalValue.__table__, DataKey.__table__
    query = (
        select(subjects_t.c.id, values_t.c.ciphertext, keys_t.c.wrapped)
        .join(
            values_t,
            and_(
                values_t.c.subject_id == subjects_t.c.id,
                values_t.c.category == address[0],
                values_t.c.field == address[1],
            ),
        )
        .join(keys_t, keys_t.c.subject_id == subjects_t.c.id)
        .where(subjects_t.c.kind.in_(purpose.subject_kinds), subjects_t.c.date_of_death.is_(None))
        .order_by(subjects_t.c.id)
        .limit(size)
    )
    if job.after_subject is not None:
        query = query.where(subjects_t.c.id > job.after_subject)
    rows = session.execute(query).all()
    if not rows:
        job.status, job.done_at = "done", utc_naive(at)
        return 0, False
    ids = [sid for sid, _, _ in rows]
    event = Event(
        NOTIFIER,
        "inform",
        "done",
        categories=[address[0]],
        purpose=policy.rights_requests.purpose,
        reason=f"Art. 13(3): the new purpose '{purpose.id}' of policy {job.version}",
        detail={"notice": job.id},
        subjects=ids,
    )
    audit.log(session, policy, at, event)  # recorded before anything is decrypted
    topic, body = _message(policy, purpose)
    for sid, blob, wrapped in rows:
        to = keyring.cipher_for(sid, wrapped).decrypt(address[0], address[1], blob)
        enqueue_email(
            session=session,
            keyring=keyring,
            to=to,
            subject=f"{policy.controller.name}: {topic}",
            body=body,
            at=at,
        )
    job.after_subject, job.queued = ids[-1], job.queued + len(rows)
    more = len(rows) == size
    if not more:
        job.status, job.done_at = "done", utc_naive(at)
    return len(rows), more


def _message(policy: Policy, purpose) -> tuple[str, str]:
    """The notice of a new purpose, in every language of the policy, from its own texts."""
    parts = []
    for lang in policy.languages:
        t = Localised(policy, lang)
        article, basis = words.legal_basis(purpose.legal_basis, lang)
        lines = [
            words.word("m_new_purpose", lang),
            f"- {t.of('purposes', purpose, 'name')}: {basis} ({article})",
        ]
        if purpose.legitimate_interest:
            interest = t.of("purposes", purpose, "legitimate_interest")
            lines.append(f"  {words.word('n_interest', lang)}{words.word('colon', lang)}{interest}")
        if purpose.withdrawal:
            withdraw = t.of("purposes", purpose, "withdrawal")
            lines.append(f"  {words.word('n_consent', lang)}{words.word('colon', lang)}{withdraw}")
        dpo = policy.dpo
        lines.append(
            f"{words.word('m_rights', lang)} {policy.controller.email}; "
            f"{words.word('dpo', lang)}{words.word('colon', lang)}{dpo.name}, {dpo.email}."
        )
        parts.append("\n".join(lines))
    return words.word("m_topic", policy.languages[0]), "\n\n".join(parts)
