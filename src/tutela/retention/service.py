"""What the policy's retention rules make due at a date, and the legal holds that suspend it.

A rule (policy `retention:`) keeps some categories of some kinds of subject for
`active_months` after an anchor date, then `archive_months` in the intermediate archive,
then deletes or anonymises them. Each rule gives up to two steps: archive (when it has an
archive period) and its final action. A step is due for a subject when its anchor date plus
the step's months has passed and the subject still holds data the step would act on.
Holds suspend deletion and anonymisation (not archiving) of the categories they cover.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Literal

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    exists,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.orm import Session

from tutela.db import utc_naive
from tutela.errors import InvalidInput, NotFound
from tutela.policy.schema import Policy
from tutela.policy.sections import RetentionRule
from tutela.retention.models import LegalHold
from tutela.retention.schedule import add_months, latest_anchor
from tutela.subjects.models import Connection, Payment, PersonalValue, Subject

__all__ = [
    "Due",
    "Step",
    "active_holds",
    "due_conditions",
    "due_rows",
    "holds_of",
    "place_hold",
    "plan",
    "prior_steps",
    "release_hold",
    "steps",
]

Action = Literal["archive", "delete", "anonymise"]
subjects_t = Subject.__table__
values_t = PersonalValue.__table__
connections_t = Connection.__table__
payments_t = Payment.__table__
holds_t = LegalHold.__table__


@dataclass(frozen=True)
class Step:
    """One step of one rule: what happens to which categories how long after the anchor."""

    rule: RetentionRule
    action: Action
    months: int
    record_categories: tuple[str, ...]  # stored as field values
    connections: str | None  # the category stored as connection logs, if the rule covers it
    payments: str | None  # ... stored as payments

    @property
    def removes(self) -> bool:
        return self.action != "archive"


def steps(policy: Policy) -> list[Step]:
    storage = {c.id: c.storage for c in policy.categories}
    out = []
    for rule in policy.retention:
        record = tuple(c for c in rule.categories if storage[c] == "record")
        conn = next((c for c in rule.categories if storage[c] == "connections"), None)
        pay = next((c for c in rule.categories if storage[c] == "payments"), None)
        if rule.archive_months:  # connection logs have no archive: they are only deleted
            out.append(Step(rule, "archive", rule.active_months, record, None, pay))
        out.append(
            Step(rule, rule.then, rule.active_months + rule.archive_months, record, conn, pay)
        )
    return out


@dataclass(frozen=True)
class Due:
    subject_id: str
    external_id: str
    category: str
    action: Action
    rule: str
    anchor: date
    due: date
    held_by: str | None = None  # the hold that suspends it, when one does

    def as_dict(self) -> dict:
        return {
            "external_id": self.external_id,
            "category": self.category,
            "action": self.action,
            "rule": self.rule,
            "anchor": self.anchor.isoformat(),
            "due": self.due.isoformat(),
            "skipped": f"legal hold: {self.held_by}" if self.held_by else None,
        }


def _end_of(day: date) -> datetime:
    return datetime.combine(day, time.max)


def due_rows(step: Step, as_of: date) -> Iterator[Select]:
    """Queries of (subject id, external id, category, anchor) the step is due for at `as_of`.

    One query per storage the rule covers; each selects subjects, never loops over them.
    """
    cutoff = latest_anchor(as_of, step.months)
    kinds = subjects_t.c.kind.in_(step.rule.subject_kinds)
    subject_anchor = step.rule.anchor != "collected_at"
    anchor = subjects_t.c[step.rule.anchor] if subject_anchor else None

    if step.record_categories:
        row_anchor = anchor if subject_anchor else values_t.c.collected_at
        due = anchor <= cutoff if subject_anchor else values_t.c.collected_at <= _end_of(cutoff)
        query = (
            select(
                subjects_t.c.id,
                subjects_t.c.external_id,
                values_t.c.category,
                row_anchor if subject_anchor else func.min(row_anchor),
            )
            .join_from(subjects_t, values_t, values_t.c.subject_id == subjects_t.c.id)
            .where(kinds, due, values_t.c.category.in_(step.record_categories))
            .group_by(subjects_t.c.id, subjects_t.c.external_id, values_t.c.category)
        )
        if subject_anchor:
            query = query.group_by(anchor)
        if step.action == "archive":
            query = query.where(values_t.c.archived_at.is_(None))
        yield query
    if not subject_anchor:
        return
    for category, table in ((step.connections, connections_t), (step.payments, payments_t)):
        if category is None:
            continue
        rows = [table.c.subject_id == subjects_t.c.id]
        if table is payments_t and step.rule.unless == "retain_consent":
            rows.append(payments_t.c.retain_consent == false())
        if table is payments_t and step.action == "archive":
            rows.append(payments_t.c.archived_at.is_(None))
        yield select(subjects_t.c.id, subjects_t.c.external_id, literal(category), anchor).where(
            kinds, anchor <= cutoff, exists().where(and_(*rows))
        )


def due_conditions(all_steps: list[Step], as_of: date) -> list[ColumnElement[bool]]:
    """For each step, in order, whether a subject (a row of `subjects`) is due for it when
    the steps before it have run: the test `due_rows` makes, as one condition, over the
    records the earlier steps left (removed records are gone; archived ones no longer need
    archiving). For counting every step in one pass over the subjects of a store without
    legal holds; a step's records are all those of a due subject that its filters match."""
    out = []
    for k, step in enumerate(all_steps):
        found = []
        for table, rows in _acted_rows(step, as_of).items():
            gone = [
                and_(_subject_due(j, as_of), _acted_rows(j, as_of)[table])
                for j in prior_steps(all_steps, k)
                if table in _acted_rows(j, as_of)
            ]
            found.append(
                exists().where(
                    table.c.subject_id == subjects_t.c.id, rows, *(not_(g) for g in gone)
                )
            )
        out.append(and_(_subject_due(step, as_of), or_(*found)) if found else false())
    return out


