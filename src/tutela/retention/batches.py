"""One step of a retention run for one batch of subjects, in the caller's transaction.

The batch goes into a temporary table of the connection, in parts that share the same
categories: statements join it instead of carrying thousands of ids each. Then, set-based:
the subjects no longer due are dropped, the statistics an anonymisation leaves are counted,
the step's statements run, subjects left with nothing are removed with their data key, and
the audit events and, for a removal, the erasure receipt are written.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time

from sqlalchemy import (
    Boolean,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    bindparam,
    delete,
    exists,
    false,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Session

from tutela.access.gate import Actor
from tutela.audit import service as audit
from tutela.audit.service import Event
from tutela.crypto.keyring import Keyring
from tutela.crypto.models import DataKey
from tutela.db import insert_ids, lock_rows, utc_naive
from tutela.policy.schema import Policy
from tutela.retention.models import AnonymisedCount, LegalHold
from tutela.retention.schedule import latest_anchor
from tutela.retention.service import Step
from tutela.subjects import receipts
from tutela.subjects import service as subjects
from tutela.subjects.models import Connection, Payment, PersonalValue, Subject

__all__ = ["Applied", "apply"]

subjects_t = Subject.__table__
values_t = PersonalValue.__table__
connections_t = Connection.__table__
payments_t = Payment.__table__


@dataclass
class Applied:
    """What one batch did: subjects acted on and removed, their external ids when listed,
    and whether a receipt was issued."""

    acted: int = 0
    removed: int = 0
    external_ids: list[str] = field(default_factory=list)
    receipt: bool = False


batch_t = Table(
    "retention_batch",
    MetaData(),
    Column("subject_id", String(32), primary_key=True),
    Column("part", Integer, nullable=False),
    Column("emptied", Boolean, nullable=False),
    prefixes=["TEMPORARY"],
)
_IN_BATCH = select(batch_t.c.subject_id)
_IN_PART = _IN_BATCH.where(batch_t.c.part == bindparam("part"))


@dataclass
class Part:
    """The subjects of a batch the step is due for with the same categories."""

    index: int
    categories: frozenset[str]
    subject_ids: list[str]


def apply(
    session: Session,
    policy: Policy,
    keyring: Keyring,
    actor: Actor,
    step: Step,
    batch: dict[str, set[str]],
    as_of: date,
    at: datetime,
    listing: bool = False,
) -> Applied:
    """The step for one batch of subjects (their due categories, by subject id)."""
    by_categories: dict[frozenset[str], list[str]] = defaultdict(list)
    for sid, categories in batch.items():
        by_categories[frozenset(categories)].append(sid)
    parts = [Part(n, *item) for n, item in enumerate(by_categories.items())]
    _load_batch(session, parts)
    parts = _still_due(session, step, parts, as_of)
    applied = Applied()
    if not parts:
        return applied
    if listing:
        applied.external_ids = session.scalars(
            select(subjects_t.c.external_id).where(subjects_t.c.id.in_(_IN_BATCH))
        ).all()
    if step.action == "anonymise":
        _count_anonymised(session, policy, keyring, step)
    now = utc_naive(at)
    records = sum(_act(session, step, part, as_of, now) for part in parts)
    applied.removed, keys = _remove_emptied(session, keyring) if step.removes else (0, [])
    reason = f"retention rule {step.rule.id}"
    detail = {"rule": step.rule.id, "as_of": as_of.isoformat()}  # the same for the batch
    last = audit.log(
        session,
        policy,
        at,
        *(
            Event(
                actor.name,
                step.action,
                "done",
                categories=sorted(p.categories),
                reason=reason,
                detail=detail,
                subjects=p.subject_ids,
            )
            for p in parts
        ),
    )
    if step.removes:
        erased = defaultdict(int)
        for part in parts:
            for category in part.categories:
                erased[category] += len(part.subject_ids)
        receipts.issue(
            session=session,
            at=at,
            policy_version=policy.version,
            erased=dict(erased),
            events=list(range(last - len(parts) + 1, last + 1)),
            rule=step.rule.id,
            data_keys=keys,
            subjects=sum(len(p.subject_ids) for p in parts),
            records=records,
            as_of=as_of.isoformat(),
        )
        applied.receipt = True
    applied.acted = sum(len(p.subject_ids) for p in parts)
    return applied


def _act(session: Session, step: Step, part: Part, as_of: date, now: datetime) -> int:
    """The step's statements for the subjects of one part; the rows they touched."""
    categories, ids = part.categories, {"part": part.index}
    touched = 0
    record = [c for c in categories if c in step.record_categories]
    if record:
        rows = [values_t.c.subject_id.in_(_IN_PART), values_t.c.category.in_(record)]
        if step.rule.anchor == "collected_at":
            cutoff = latest_anchor(as_of, step.months)
            rows.append(values_t.c.collected_at <= datetime.combine(cutoff, time.max))
        touched += _archive_or_remove(session, step, values_t, rows, ids, now)
    if step.connections in categories:
        touched += session.execute(
            delete(connections_t).where(connections_t.c.subject_id.in_(_IN_PART)), ids
        ).rowcount
    if step.payments in categories:
        rows = [payments_t.c.subject_id.in_(_IN_PART)]
        if step.rule.unless == "retain_consent":
            rows.append(payments_t.c.retain_consent == false())
        touched += _archive_or_remove(session, step, payments_t, rows, ids, now)
    return touched


