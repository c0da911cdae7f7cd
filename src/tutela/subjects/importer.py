"""Bulk import of subjects from JSON Lines or CSV.

The import is one transaction. By default the first bad record stops it and nothing at all is
written; with `skip_invalid` bad lines are reported and the rest is written.

Large files are validated and encrypted by worker processes, chunk by chunk, while this
process writes: workers prepare every record as a new subject (fresh data key); the few that
turn out to exist already are prepared again here under their own key. Results are consumed
in file order, so errors and updates happen exactly as in a single process.
"""

from __future__ import annotations

import csv
import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Literal

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from tutela.consent.models import Suppression
from tutela.consent.service import suppressed
from tutela.crypto.keyring import Keyring
from tutela.db import dates_as_text
from tutela.errors import InvalidInput, TutelaError
from tutela.subjects.service import storage_categories
from tutela.subjects.validation import RecordRules, ValidRecord, validate_record
from tutela.subjects.writer import (
    Known,
    Rows,
    categories_in,
    erased_for_good_by_subject,
    execute,
    gather,
    kind_change_problem,
    prepare,
    without,
)

__all__ = ["ImportFailed", "ImportReport", "LineError", "import_file", "read_chunks"]

Format = Literal["jsonl", "csv"]
CHUNK = 2000  # records a worker validates and encrypts at a time
PARALLEL_FROM_BYTES = 4 * 1024 * 1024  # below this, starting workers costs more than it saves


@dataclass(frozen=True)
class LineError:
    line: int
    location: str | None
    message: str

    def __str__(self) -> str:
        where = f", {self.location}" if self.location else ""
        return f"line {self.line}{where}: {self.message}"


class ImportFailed(TutelaError):
    http_status = 422

    def __init__(self, error: LineError) -> None:
        self.error = error
        super().__init__(f"{error}; nothing was imported")


@dataclass
class ImportReport:
    read: int = 0
    created: int = 0
    updated: int = 0
    suppressed: int = 0  # records about people on the suppression list, not imported
    not_restored: int = 0  # records whose data the person had erased: that part left out
    invalid: list[LineError] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "read": self.read,
            "created": self.created,
            "updated": self.updated,
            "suppressed": self.suppressed,
            "not_restored": self.not_restored,
            "invalid": len(self.invalid),
            "errors": [
                {"line": e.line, "location": e.location, "message": e.message} for e in self.invalid
            ],
        }


def detect_format(path: Path) -> Format:
    if path.suffix.lower() == ".csv":
        return "csv"
    if path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    raise InvalidInput("cannot tell the format from the file name; give --format jsonl or csv")


# Reading -------------------------------------------------------------------------------------

Item = bytes | dict | InvalidInput  # a JSON line, a CSV row as a record, or why it is unreadable


def _items(path: Path, fmt: Format, rules: RecordRules) -> Iterator[tuple[int, Item]]:
    with path.open("rb") as handle:
        if fmt == "jsonl":
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    yield number, line
            return
        reader = csv.DictReader(raw.decode("utf-8-sig") for raw in handle)
        for row in reader:
            try:
                yield reader.line_num, csv_row_to_record(row, rules)
            except InvalidInput as exc:
                yield reader.line_num, exc


def read_chunks(
    path: Path, fmt: Format, rules: RecordRules, size: int = CHUNK
) -> Iterator[list[tuple[int, Item]]]:
    chunk: list[tuple[int, Item]] = []
    for item in _items(path, fmt, rules):
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


_CSV_JSON_COLUMNS = ("consents", "connections", "payments")


def csv_row_to_record(row: dict[str, str | None], rules: RecordRules) -> dict[str, Any]:
    """A CSV row as a record: `category.field` and `lifecycle.name` columns become nested
    objects, `provided_by_subject` is `;`-separated, list columns hold JSON arrays.
    Cells of number and boolean fields are converted by the type the policy gives them."""
    record: dict[str, Any] = {}
    for column, cell in row.items():
        if column is None or cell is None or cell == "":
            continue
        if column in _CSV_JSON_COLUMNS:
            try:
                record[column] = orjson.loads(cell)
            except orjson.JSONDecodeError:
                raise InvalidInput("expected a JSON array", location=column) from None
        elif column == "provided_by_subject":
            record[column] = [part.strip() for part in cell.split(";") if part.strip()]
        elif "." in column:
            group, name = column.split(".", 1)
            record.setdefault(group, {})[name] = _typed(rules, group, name, cell)
        else:
            record[column] = cell
    return record


