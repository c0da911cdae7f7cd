"""Answers as files for the person: JSON, CSV, or a readable HTML page (autoescaped Jinja2)."""

from __future__ import annotations

import csv
import io
import json
import os
from datetime import date
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from tutela.requests.decisions import Answer

__all__ = ["render", "write_private"]

_templates = Environment(
    loader=PackageLoader("tutela.requests", "templates"),
    autoescape=select_autoescape(["html"]),
)


def render(answer: Answer, *, fmt: str, controller: str, answered: date) -> str:
    if fmt == "json":
        return json.dumps(answer.as_dict(), indent=2, ensure_ascii=False, default=str)
    if fmt == "csv":  # one line per value: what portability asks for, opened by any tool
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["category", "field", "value"])
        for category, values in (answer.copy or {}).get("personal_data", {}).items():
            items = values.items() if isinstance(values, dict) else enumerate(values)
            for field, value in items:
                writer.writerow(
                    [
                        category,
                        field,
                        json.dumps(value, ensure_ascii=False)
                        if not isinstance(value, str)
                        else value,
                    ]
                )
        return out.getvalue()
    if fmt == "html":
        return _templates.get_template("answer.html").render(
            answer=answer.as_dict(), copy=answer.copy, controller=controller, answered=answered
        )
    raise ValueError(fmt)


def write_private(path: Path, text: str) -> None:
    """The file holds personal data in clear, for the person only: created readable by its
    owner alone, and never overwriting another file."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
