"""Running the retention steps due at a date: set-based statements, a range of subjects at a
time, audited.

Subjects are taken in ranges of their ids, `batch_size` at a time. Each range is one
transaction running every step in order (each rule's archive, then its final action): the
subjects of the range the step is due for are found, then acted on with the step's
statements, the statistics an anonymisation leaves, the removal of subjects left with
nothing, one audit event per set of categories acted on (listing its subjects) and, for what
is removed, an erasure receipt. A step touches only the subjects of its range, so a dry run
does exactly the same work and rolls each range back: it reports what the run then does,
the same counts and the same subjects.

A run killed at any moment loses only the range in flight, which the next run does again;
a step already done is no longer due, so running the same date twice does nothing the
second time.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from tutela.access.gate import Actor
from tutela.crypto.keyring import Keyring
from tutela.db import let_waiting_writers_pass, session_scope
from tutela.policy.schema import Policy
from tutela.prepared import fetch_literal
from tutela.retention import batches
from tutela.retention.models import LegalHold
from tutela.retention.service import Step, active_holds, due_rows, steps
from tutela.subjects.models import Subject

__all__ = ["RunReport", "count_subjects", "run"]

BATCH = 10_000
subjects_t = Subject.__table__


@dataclass
class RunReport:
    """What a run did (or a dry run would do): subjects acted on by rule and action, with
    their external ids when `listing`, holds that stopped a removal, subjects removed."""

    as_of: date
    dry_run: bool
    listing: bool = False
    actions: Counter = field(default_factory=Counter)  # (rule, action) -> subjects
    listed: dict[tuple[str, str], list[str]] = field(default_factory=lambda: defaultdict(list))
    skipped_for_holds: int = 0
    subjects_removed: int = 0
    receipts: int = 0

    def as_dict(self) -> dict:
        return {
            "as_of": self.as_of.isoformat(),
            "dry_run": self.dry_run,
            "actions": [
                {
                    "rule": rule,
                    "action": action,
                    "subjects": n,
                    **(
                        {"external_ids": sorted(self.listed[(rule, action)])}
                        if self.listing
                        else {}
                    ),
                }
                for (rule, action), n in sorted(self.actions.items())
            ],
            "skipped_for_holds": self.skipped_for_holds,
            "subjects_removed": self.subjects_removed,
            "receipts": self.receipts,
        }


Span = tuple[str | None, str | None]  # subject ids after the first and up to the second


def _due_by_subject(
    session: Session, step: Step, as_of: date, span: Span, only: Sequence[str] | None
) -> dict[str, set[str]]:
    """The categories the step is due for, by subject of the span (of `only`): ids only."""
    due: dict[str, set[str]] = defaultdict(set)
    after, upto = span
    for query in due_rows(step, as_of):
        subject_id, _external_id, category, _anchor = query.selected_columns
        query = query.with_only_columns(subject_id, category)
        if after is not None:
            query = query.where(subjects_t.c.id > after)
        if upto is not None:
            query = query.where(subjects_t.c.id <= upto)
        if only is not None:
            query = query.where(subjects_t.c.id.in_(only))
        for sid, name in fetch_literal(session.connection(), query):
            due[sid].add(name)
    return due


def _spans(engine: Engine, size: int) -> Iterator[tuple[Span, int]]:
    """Consecutive ranges of subject ids, `size` subjects each, and how many each holds."""
    after = None
    while True:
        with session_scope(engine, write=False) as session:  # ended before the span is worked
            ids = select(subjects_t.c.id).order_by(subjects_t.c.id)
            if after is not None:
                ids = ids.where(subjects_t.c.id > after)
            upto = session.scalar(ids.offset(size - 1).limit(1))
            left = None
            if upto is None:
                left = session.scalar(select(func.count()).select_from(ids.subquery()))
        if upto is None:
            if left:
                yield (after, None), left
            return
        yield (after, upto), size
        after = upto


def count_subjects(engine: Engine) -> int:
    """How many subjects a run goes through: the total of its progress bar."""
    with session_scope(engine, write=False) as session:
        return session.scalar(select(func.count()).select_from(subjects_t)) or 0


def run(
    *,
    engine: Engine,
    policy: Policy,
    keyring: Keyring,
    actor: Actor,
    as_of: date,
    at: datetime,
    dry_run: bool = False,
    listing: bool = False,
    batch_size: int = BATCH,
    progress: Callable[[int], None] = lambda _n: None,
    only: Sequence[str] | None = None,
) -> RunReport:
    """Perform every step due at `as_of`; with `dry_run`, do it all and roll it back, to
    report exactly what the run would do. `listing` names the subjects by external id;
    `only` limits the run to these subject ids (a preview of a few)."""
    report = RunReport(as_of, dry_run, listing)
    spans = _spans(engine, batch_size) if only is None else [((None, None), len(only))]
    for span, size in spans:
        with session_scope(engine, commit=not dry_run) as session:
            holds = active_holds(session=session)
            for step in steps(policy):
                found = _due_by_subject(session, step, as_of, span, only)
                due = _not_held(policy, report, step, found, holds)
                if due:
                    done = batches.apply(
                        session, policy, keyring, actor, step, due, as_of, at, listing
                    )
                    report.actions[(step.rule.id, step.action)] += done.acted
                    report.listed[(step.rule.id, step.action)] += done.external_ids
                    report.subjects_removed += done.removed
                    report.receipts += done.receipt
        progress(size)
        let_waiting_writers_pass(engine)
    return report


def _not_held(
    policy: Policy,
    report: RunReport,
    step: Step,
    due: dict[str, set[str]],
    holds: dict[str, list[LegalHold]],
) -> dict[str, set[str]]:
    """The categories due that no legal hold suspends, by subject; holds only stop removal."""
    if not step.removes:
        return due
    free: dict[str, set[str]] = {}
    for subject_id, categories in due.items():
        for hold in holds.get(subject_id, ()):
            held = categories & policy.hold_covers(hold.categories)
            if held:
                report.skipped_for_holds += 1
            categories = categories - held
        if categories:
            free[subject_id] = categories
    return free
