"""Bulk import of subjects from JSON Lines or CSV.

The import is one transaction. By default the first bad record stops it and nothing at all is
written; with `skip_invalid` bad lines are reported and the rest is written. Records are
validated one by one and written in batches through the same writer as the API.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import orjson
from sqlalchemy.orm import Session

from tutela.crypto.keyring import Keyring
from tutela.errors import InvalidInput, TutelaError
from tutela.subjects import service
from tutela.subjects.validation import RecordRules, ValidRecord, validate_record

__all__ = ["ImportFailed", "ImportReport", "LineError", "import_file", "read_lines"]

Format = Literal["jsonl", "csv"]


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
    invalid: list[LineError] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "read": self.read,
            "created": self.created,
            "updated": self.updated,
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


def read_lines(path: Path, fmt: Format, rules: RecordRules) -> Iterator[tuple[int, Any]]:
    """(line number, parsed object or the InvalidInput that parsing raised)."""
    with path.open("rb") as handle:
        if fmt == "jsonl":
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    yield number, orjson.loads(line)
                except orjson.JSONDecodeError:
                    yield number, InvalidInput("not valid JSON")
        else:
            text = (raw.decode("utf-8-sig") for raw in handle)
            reader = csv.DictReader(text)
            for row in reader:
                try:
                    yield reader.line_num, csv_row_to_record(row, rules)
                except InvalidInput as exc:
                    yield reader.line_num, exc


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
    spec = rules.record_categories.get(category)
    field_spec = spec.field(name) if spec else None
    if field_spec is None:
        return cell
    try:
        if field_spec.type == "number":
            return float(cell)
        if field_spec.type == "boolean" and cell.lower() in ("true", "false"):
            return cell.lower() == "true"
    except ValueError:
        pass
    return cell  # left as text for validation to refuse with its own message


def import_file(
    *,
    session: Session,
    keyring: Keyring,
    rules: RecordRules,
    path: Path,
    fmt: Format | None = None,
    skip_invalid: bool = False,
    batch_size: int = 2000,
    at: datetime,
    progress: Callable[[int], None] = lambda _n: None,
) -> ImportReport:
    """Import every record of `path` in the caller's transaction.

    Raises ImportFailed on the first bad record unless `skip_invalid`; the caller then rolls
    back, so nothing is written.
    """
    report = ImportReport()
    batch: list[tuple[int, ValidRecord]] = []
    in_batch: set[str] = set()

    def reject(error: LineError) -> None:
        if not skip_invalid:
            raise ImportFailed(error)
        report.invalid.append(error)

    def flush() -> None:
        written, refused = service.save(
            session=session, keyring=keyring, rules=rules, records=[r for _, r in batch], at=at
        )
        for index, message in refused:
            reject(LineError(batch[index][0], "kind", message))
        report.created += sum(w.created for w in written)
        report.updated += sum(not w.created for w in written)
        progress(len(batch))
        batch.clear()
        in_batch.clear()

    for number, parsed in read_lines(path, fmt or detect_format(path), rules):
        report.read += 1
        try:
            if isinstance(parsed, InvalidInput):
                raise parsed
            record = validate_record(parsed, rules)
        except InvalidInput as exc:
            reject(LineError(number, exc.location, exc.message))
            progress(1)
            continue
        if record.external_id in in_batch:
            flush()  # a later line about the same person updates what the earlier one wrote
        batch.append((number, record))
        in_batch.add(record.external_id)
        if len(batch) >= batch_size:
            flush()
    if batch:
        flush()
    return report
