"""Answers as files for the person: JSON, CSV, or a readable HTML page (autoescaped Jinja2)."""

from __future__ import annotations

import csv
import io
import json
import os
from datetime import date, datetime
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy.orm import Session

from tutela.crypto.keyring import Keyring
from tutela.errors import Denied, InvalidInput
from tutela.policy.schema import Policy
from tutela.requests import service
from tutela.requests.decisions import Answer, decide
from tutela.requests.models import RightsRequest

__all__ = ["EXPORTABLE", "FORMATS", "check_exportable", "copy_of", "render", "write_private"]

EXPORTABLE = ("access", "portability")  # requests whose answer carries a copy of the data
FORMATS = ("json", "csv", "html")

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


def check_exportable(request: RightsRequest, fmt: str) -> None:
    """Raise unless the request's answer has a copy to give, in a known format, to a
    requester whose identity was verified."""
    if fmt not in FORMATS:
        raise InvalidInput(f"expected one of: {', '.join(FORMATS)}", location="format")
    if request.type not in EXPORTABLE:
        raise InvalidInput(f"a {request.type} request has no copy to export", location="id")
    if request.status not in ("verified", "closed"):
        raise Denied("the requester's identity is not verified: nothing is disclosed")


def copy_of(
    *,
    session: Session,
    keyring: Keyring,
    policy: Policy,
    request_id: str,
    fmt: str,
    at: datetime,
) -> str:
    """The answer to an access or portability request with its copy of the data, rendered
    for the person; decided again from what is held now, changing nothing."""
    request = service.get(session=session, request_id=request_id)
    check_exportable(request, fmt)
    answer = decide(session=session, keyring=keyring, policy=policy, request=request, at=at)
    return render(answer, fmt=fmt, controller=policy.controller.name, answered=at.date())


def write_private(path: Path, text: str) -> None:
    """The file holds personal data in clear, for the person only: created readable by its
    owner alone, and never overwriting another file."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
