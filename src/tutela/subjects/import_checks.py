"""Checking a whole import file before anything is written: all or nothing across slices.

Each record is checked against the policy (in the workers), then each change of kind and
each lifecycle date against the store and the lines of the file before it (here): what the
write would refuse, found first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Engine, select

from tutela.db import session_scope
from tutela.errors import InvalidInput
from tutela.subjects.dates import check_record, lifecycle_problem
from tutela.subjects.import_files import Item, LineError
from tutela.subjects.import_workers import Workers
from tutela.subjects.models import Subject
from tutela.subjects.validation import RecordRules, ValidRecord, validate_record
from tutela.subjects.writer import LIFECYCLE, kind_change_problem

__all__ = ["Checked", "check_chunk", "first_problem", "valid_records", "validate_item"]


@dataclass(slots=True)
class Checked:
    """A chunk validated only: its errors, and of the rest each line with its external id,
    kind and the lifecycle dates it gives."""

    errors: list[LineError]
    valid: list[tuple[int, str, str, dict[str, date | None]]]


def validate_item(item: Item, rules: RecordRules) -> ValidRecord:
    if isinstance(item, InvalidInput):
        raise item
    return validate_record(item, rules)


def valid_records(
    chunk: list[tuple[int, Item]], rules: RecordRules, at: datetime, errors: list[LineError]
) -> Iterator[tuple[int, ValidRecord]]:
    """Each record of the chunk valid against the policy, its own dates checked as of the
    import; the errors of the others go to `errors`."""
    for number, item in chunk:
        try:
            record = validate_item(item, rules)
            check_record(record, at)
        except InvalidInput as exc:
            errors.append(LineError(number, exc.location, exc.message))
            continue
        yield number, record


def check_chunk(chunk: list[tuple[int, Item]], rules: RecordRules, at: datetime) -> Checked:
    checked = Checked([], [])
    for number, record in valid_records(chunk, rules, at, checked.errors):
        checked.valid.append((number, record.external_id, record.kind, record.lifecycle))
    return checked


def first_problem(
    engine: Engine,
    rules: RecordRules,
    workers: Workers,
    chunks: Iterator[list[tuple[int, Item]]],
    progress: Callable[[int], None],
    at: datetime,
) -> LineError | None:
    """The first bad record of the file, or None: each record against the policy (in the
    workers), each change of kind and each date's order against the store and the lines
    before it (here)."""
    people: dict[str, tuple[str, dict[str, date | None]]] = {}  # kind and dates, as they stand
    for chunk, checked in workers.ordered(chunks, check_chunk, at):
        problems = list(checked.errors)
        new = {external_id for _, external_id, *_ in checked.valid if external_id not in people}
        people.update(_stored(engine, new))
        for line, external_id, kind, dates in checked.valid:
            current = people.get(external_id)
            problem = current and kind_change_problem(rules.policy, current[0], kind)
            if problem:
                problems.append(LineError(line, "kind", problem))
                break  # the lines after it do not matter: this one is already the first bad
            dated = current and lifecycle_problem(dates, at, current[1])
            if dated:
                problems.append(LineError(line, *dated))
                break
            people[external_id] = (kind, {**(current[1] if current else {}), **dates})
        if problems:
            return min(problems, key=lambda e: e.line)
        progress(len(chunk))
    return None


def _stored(engine: Engine, external_ids: set[str]) -> dict[str, tuple[str, dict]]:
    """The kind and lifecycle dates of those of `external_ids` the store holds."""
    if not external_ids:
        return {}
    subjects = Subject.__table__
    columns = [subjects.c.external_id, subjects.c.kind, *(subjects.c[n] for n in LIFECYCLE)]
    with session_scope(engine, write=False) as session:
        rows = session.execute(select(*columns).where(subjects.c.external_id.in_(external_ids)))
        return {row[0]: (row[1], dict(zip(LIFECYCLE, row[2:], strict=True))) for row in rows}