def prior_steps(all_steps: list[Step], k: int) -> list[Step]:
    """The steps before the k-th that may have acted on its records first: a removal, or an
    archiving before an archiving, of the same kinds of people and the same records."""
    step = all_steps[k]
    return [
        j
        for j in all_steps[:k]
        if (j.removes or j.action == "archive" == step.action)
        and set(j.rule.subject_kinds) & set(step.rule.subject_kinds)
        and (
            set(j.record_categories) & set(step.record_categories)
            or (j.connections is not None and j.connections == step.connections)
            or (j.payments is not None and j.payments == step.payments)
        )
    ]


def _subject_due(step: Step, as_of: date) -> ColumnElement[bool]:
    """The subject's part of a step's test: its kind and, unless records carry their own
    anchor (`collected_at`), its anchor date."""
    kinds = subjects_t.c.kind.in_(step.rule.subject_kinds)
    if step.rule.anchor == "collected_at":
        return kinds
    return and_(kinds, subjects_t.c[step.rule.anchor] <= latest_anchor(as_of, step.months))


def _acted_rows(step: Step, as_of: date) -> dict:
    """By table, the records of a due subject the step acts on."""
    archive = step.action == "archive"
    rows = {}
    if step.record_categories:
        values = [values_t.c.category.in_(step.record_categories)]
        if step.rule.anchor == "collected_at":
            values.append(values_t.c.collected_at <= _end_of(latest_anchor(as_of, step.months)))
        if archive:
            values.append(values_t.c.archived_at.is_(None))
        rows[values_t] = and_(*values)
    if step.rule.anchor == "collected_at":
        return rows
    if step.connections is not None:
        rows[connections_t] = true()
    if step.payments is not None:
        payments = []
        if step.rule.unless == "retain_consent":
            payments.append(payments_t.c.retain_consent == false())
        if archive:
            payments.append(payments_t.c.archived_at.is_(None))
        rows[payments_t] = and_(true(), *payments)
    return rows


def plan(*, session: Session, policy: Policy, as_of: date) -> list[Due]:
    """Every step due at `as_of`, with the hold that suspends it where one does."""
    holds = active_holds(session=session)
    out = []
    for step in steps(policy):
        for query in due_rows(step, as_of):
            for subject_id, external_id, category, anchor in session.execute(query):
                anchor_day = anchor.date() if isinstance(anchor, datetime) else anchor
                held = None
                if step.removes:
                    held = next(
                        (
                            h.reference
                            for h in holds.get(subject_id, ())
                            if category in policy.hold_covers(h.categories)
                        ),
                        None,
                    )
                out.append(
                    Due(
                        subject_id,
                        external_id,
                        category,
                        step.action,
                        step.rule.id,
                        anchor_day,
                        add_months(anchor_day, step.months),
                        held,
                    )
                )
    out.sort(key=lambda d: (d.due, d.external_id, d.category, d.action))
    return out


def holds_of(*, session: Session, subject_id: str) -> list[LegalHold]:
    """The subject's active holds."""
    return list(
        session.scalars(
            select(LegalHold).where(
                LegalHold.subject_id == subject_id, LegalHold.released_at.is_(None)
            )
        )
    )


def active_holds(*, session: Session) -> dict[str, list[LegalHold]]:
    holds: dict[str, list[LegalHold]] = {}
    for hold in session.scalars(select(LegalHold).where(LegalHold.released_at.is_(None))):
        holds.setdefault(hold.subject_id, []).append(hold)
    return holds


def place_hold(
    *,
    session: Session,
    policy: Policy,
    subject_id: str,
    categories: list[str],
    purpose: str,
    reference: str,
    by: str,
    at: datetime,
) -> LegalHold:
    if purpose not in policy.hold_purposes:
        archive = ", ".join(policy.hold_purposes)
        raise InvalidInput(f"a hold serves a legal purpose: one of {archive}", location="purpose")
    if not reference.strip():
        raise InvalidInput("a hold names its case reference", location="reference")
    for category in categories:
        if policy.category(category) is None:
            raise InvalidInput(f"unknown category '{category}'", location="categories")
    hold = LegalHold(
        subject_id=subject_id,
        categories=sorted(set(categories)),
        purpose=purpose,
        reference=reference,
        placed_at=utc_naive(at),
        placed_by=by,
    )
    session.add(hold)
    session.flush()
    return hold


def release_hold(*, session: Session, hold_id: int, by: str, at: datetime) -> LegalHold:
    """Mark the hold lifted; its row is locked first (PostgreSQL; on SQLite the writer lock
    already serialises), so that two lifts at once never both carry out what follows."""
    hold = session.get(LegalHold, hold_id, with_for_update=True)
    if hold is None or hold.released_at is not None:
        raise NotFound(f"no active legal hold {hold_id}")
    hold.released_at = utc_naive(at)
    hold.released_by = by
    return hold