def _archive_or_remove(
    session: Session, step: Step, table: Table, rows: list, ids: dict, now: datetime
) -> int:
    """Archive the rows (those not archived yet), or delete them, as the step says."""
    if step.action == "archive":
        statement = (
            update(table).where(*rows, table.c.archived_at.is_(None)).values(archived_at=now)
        )
    else:
        statement = delete(table).where(*rows)
    return session.execute(statement, ids).rowcount


def _load_batch(session: Session, parts: list[Part]) -> None:
    """Put the batch's subjects in the connection's batch table, part by part."""
    connection = session.connection()
    batch_t.create(connection, checkfirst=True)
    connection.execute(delete(batch_t))
    for part in parts:
        insert_ids(
            connection, batch_t, "subject_id", part.subject_ids, part=part.index, emptied=False
        )


def _still_due(session: Session, step: Step, parts: list[Part], as_of: date) -> list[Part]:
    """The parts without the subjects no longer due now that they are locked (a new contact
    moved their anchor, or they are gone), which leave the batch table too."""
    lock_rows(session, select(subjects_t.c.id).where(subjects_t.c.id.in_(_IN_BATCH)))
    if step.rule.anchor == "collected_at":
        return parts  # the statements themselves touch only values collected long enough ago
    anchor = subjects_t.c[step.rule.anchor]
    stale = set(
        session.scalars(
            _IN_BATCH.where(
                ~exists().where(
                    subjects_t.c.id == batch_t.c.subject_id,
                    anchor <= latest_anchor(as_of, step.months),
                )
            )
        )
    )
    if not stale:
        return parts
    session.execute(delete(batch_t).where(batch_t.c.subject_id.in_(stale)))
    for part in parts:
        part.subject_ids = [sid for sid in part.subject_ids if sid not in stale]
    return [part for part in parts if part.subject_ids]


def _count_anonymised(session: Session, policy: Policy, keyring: Keyring, step: Step) -> None:
    """What survives anonymisation: counts by kind, source, country and month of first contact.
    The country is decrypted here, in memory, the last time anyone can."""
    where = policy.record_field("country")
    country = values_t.alias("country")
    on = [country.c.subject_id == subjects_t.c.id]
    if where:
        on += [country.c.category == where[0], country.c.field == where[1]]
    else:
        on.append(false())
    keys_t = DataKey.__table__
    rows = session.execute(
        select(
            subjects_t.c.id,
            subjects_t.c.kind,
            subjects_t.c.source,
            subjects_t.c.first_contact_at,
            country.c.ciphertext,
            keys_t.c.wrapped,
        )
        .outerjoin(country, and_(*on))
        .outerjoin(keys_t, keys_t.c.subject_id == subjects_t.c.id)
        .where(subjects_t.c.id.in_(_IN_BATCH))
    ).all()
    counts = Counter()
    for sid, kind, source, first, blob, wrapped in rows:
        code = None
        if blob is not None and wrapped is not None:
            code = keyring.cipher_for(sid, wrapped).decrypt(*where, blob)
        counts[
            (kind, source, code or "unknown", first.strftime("%Y-%m") if first else "unknown")
        ] += 1
    session.execute(
        insert(AnonymisedCount),
        [
            {"rule": step.rule.id, "kind": k, "source": s, "country": c, "month": m, "count": n}
            for (k, s, c, m), n in counts.items()
        ],
    )


def _remove_emptied(session: Session, keyring: Keyring) -> tuple[int, list[str]]:
    """Subjects of the batch left with no personal data go entirely, data key first: the row
    that named them (external id, exact dates) would otherwise still link back to them. The
    number removed, and the ids of the data keys destroyed."""
    holds_t = LegalHold.__table__
    of_batch = batch_t.c.subject_id
    emptied = session.execute(
        update(batch_t)
        .where(  # most subjects keep some values: the first test settles them
            ~exists().where(values_t.c.subject_id == of_batch),
            ~exists().where(connections_t.c.subject_id == of_batch),
            ~exists().where(payments_t.c.subject_id == of_batch),
            ~exists().where(holds_t.c.subject_id == of_batch, holds_t.c.released_at.is_(None)),
            exists().where(subjects_t.c.id == of_batch),
        )
        .values(emptied=True)
    ).rowcount
    if not emptied:
        return 0, []
    keys_t = DataKey.__table__
    keys = [
        keyring.data_key_id(sid, wrapped)
        for sid, wrapped in session.execute(
            select(keys_t.c.subject_id, keys_t.c.wrapped).where(
                keys_t.c.subject_id.in_(_IN_BATCH.where(batch_t.c.emptied))
            )
        )
    ]
    subjects.erase(session=session, subject_ids=_IN_BATCH.where(batch_t.c.emptied))
    return emptied, keys