def _typed(rules: RecordRules, category: str, name: str, cell: str) -> Any:
    spec = rules.fields.get(category, {}).get(name)
    if spec is None:
        return cell
    try:
        if spec.type == "number":
            return float(cell)
        if spec.type == "boolean" and cell.lower() in ("true", "false"):
            return cell.lower() == "true"
    except ValueError:
        pass
    return cell  # left as text for validation to refuse with its own message


# Preparing (in this process or a worker) -----------------------------------------------------


@dataclass(slots=True)
class Prepared:
    """A chunk validated and encrypted as if every person in it were new.

    Plain lists and tuples: it crosses a process boundary, and pickles fast that way.
    """

    lines: list[int]  # of the valid records, in order
    external_ids: list[str]
    errors: list[LineError]
    rows: Rows


def _validate(item: Item, rules: RecordRules) -> ValidRecord:
    if isinstance(item, InvalidInput):
        raise item
    return validate_record(item, rules)


def prepare_chunk(
    chunk: list[tuple[int, Item]],
    rules: RecordRules,
    keyring: Keyring,
    at: datetime,
    dates_as_text: bool,
) -> Prepared:
    prepared = Prepared([], [], [], Rows())
    records = []
    for number, item in chunk:
        try:
            record = _validate(item, rules)
        except InvalidInput as exc:
            prepared.errors.append(LineError(number, exc.location, exc.message))
            continue
        prepared.lines.append(number)
        prepared.external_ids.append(record.external_id)
        records.append(record)
    prepared.rows = prepare(
        records,
        Known(),
        keyring,
        categories=storage_categories(rules.policy),
        at=at,
        dates_as_text=dates_as_text,
    )
    return prepared


_worker_state: tuple[RecordRules, Keyring] | None = None


def _init_worker(rules: RecordRules, keyring: Keyring) -> None:
    global _worker_state
    _worker_state = (rules, keyring)


def _prepare_in_worker(chunk: list[tuple[int, Item]], at: datetime, as_text: bool) -> Prepared:
    assert _worker_state is not None
    return prepare_chunk(chunk, *_worker_state, at, as_text)


def _worker_count(path: Path, requested: int | None) -> int:
    if requested is not None:
        return requested
    if path.stat().st_size < PARALLEL_FROM_BYTES:
        return 0
    return max(1, min((os.cpu_count() or 1) - 1, 4))  # this process prepares chunks too


def _prepared_chunks(
    chunks: Iterator[list[tuple[int, Item]]],
    rules: RecordRules,
    keyring: Keyring,
    at: datetime,
    as_text: bool,
    workers: int,
) -> Iterator[tuple[list[tuple[int, Item]], Prepared]]:
    """(chunk, prepared) in file order, prepared here or by `workers` processes.

    Workers always have two chunks queued each, refilled before this process writes; while
    the oldest is not ready, this process prepares the next chunk itself.
    """
    if workers == 0:
        for chunk in chunks:
            yield chunk, prepare_chunk(chunk, rules, keyring, at, as_text)
        return
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=get_context("spawn"),
        initializer=_init_worker,
        initargs=(rules, keyring),
    )
    pending: deque[tuple[list, Future | Prepared]] = deque()  # in file order
    queued = 0  # chunks sent to workers and not yet taken back

    def refill() -> bool:
        nonlocal queued
        while queued < 2 * workers:
            chunk = next(chunks, None)
            if chunk is None:
                return False
            pending.append((chunk, pool.submit(_prepare_in_worker, chunk, at, as_text)))
            queued += 1
        return True

    try:
        more = refill()
        while pending:
            chunk, entry = pending[0]
            if (
                isinstance(entry, Future)
                and not entry.done()
                and more
                and len(pending) < 8 * workers
            ):
                # The oldest chunk is not ready: prepare the next one here rather than wait.
                stolen = next(chunks, None)
                if stolen is not None:
                    pending.append((stolen, prepare_chunk(stolen, rules, keyring, at, as_text)))
                    continue
                more = False
            pending.popleft()
            if isinstance(entry, Future):
                queued -= 1
                entry = entry.result()
            more = refill() and more
            yield chunk, entry
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


# Writing (always in this process, in one transaction) ---------------------------------------


