"""Running the retention steps due at a date: set-based statements, batch by batch, audited.

Each batch of subjects is one transaction holding the step's statements, the statistics an
anonymisation leaves, the removal of subjects left with nothing, and the audit events naming
the rule and the policy version: one per set of categories acted on, listing its subjects
(found by subject like any other event). A run killed at any moment loses only the
batch in flight, which the next run does again; a step already done is no longer due, so
running the same date twice does nothing the second time.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time

from sqlalchemy import (
    Column,
    Engine,
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
from tutela.db import bulk_insert, session_scope, utc_naive
from tutela.policy.schema import Policy
from tutela.prepared import fetch_literal
from tutela.retention import service
from tutela.retention.models import AnonymisedCount, LegalHold
from tutela.retention.schedule import latest_anchor
from tutela.retention.service import Step, active_holds, due_rows, steps
from tutela.subjects import service as subjects
from tutela.subjects.models import Connection, Payment, PersonalValue, Subject

__all__ = ["RunReport", "place_hold", "release_hold", "run"]

BATCH = 10_000
# The batch at hand, in a temporary table of the connection, in parts that share the same
# categories: statements join it instead of carrying thousands of ids each.
batch_t = Table(
    "retention_batch",
    MetaData(),
    Column("subject_id", String(32), primary_key=True),
    Column("part", Integer),
    prefixes=["TEMPORARY"],
)
_IN_BATCH = select(batch_t.c.subject_id)
_IN_PART = _IN_BATCH.where(batch_t.c.part == bindparam("part"))
subjects_t = Subject.__table__
values_t = PersonalValue.__table__
connections_t = Connection.__table__
payments_t = Payment.__table__


@dataclass
class RunReport:
    as_of: date
    dry_run: bool
    actions: Counter = field(default_factory=Counter)  # (rule, action) -> subjects
    skipped_for_holds: int = 0
    subjects_removed: int = 0

    def as_dict(self) -> dict:
        return {
            "as_of": self.as_of.isoformat(),
            "dry_run": self.dry_run,
            "actions": [
                {"rule": rule, "action": action, "subjects": n}
                for (rule, action), n in sorted(self.actions.items())
            ],
            "skipped_for_holds": self.skipped_for_holds,
            "subjects_removed": self.subjects_removed,
        }


def _due_by_subject(session: Session, step: Step, as_of: date) -> dict[str, set[str]]:
    """The categories the step is due for, by subject: ids only, no dates to convert."""
    due: dict[str, set[str]] = defaultdict(set)
    for query in due_rows(step, as_of):
        subject_id, _external_id, category, _anchor = query.selected_columns
        for sid, name in fetch_literal(
            session.connection(), query.with_only_columns(subject_id, category)
        ):
            due[sid].add(name)
    return due


def run(
    *,
    engine: Engine,
    policy: Policy,
    keyring: Keyring,
    actor: Actor,
    as_of: date,
    at: datetime,
    dry_run: bool = False,
    batch_size: int = BATCH,
    progress: Callable[[int], None] = lambda _n: None,
) -> RunReport:
    """Perform every step due at `as_of` (only count them with `dry_run`)."""
    report = RunReport(as_of, dry_run)
    for step in steps(policy):
        with session_scope(engine, write=False) as session:
            due = _due_by_subject(session, step, as_of)
            holds = active_holds(session=session)
        free: dict[str, set[str]] = {}
        for subject_id, categories in due.items():
            if step.removes:
                for hold in holds.get(subject_id, ()):
                    held = categories if not hold.categories else categories & set(hold.categories)
                    if held:
                        report.skipped_for_holds += 1
                    categories = categories - held
            if categories:
                free[subject_id] = categories
        ids = sorted(free)
        for start in range(0, len(ids), batch_size):
            batch = {sid: free[sid] for sid in ids[start : start + batch_size]}
            report.actions[(step.rule.id, step.action)] += len(batch)
            if not dry_run:
                with session_scope(engine) as session:
                    report.subjects_removed += _apply(
                        session, policy, keyring, actor, step, batch, as_of, at
                    )
            progress(len(batch))
    return report


def _apply(
    session: Session,
    policy: Policy,
    keyring: Keyring,
    actor: Actor,
    step: Step,
    batch: dict[str, set[str]],
    as_of: date,
    at: datetime,
) -> int:
    """The step for one batch of subjects, in the caller's transaction; subjects removed."""
    now = utc_naive(at)
    if step.rule.anchor != "collected_at":  # still due now that the writer lock is held?
        anchor = subjects_t.c[step.rule.anchor]
        _load_batch(session, [list(batch)])
        still = set(
            session.scalars(
                select(subjects_t.c.id).where(
                    subjects_t.c.id.in_(_IN_BATCH), anchor <= latest_anchor(as_of, step.months)
                )
            )
        )
        batch = {sid: cats for sid, cats in batch.items() if sid in still}
    if not batch:
        return 0
    by_categories: dict[frozenset[str], list[str]] = defaultdict(list)
    for sid, categories in batch.items():
        by_categories[frozenset(categories)].append(sid)
    _load_batch(session, list(by_categories.values()))
    if step.action == "anonymise":
        _count_anonymised(session, policy, keyring, step)
    for part, categories in enumerate(by_categories):
        ids = {"part": part}
        record = [c for c in categories if c in step.record_categories]
        if record:
            rows = [values_t.c.subject_id.in_(_IN_PART), values_t.c.category.in_(record)]
            if step.rule.anchor == "collected_at":
                cutoff = latest_anchor(as_of, step.months)
                rows.append(values_t.c.collected_at <= datetime.combine(cutoff, time.max))
            if step.action == "archive":
                session.execute(
                    update(values_t)
                    .where(*rows, values_t.c.archived_at.is_(None))
                    .values(archived_at=now),
                    ids,
                )
            else:
                session.execute(delete(values_t).where(*rows), ids)
        if step.connections in categories:
            session.execute(
                delete(connections_t).where(connections_t.c.subject_id.in_(_IN_PART)), ids
            )
        if step.payments in categories:
            rows = [payments_t.c.subject_id.in_(_IN_PART)]
            if step.rule.unless == "retain_consent":
                rows.append(payments_t.c.retain_consent == false())
            if step.action == "archive":
                session.execute(
                    update(payments_t)
                    .where(*rows, payments_t.c.archived_at.is_(None))
                    .values(archived_at=now),
                    ids,
                )
            else:
                session.execute(delete(payments_t).where(*rows), ids)
    removed = _remove_emptied(session) if step.removes else 0
    reason = f"retention rule {step.rule.id}"
    detail = {"rule": step.rule.id, "as_of": as_of.isoformat()}  # the same for the batch
    audit.log(
        session,
        policy,
        at,
        *(
            Event(
                actor.name,
                step.action,
                "done",
                categories=sorted(categories),
                reason=reason,
                detail=detail,
                subjects=sids,
            )
            for categories, sids in by_categories.items()
        ),
    )
    return removed


