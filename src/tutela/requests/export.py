"""Answers as files for the person: JSON, CSV, a readable HTML page (autoescaped Jinja2), or
the same page as PDF (WeasyPrint) to print and post."""

from __future__ import annotations

import csv
import io
import os
from datetime import date
from pathlib import Path
from typing import Any

from tutela import jsonout
from tutela.documents import csv_cell, pdf, templates
from tutela.errors import InvalidInput
from tutela.policy.schema import Policy
from tutela.requests.models import RightsRequest
from tutela.requests.notices import contacts

__all__ = ["COPY_FORMATS", "EXPORTABLE", "LETTER_FORMATS", "MEDIA", "render", "write_private"]

EXPORTABLE = ("access", "portability")  # requests whose answer carries a copy of the data
COPY_FORMATS = ("json", "csv", "html", "pdf")
LETTER_FORMATS = ("html", "pdf")
MEDIA = {
    "json": "application/json",
    "csv": "text/csv",
    "html": "text/html",
    "pdf": "application/pdf",
}

_templates = templates("tutela.requests")


def check_format(fmt: str, allowed: tuple[str, ...]) -> None:
    if fmt not in allowed:
        raise InvalidInput(f"expected one of: {', '.join(allowed)}", location="format")


def render(
    *,
    policy: Policy,
    request: RightsRequest,
    copy: dict[str, Any] | None,
    receipt: dict[str, Any] | None,
    fmt: str,
    answered: date,
) -> str | bytes:
    """The answer (and its copy, when it has one) in `fmt`; PDF comes as bytes."""
    answer = {**(request.answer or {}), "contacts": contacts(policy)}
    if fmt == "json":
        body = {**answer, "copy": copy, "receipt": receipt}
        return jsonout.text(body, indent=True)
    if fmt == "csv":
        return _csv(copy or {})
    page = _templates.get_template("answer.html").render(
        answer=answer,
        request=request,
        copy=copy,
        receipt=receipt,
        controller=policy.controller,
        answered=answered,
    )
    if fmt == "html":
        return page
    return pdf(page)


def _csv(copy: dict[str, Any]) -> str:
    """One line per value: what portability asks for, opened by any tool."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["category", "field", "value"])
    for category, values in copy.get("personal_data", {}).items():
        items = values.items() if isinstance(values, dict) else enumerate(values)
        for field, value in items:
            writer.writerow([category, field, csv_cell(value)])
    return out.getvalue()


def write_private(path: Path, content: str | bytes) -> None:
    """The file holds personal data in clear, for the person only: created readable by its
    owner alone, and never overwriting another file."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