def _unique_runs(records: list[tuple[int, ValidRecord]]) -> Iterator[list[tuple[int, ValidRecord]]]:
    """Split at the second mention of a person, so that it updates what the first wrote."""
    run: list[tuple[int, ValidRecord]] = []
    seen: set[str] = set()
    for line, record in records:
        if record.external_id in seen:
            yield run
            run, seen = [], set()
        run.append((line, record))
        seen.add(record.external_id)
    if run:
        yield run


def import_file(
    *,
    session: Session,
    keyring: Keyring,
    rules: RecordRules,
    path: Path,
    fmt: Format | None = None,
    skip_invalid: bool = False,
    workers: int | None = None,
    at: datetime,
    progress: Callable[[int], None] = lambda _n: None,
) -> ImportReport:
    """Import every record of `path` in the caller's transaction.

    Raises ImportFailed on the first bad record unless `skip_invalid`; the caller then rolls
    back, so nothing is written. `workers` None chooses by file size; 0 stays in-process.
    """
    report = ImportReport()
    as_text = dates_as_text(session)
    keyring.ensure_current(session)  # new keys under the store's active master key, held so
    screening = session.scalar(select(Suppression.blind_index).limit(1)) is not None

    def reject(error: LineError) -> None:
        if not skip_invalid:
            raise ImportFailed(error)
        report.invalid.append(error)

    def store(rows: Rows, sources: dict[str, str] | None = None) -> None:
        """`sources`: subject id -> source, for known subjects (new ones carry theirs)."""
        if screening:
            known = {row[0]: row[3] for row in rows.subjects} | (sources or {})
            rows = _screen(session, rules, rows, report, known)
        execute(session, rows)
        report.created += sum(w.created for w in rows.written)
        report.updated += sum(not w.created for w in rows.written)

    chunks = read_chunks(path, fmt or detect_format(path), rules)
    count = _worker_count(path, workers)
    for chunk, prepared in _prepared_chunks(chunks, rules, keyring, at, as_text, count):
        report.read += len(chunk)
        for error in prepared.errors:
            reject(error)
        ids = prepared.external_ids
        if len(set(ids)) == len(ids) and not gather(session, keyring, ids).subjects:
            store(prepared.rows)  # all new, as prepared: the common case of a bulk import
        else:
            _store_updates(
                session, keyring, rules, chunk, prepared, at, as_text, reject, store, report
            )
        progress(len(chunk))
    return report


def _screen(
    session: Session, rules: RecordRules, rows: Rows, report: ImportReport, sources: dict
) -> Rows:
    """Leave out records about people on the suppression list, when the data comes from
    elsewhere than the person (a purchased database, market research: §5.3).
    `sources` maps each subject id of the rows to the source of its record."""
    elsewhere = {
        sid
        for sid, source in sources.items()
        if not rules.policy.source(source).provided_by_subject
    }
    digests: dict[str, str] = {
        row[4]: row[0] for row in rows.values if row[0] in elsewhere and row[4] is not None
    }
    hits = {digests[d] for d in suppressed(session=session, digests=set(digests))}
    report.suppressed += len(hits)
    return rows.without(hits) if hits else rows


def _store_updates(
    session, keyring, rules, chunk, prepared, at, as_text, reject, store, report
) -> None:
    """A chunk that mentions known people, or someone twice: prepared again here, run by
    run, so that each mention updates under the person's own key what came before; what a
    person had erased is left out."""
    items = dict(chunk)
    valid = [(line, _validate(items[line], rules)) for line in prepared.lines]
    categories = storage_categories(rules.policy)
    for run in _unique_runs(valid):
        known = gather(session, keyring, (record.external_id for _, record in run))
        erased = erased_for_good_by_subject(session, rules.policy, known, at)
        accepted = []
        for line, record in run:
            current = known.subjects.get(record.external_id)
            problem = current and kind_change_problem(rules.policy, current.kind, record.kind)
            if problem:
                reject(LineError(line, "kind", problem))
                continue
            back = current and erased.get(current.id, frozenset())
            if back and back & categories_in(record, rules.policy):
                record = without(record, back, rules.policy)  # the person had it erased
                report.not_restored += 1
            accepted.append(record)
        rows = prepare(
            accepted, known, keyring, categories=categories, at=at, dates_as_text=as_text
        )
        by_external_id = {r.external_id: r.source for r in accepted}
        store(rows, {w.id: by_external_id[w.external_id] for w in rows.written})
