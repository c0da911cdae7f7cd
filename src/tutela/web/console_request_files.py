"""`/console/requests/{id}/letter|copy|receipt`: what an ended request gives back, to
download for the person: the answer as a letter (HTML or PDF), the copy of their data for
access and portability (each format of `requests.export`, its export audited as in `tutela
requests export`), the erasure receipt (JSON). Files, never shown inline, never cached."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from tutela import jsonout
from tutela.clock import now
from tutela.db import session_scope
from tutela.errors import TutelaError
from tutela.requests import export, flows
from tutela.web.console_requests import steering
from tutela.web.pages import page
from tutela.web.security import attachment

__all__ = ["router"]

router = APIRouter(prefix="/console/requests", include_in_schema=False)


def _file(content: str | bytes, fmt: str, name: str) -> Response:
    return attachment(content, export.MEDIA[fmt], f"{name}.{fmt}")


def _given(request: Request, request_id: str, fmt: str, make, name: str) -> Response:
    """The file `make` gives (the letter or the copy) in `fmt`, or the page that says why not."""
    user = steering(request)
    if isinstance(user, Response):
        return user
    ctx = request.app.state.ctx
    request_id = request_id[:32]
    try:
        with session_scope(ctx.engine) as session:
            content = make(
                session=session,
                keyring=ctx.keyring(session),
                rules=ctx.rules,
                actor=user.actor,
                request_id=request_id,
                fmt=fmt,
                at=now(),
            )
    except TutelaError as refused:
        return page(request, "error.html", refused.http_status, message=str(refused), user=user)
    return _file(content, fmt, f"{request_id}-{name}")


@router.get("/{request_id}/letter")
def letter(request: Request, request_id: str, format: str = "pdf") -> Response:
    """The answer as a letter to print and post, as `tutela requests letter` writes it."""
    return _given(request, request_id, format, flows.letter, "letter")


@router.get("/{request_id}/copy")
def copy(request: Request, request_id: str, format: str = "html") -> Response:
    """The answer with the copy of the person's data, as `tutela requests export` writes it."""
    return _given(request, request_id, format, flows.export_copy, "copy")


@router.get("/{request_id}/receipt")
def receipt(request: Request, request_id: str) -> Response:
    """The erasure receipt, as `tutela requests receipt --json` gives it."""
    user = steering(request)
    if isinstance(user, Response):
        return user
    ctx = request.app.state.ctx
    request_id = request_id[:32]
    try:
        with session_scope(ctx.engine, write=False) as session:
            shown = flows.receipt(
                session=session, policy=ctx.policy, actor=user.actor, request_id=request_id
            )
    except TutelaError as refused:
        return page(request, "error.html", refused.http_status, message=str(refused), user=user)
    return _file(jsonout.text(shown, indent=True), "json", f"{request_id}-receipt")