def _load_batch(session: Session, parts: list[list[str]]) -> None:
    """Put the batch's subject ids in the connection's batch table, part by part."""
    connection = session.connection()
    batch_t.create(connection, checkfirst=True)
    connection.execute(delete(batch_t))
    bulk_insert(
        connection,
        batch_t,
        ("subject_id", "part"),
        [(sid, part) for part, sids in enumerate(parts) for sid in sids],
    )


def _country_field(policy: Policy) -> tuple[str, str] | None:
    """The (category, field) the policy types as a country, if any."""
    for category in policy.categories:
        for spec in category.fields:
            if category.storage == "record" and spec.type == "country":
                return category.id, spec.id
    return None


def _count_anonymised(session: Session, policy: Policy, keyring: Keyring, step: Step) -> None:
    """What survives anonymisation: counts by kind, source, country and month of first contact.
    The country is decrypted here, in memory, the last time anyone can."""
    where = _country_field(policy)
    country = values_t.alias("country")
    on = [country.c.subject_id == subjects_t.c.id]
    if where:
        on += [country.c.category == where[0], country.c.field == where[1]]
    else:
        on.append(false())
    rows = session.execute(
        select(
            subjects_t.c.id,
            subjects_t.c.kind,
            subjects_t.c.source,
            subjects_t.c.first_contact_at,
            country.c.ciphertext,
        )
        .outerjoin(country, and_(*on))
        .where(subjects_t.c.id.in_(_IN_BATCH))
    ).all()
    ciphers = keyring.ciphers(session, [r.id for r in rows if r.ciphertext is not None])
    counts = Counter()
    for sid, kind, source, first, blob in rows:
        code = ciphers[sid].decrypt(*where, blob) if blob is not None and sid in ciphers else None
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


def _remove_emptied(session: Session) -> int:
    """Subjects of the batch left with no personal data go entirely, data key first: the row
    that named them (external id, exact dates) would otherwise still link back to them."""
    holds_t = LegalHold.__table__
    emptied = session.scalars(
        select(subjects_t.c.id).where(
            subjects_t.c.id.in_(_IN_BATCH),
            ~exists().where(values_t.c.subject_id == subjects_t.c.id),
            ~exists().where(connections_t.c.subject_id == subjects_t.c.id),
            ~exists().where(payments_t.c.subject_id == subjects_t.c.id),
            ~exists().where(
                holds_t.c.subject_id == subjects_t.c.id, holds_t.c.released_at.is_(None)
            ),
        )
    ).all()
    if emptied:
        subjects.erase(session=session, subject_ids=emptied)
    return len(emptied)


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
