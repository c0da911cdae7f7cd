"""Writing, verifying and reading the audit trail.

`record` is the one way to write it. Each event's link is keyed (`audit.chain`) and covers
its content and the previous link, so altering, deleting, inserting or reordering any event
breaks the chain from there on, and `audit.verify` names the first event where it breaks. The head row is locked while
appending, so concurrent writers (threads, processes, hosts on PostgreSQL) queue up.

An event names the subject by internal id only and never holds a personal value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import Engine, bindparam, or_, select, update
from sqlalchemy.orm import Session

from tutela import clock
from tutela.audit.chain import GENESIS, chain_key, link
from tutela.audit.models import AuditEvent, AuditEventSubject, AuditHead
from tutela.db import (
    Connected,
    bulk_insert,
    dates_as_text,
    insert_ids,
    session_scope,
    transaction_apart,
    utc_naive,
)
from tutela.policy.schema import Policy
from tutela.prepared import Prepared

__all__ = [
    "GENESIS",
    "HASHED",
    "Event",
    "ensure_head",
    "events",
    "log",
    "log_apart",
    "record",
    "record_apart",
    "stamp",
]

HEAD_ID = 1
AS_OF_TOLERANCE = timedelta(minutes=1)

events_t = AuditEvent.__table__
head_t = AuditHead.__table__
concerned_t = AuditEventSubject.__table__


@dataclass(frozen=True, slots=True)
class Event:
    principal: str
    action: str
    outcome: str  # allowed, denied, done
    subject_id: str | None = None
    categories: Sequence[str] = ()
    purpose: str | None = None
    reason: str = ""
    detail: dict[str, Any] = field(default_factory=dict)
    # The subjects a bulk event concerns (a retention batch): listed in its hashed detail,
    # and indexed so that each one's trail finds it.
    subjects: Sequence[str] = ()


def stamp(moment: datetime) -> str:
    return utc_naive(moment).isoformat(sep=" ", timespec="microseconds")


_HEAD_FOR_UPDATE = Prepared(
    select(head_t.c.seq, head_t.c.hash).where(head_t.c.id == HEAD_ID).with_for_update()
)
_MOVE_HEAD = Prepared(
    update(head_t)
    .where(head_t.c.id == HEAD_ID)
    .values(seq=bindparam("new_seq"), hash=bindparam("new_hash"))
)


def ensure_head(session: Session) -> None:
    """Start the chain (sequence 0, genesis hash) if the database has no head row."""
    if session.get(AuditHead, HEAD_ID) is None:
        session.add(AuditHead(id=HEAD_ID, seq=0, hash=GENESIS))
        session.flush()


def _lock_head(session: Connected) -> tuple[int, str]:
    """Read the head, locked until the transaction ends: FOR UPDATE on PostgreSQL; on SQLite
    the caller's write transaction already holds the writer lock (`db.session_scope`)."""
    (head,) = _HEAD_FOR_UPDATE.rows(session.connection())
    return head


def record(
    session: Connected, entries: Sequence[Event], *, at: datetime, policy_version: str
) -> int:
    """Append events to the trail in the caller's transaction; returns the last sequence."""
    seq, last = _lock_head(session)
    key = chain_key(session)
    moment = utc_naive(at)
    written = stamp(moment)
    # An event acted as of another day (`--as-of`) also says when it was really recorded.
    real = utc_naive(clock.now())
    recorded = {"recorded_at": stamp(real)} if abs(real - moment) > AS_OF_TOLERANCE else {}
    stored_at = written if dates_as_text(session) else moment
    rows, concerned = [], []
    for event in entries:
        seq += 1
        detail = {**event.detail, **recorded} if recorded else event.detail
        if event.subjects:
            detail = {**detail, "subjects": sorted(event.subjects)}
            concerned.append((seq, detail["subjects"]))
        fields = (
            event.principal,
            event.action,
            event.subject_id,
            ",".join(sorted(event.categories)),
            event.purpose,
            event.outcome,
            event.reason,
            policy_version,
            detail,
        )
        this = link(key.chain_key, last, seq, (written, *fields))
        detail_text = orjson.dumps(detail).decode()
        rows.append((seq, stored_at, *fields[:-1], detail_text, last, this, key.key_id))
        last = this
    if rows:
        bulk_insert(session.connection(), events_t, _COLUMNS, rows)
        _MOVE_HEAD.rows(session.connection(), {"new_seq": seq, "new_hash": last})
    for event_seq, subject_ids in concerned:
        insert_ids(session.connection(), concerned_t, "subject_id", subject_ids, seq=event_seq)
    return seq


def record_apart(
    engine: Engine, entries: Sequence[Event], *, at: datetime, policy_version: str
) -> int:
    """Append events in a transaction of their own, committed before this returns.

    For what must be recorded whatever happens next: a read is audited before its data is
    decrypted, a refusal although the caller's transaction is rolled back. The caller's own
    transaction must not have written yet (it has only read, or decided): inside a write
    transaction this one is nested, and commits first.
    """
    with session_scope(engine) as session:
        return record(session, entries, at=at, policy_version=policy_version)


def log(session: Session, policy: Policy, at: datetime, *entries: Event) -> int:
    """`record` under the policy in force, in the caller's transaction: the events commit,
    or roll back, with the change they describe. Returns the last event's sequence."""
    return record(session, entries, at=at, policy_version=policy.version)


def log_apart(session: Connected, policy: Policy, at: datetime, *entries: Event) -> None:
    """`record_apart` under the policy in force: the events stay whatever the caller does
    next (its transaction must not have written yet). A reading transaction carries on with
    a fresh snapshot (`db.transaction_apart`)."""
    with transaction_apart(session) as apart:
        record(apart, entries, at=at, policy_version=policy.version)


# The columns in the order `chain.link` covers them, after `seq` and the time.
HASHED = (
    "principal",
    "action",
    "subject_id",
    "categories",
    "purpose",
    "outcome",
    "reason",
    "policy_version",
    "detail",
)
_COLUMNS = ("seq", "at", *HASHED, "prev_hash", "hash", "chain_key_id")


def events(
    session: Session,
    *,
    subject_id: str | None = None,
    principal: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 1000,
    newest_first: bool = False,
) -> list[AuditEvent]:
    """Events oldest first (or newest first); a subject's include the bulk events that list
    it; `until` is excluded."""
    order = AuditEvent.seq.desc() if newest_first else AuditEvent.seq
    query = select(AuditEvent).order_by(order).limit(limit)
    if subject_id is not None:
        in_bulk = select(concerned_t.c.seq).where(concerned_t.c.subject_id == subject_id)
        query = query.where(or_(AuditEvent.subject_id == subject_id, AuditEvent.seq.in_(in_bulk)))
    if principal is not None:
        query = query.where(AuditEvent.principal == principal)
    if since is not None:
        query = query.where(AuditEvent.at >= utc_naive(since))
    if until is not None:
        query = query.where(AuditEvent.at < utc_naive(until))
    return list(session.scalars(query))
