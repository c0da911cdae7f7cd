"""Running the retention steps due at a date: set-based statements, batch by batch, audited.

Step after step (each rule's archive, then its final action), the subjects the step is due
for are found, then acted on a batch at a time. Each batch is one transaction holding the
step's statements, the statistics an anonymisation leaves, the removal of subjects left with
nothing, and the audit events naming the rule and the policy version: one per set of
categories acted on, listing its subjects (found by subject like any other event). Finding
what is due step by step, rather than for all steps at first, lets each step scan a store
the previous ones have already thinned.

A run killed at any moment loses only the batch in flight, which the next run does again;
a step already done is no longer due, so running the same date twice does nothing the
second time.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time

from sqlalchemy import (
    Boolean,
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
from tutela.crypto.models import DataKey
from tutela.db import insert_ids, session_scope, utc_naive
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
    Column("part", Integer, nullable=False),
    Column("emptied", Boolean, nullable=False),
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


@dataclass
class Part:
    """The subjects of a batch the step is due for with the same categories."""

    index: int
    categories: frozenset[str]
    subject_ids: list[str]


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
            holds = active_holds(session=session)
            due = _not_held(report, step, _due_by_subject(session, step, as_of), holds)
        ids = sorted(due)
        for start in range(0, len(ids), batch_size):
            batch = {sid: due[sid] for sid in ids[start : start + batch_size]}
            acted = len(batch)
            if not dry_run:
                with session_scope(engine) as session:
                    acted, removed = _apply(session, policy, keyring, actor, step, batch, as_of, at)
                report.subjects_removed += removed
            report.actions[(step.rule.id, step.action)] += acted
            progress(len(batch))
    return report


def _not_held(
    report: RunReport, step: Step, due: dict[str, set[str]], holds: dict[str, list[LegalHold]]
) -> dict[str, set[str]]:
    """The categories due that no legal hold suspends, by subject; holds only stop removal."""
    if not step.removes:
        return due
    free: dict[str, set[str]] = {}
    for subject_id, categories in due.items():
        for hold in holds.get(subject_id, ()):
            held = categories if not hold.categories else categories & set(hold.categories)
            if held:
                report.skipped_for_holds += 1
            categories = categories - held
        if categories:
            free[subject_id] = categories
    return free


def _apply(
    session: Session,
    policy: Policy,
    keyring: Keyring,
    actor: Actor,
    step: Step,
    batch: dict[str, set[str]],
    as_of: date,
    at: datetime,
) -> tuple[int, int]:
    """The step for one batch of subjects, in the caller's transaction: the number of
    subjects acted on, and of those removed for having nothing left."""
    by_categories: dict[frozenset[str], list[str]] = defaultdict(list)
    for sid, categories in batch.items():
        by_categories[frozenset(categories)].append(sid)
    parts = [Part(n, *item) for n, item in enumerate(by_categories.items())]
    _load_batch(session, parts)
    parts = _still_due(session, step, parts, as_of)
    if not parts:
        return 0, 0
    if step.action == "anonymise":
        _count_anonymised(session, policy, keyring, step)
    now = utc_naive(at)
    for part in parts:
        _act(session, step, part, as_of, now)
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
                categories=sorted(p.categories),
                reason=reason,
                detail=detail,
                subjects=p.subject_ids,
            )
            for p in parts
        ),
    )
    return sum(len(p.subject_ids) for p in parts), removed


def _act(session: Session, step: Step, part: Part, as_of: date, now: datetime) -> None:
    """The step's statements for the subjects of one part."""
    categories, ids = part.categories, {"part": part.index}
    record = [c for c in categories if c in step.record_categories]
    if record:
        rows = [values_t.c.subject_id.in_(_IN_PART), values_t.c.category.in_(record)]
        if step.rule.anchor == "collected_at":
            cutoff = latest_anchor(as_of, step.months)
            rows.append(values_t.c.collected_at <= datetime.combine(cutoff, time.max))
        _archive_or_remove(session, step, values_t, rows, ids, now)
    if step.connections in categories:
        session.execute(delete(connections_t).where(connections_t.c.subject_id.in_(_IN_PART)), ids)
    if step.payments in categories:
        rows = [payments_t.c.subject_id.in_(_IN_PART)]
        if step.rule.unless == "retain_consent":
            rows.append(payments_t.c.retain_consent == false())
        _archive_or_remove(session, step, payments_t, rows, ids, now)


def _archive_or_remove(
    session: Session, step: Step, table: Table, rows: list, ids: dict, now: datetime
) -> None:
    """Archive the rows (those not archived yet), or delete them, as the step says."""
    if step.action == "archive":
        session.execute(
            update(table).where(*rows, table.c.archived_at.is_(None)).values(archived_at=now),
            ids,
        )
    else:
        session.execute(delete(table).where(*rows), ids)


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
    """The parts without the subjects no longer due now that the writer lock is held (a new
    contact moved their anchor, or they are gone), which leave the batch table too."""
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


def _remove_emptied(session: Session) -> int:
    """Subjects of the batch left with no personal data go entirely, data key first: the row
    that named them (external id, exact dates) would otherwise still link back to them."""
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
    if emptied:
        subjects.erase(session=session, subject_ids=_IN_BATCH.where(batch_t.c.emptied))
    return emptied


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
