"""Bulk import of subjects from JSON Lines or CSV.

The import commits in slices of `batch` records (`TUTELA_IMPORT_BATCH`), one transaction
each, so that other writers (every audited read is one) pass between them instead of waiting
for the whole file. By default it is still all or nothing: a file longer than one slice is
checked whole first (every record against the policy, every change of kind against the
store), and the first bad record stops it before anything is written; with `skip_invalid`
bad lines are reported and the rest is written. A run stopped midway (killed, a crash)
leaves the slices it committed, each whole with its audit event; imports update by external
id, so running the same file again finishes it: what was written is written again with the
same values, nothing twice.

Large files are validated and encrypted by worker processes, chunk by chunk, while this
process writes: workers prepare every record as a new subject (fresh data key); the few that
turn out to exist already are prepared again here under their own key. Results are consumed
in file order, so errors and updates happen exactly as in a single process. A slice is
prepared before its transaction opens: the transaction only writes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import chain
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tutela.consent.models import Suppression
from tutela.consent.service import suppressed
from tutela.crypto.keyring import Keyring
from tutela.db import let_waiting_writers_pass, session_scope
from tutela.errors import TutelaError
from tutela.subjects.dates import record_problem
from tutela.subjects.import_checks import first_problem, valid_records, validate_item
from tutela.subjects.import_files import (
    CHUNK,
    Format,
    Item,
    LineError,
    detect_format,
    read_chunks,
)
from tutela.subjects.import_workers import worker_count
from tutela.subjects.import_workers import workers as workers_for
from tutela.subjects.service import storage_categories
from tutela.subjects.validation import RecordRules, ValidRecord
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

__all__ = [
    "BATCH",
    "ImportFailed",
    "ImportReport",
    "LineError",
    "Slice",
    "import_file",
    "read_chunks",
]

BATCH = 1000  # records per transaction: the default of `TUTELA_IMPORT_BATCH`
PARALLEL_FROM_BYTES = 4 * 1024 * 1024  # below this, starting workers costs more than it saves


class ImportFailed(TutelaError):
    """A bad record stopped the import. `committed` records were imported before it, in
    slices already committed (0 but for a store changed by another writer meanwhile)."""

    http_status = 422

    def __init__(self, error: LineError, committed: int = 0) -> None:
        self.error = error
        self.committed = committed
        if committed:
            outcome = (
                f"the {committed} records before it were imported, the rest not; "
                "import the file again once it is corrected to finish"
            )
        else:
            outcome = "nothing was imported"
        super().__init__(f"{error}; {outcome}")


@dataclass
class ImportReport:
    read: int = 0
    created: int = 0
    updated: int = 0
    suppressed: int = 0  # records about people on the suppression list, not imported
    not_restored: int = 0  # records whose data the person had erased: that part left out
    invalid: list[LineError] = field(default_factory=list)

    def add(self, other: ImportReport) -> None:
        self.read += other.read
        self.created += other.created
        self.updated += other.updated
        self.suppressed += other.suppressed
        self.not_restored += other.not_restored
        self.invalid += other.invalid

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


@dataclass
class Slice:
    """What one transaction of an import wrote: the lines it covers and its counts."""

    first_line: int | None
    last_line: int | None
    report: ImportReport


# Preparing (in this process or a worker) ----------------------------------------------------


@dataclass(slots=True)
class Prepared:
    """A chunk validated and encrypted as if every person in it were new.

    Plain lists and tuples: it crosses a process boundary, and pickles fast that way.
    """

    lines: list[int]  # of the valid records, in order
    external_ids: list[str]
    errors: list[LineError]
    rows: Rows


def prepare_chunk(
    chunk: list[tuple[int, Item]],
    rules: RecordRules,
    keyring: Keyring,
    at: datetime,
    dates_as_text: bool,
) -> Prepared:
    prepared = Prepared([], [], [], Rows())
    records = []
    for number, record in valid_records(chunk, rules, at, prepared.errors):
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


# Writing (always in this process, a slice per transaction) -----------------------------------


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


def _slices(
    prepared: Iterable[tuple[list[tuple[int, Item]], Prepared]], size: int
) -> Iterator[list[tuple[list[tuple[int, Item]], Prepared]]]:
    """Prepared chunks grouped `size` records or more at a time (whole chunks); one empty
    group for an empty file, so that its import is still recorded."""
    part: list = []
    records = 0
    given = False
    for entry in prepared:
        part.append(entry)
        records += len(entry[0])
        if records >= size:
            yield part
            part, records, given = [], 0, True
    if part or not given:
        yield part


def _peek(chunks: Iterator[list], records: int) -> tuple[list[list], bool]:
    """The first chunks, up to more than `records` records, and whether the file ends
    within them (then it is one slice)."""
    head: list[list] = []
    seen = 0
    for chunk in chunks:
        head.append(chunk)
        seen += len(chunk)
        if seen > records:
            return head, False
    return head, True


def import_file(
    *,
    engine: Engine,
    keyring: Keyring,
    rules: RecordRules,
    path: Path,
    fmt: Format | None = None,
    skip_invalid: bool = False,
    workers: int | None = None,
    batch: int = BATCH,
    at: datetime,
    progress: Callable[[int], None] = lambda _n: None,
    checking: Callable[[int], None] = lambda _n: None,
    on_slice: Callable[[Session, Slice], None] = lambda _session, _slice: None,
) -> ImportReport:
    """Import every record of `path`, `batch` records per transaction.

    Unless `skip_invalid`, raises ImportFailed on the first bad record, having written
    nothing: a file of more than one slice is checked whole first (`checking` counts its
    records as they are checked). `progress` counts the records written, slice by slice;
    `on_slice` runs last in each slice's transaction (to audit it). `workers` None chooses
    by file size; 0 stays in-process.
    """
    fmt = fmt or detect_format(path)
    size = max(1, min(CHUNK, batch))
    as_text = engine.dialect.name == "sqlite"  # the engine stores dates as text (`db`)
    report = ImportReport()
    with workers_for(rules, worker_count(path, workers)) as pool:
        chunks = read_chunks(path, fmt, rules, size)
        head, whole = _peek(chunks, batch)
        if not (skip_invalid or whole):
            problem = first_problem(
                engine, rules, pool, read_chunks(path, fmt, rules, size), checking, at
            )
            if problem is not None:
                raise ImportFailed(problem)
        stream = pool.ordered(chain(head, chunks), prepare_chunk, keyring, at, as_text)
        for part in _slices(stream, batch):
            piece = _write_slice(
                engine, keyring, rules, part, at, as_text, skip_invalid, report.read, on_slice
            )
            report.add(piece)
            progress(piece.read)
            let_waiting_writers_pass(engine)
    return report


def _write_slice(
    engine: Engine,
    keyring: Keyring,
    rules: RecordRules,
    part: list[tuple[list[tuple[int, Item]], Prepared]],
    at: datetime,
    as_text: bool,
    skip_invalid: bool,
    committed: int,
    on_slice: Callable[[Session, Slice], None],
) -> ImportReport:
    """One transaction: the slice's records, then `on_slice`. `committed`: the records
    imported before it, in slices already committed."""
    piece = ImportReport()

    def reject(error: LineError) -> None:
        if not skip_invalid:
            raise ImportFailed(error, committed)
        piece.invalid.append(error)

    with session_scope(engine) as session:
        keyring.ensure_current(session)  # new keys under the store's active key, held so
        screening = session.scalar(select(Suppression.blind_index).limit(1)) is not None

        def store(rows: Rows, sources: dict[str, str] | None = None) -> None:
            """`sources`: subject id -> source, for known subjects (new ones carry theirs)."""
            if screening:
                known = {row[0]: row[3] for row in rows.subjects} | (sources or {})
                rows = _screen(session, rules, rows, piece, known)
            execute(session, rows)
            piece.created += sum(w.created for w in rows.written)
            piece.updated += sum(not w.created for w in rows.written)

        for chunk, prepared in part:
            piece.read += len(chunk)
            for error in prepared.errors:
                reject(error)
            if prepared.rows.keys and prepared.rows.keys[0][2] != keyring.master.key_id:
                # Prepared before a rotation made another master key the active one.
                prepared = prepare_chunk(chunk, rules, keyring, at, as_text)
            ids = prepared.external_ids
            if len(set(ids)) == len(ids) and not gather(session, keyring, ids).subjects:
                store(prepared.rows)  # all new, as prepared: the common case of a bulk import
            else:
                _store_updates(
                    session, keyring, rules, chunk, prepared, at, as_text, reject, store, piece
                )
        lines = [number for chunk, _ in part for number, _ in chunk[:1] + chunk[-1:]]
        on_slice(session, Slice(min(lines, default=None), max(lines, default=None), piece))
    return piece


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
    person had erased is left out.

    A refusal here that depends on the store must be found by `_first_problem` too: else a
    file of several slices checked good stops midway, its first slices written."""
    items = dict(chunk)
    valid = [(line, validate_item(items[line], rules)) for line in prepared.lines]
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
            dated = current and record_problem(record, at, current._mapping)
            if dated:  # its dates with those already stored: order, as the API checks it
                reject(LineError(line, *dated))
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
