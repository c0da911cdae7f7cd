"""Reading an import file, JSON Lines or CSV, record by record and in chunks.

A CSV row becomes the record its JSON line would be (`csv_row_to_record`); a row that cannot
be read is carried as the InvalidInput that says why, for its line to be reported.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import orjson

from tutela.errors import InvalidInput
from tutela.subjects.validation import RecordRules

__all__ = [
    "CHUNK",
    "Format",
    "Item",
    "LineError",
    "csv_row_to_record",
    "detect_format",
    "read_chunks",
]

Format = Literal["jsonl", "csv"]
CHUNK = 2000  # records a worker validates and encrypts at a time


@dataclass(frozen=True)
class LineError:
    line: int
    location: str | None
    message: str

    def __str__(self) -> str:
        where = f", {self.location}" if self.location else ""
        return f"line {self.line}{where}: {self.message}"


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
