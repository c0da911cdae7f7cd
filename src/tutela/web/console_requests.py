"""`/console/requests`: the rights requests for the roles that steer them, filtered by status,
type, person and deadline, as `tutela requests list` filters them; and one request with its
history, its decision and reasons, and the steps its status and the principal's roles allow
(`console_request_steps`, `console_request_files`)."""

from __future__ import annotations

import re
from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import Response

from tutela.clock import now
from tutela.db import session_scope
from tutela.errors import NotFound
from tutela.requests import permissions, progress
from tutela.requests import service as requests
from tutela.requests.deadlines import MAX_EXTENSION
from tutela.requests.export import COPY_FORMATS, LETTER_FORMATS
from tutela.requests.models import RequestStatus
from tutela.web import sessions
from tutela.web.pages import allowed_user, page

__all__ = ["router", "steering"]

router = APIRouter(prefix="/console/requests", include_in_schema=False)
DAYS_ASKED = 366  # the furthest "due within" a filter asks for, as the API allows


def _shown(made, today: date) -> dict:
    return {
        "id": made.id,
        "type": made.type,
        "channel": made.channel,
        "status": made.status,
        "external_id": made.external_id,
        "received_on": made.received_on,
        "due_on": made.due_on,
        "days_left": (made.due_on - today).days,
        "overdue": not made.ended and made.due_on < today,
        "ended": made.ended,
        "flag": made.flag,
        "opened_by": made.opened_by,
        "extended_months": made.extended_months,
        "answer": made.answer,
        "receipt": made.receipt_id,
    }


def steering(request: Request) -> sessions.SignedIn | Response:
    """The signed-in principal, if their roles steer rights requests."""
    return allowed_user(
        request, lambda ctx, actor: permissions.steers(ctx.policy, actor), "requests"
    )


def _asked(request: Request) -> dict:
    """The list's filters from the query; a value the list does not know is left out."""
    query = request.query_params
    status = query.get("status", "")
    type_ = query.get("type", "")
    within = query.get("due_within", "").strip()
    days = int(within) if re.fullmatch(r"[0-9]{1,3}", within) else None
    return {
        "status": status if status in tuple(RequestStatus) else "",
        "type": type_ if type_ in requests.TYPES else "",
        "person": query.get("person", "").strip()[:128],
        "overdue": query.get("overdue") == "on",
        "due_within": days if days is not None and days <= DAYS_ASKED else None,
    }


@router.get("")
def list_page(request: Request) -> Response:
    user = steering(request)
    if isinstance(user, Response):
        return user
    ctx = request.app.state.ctx
    today = now().date()
    asked = _asked(request)
    with session_scope(ctx.engine, write=False) as session:
        found = requests.list_requests(
            session=session,
            on=today,
            status=RequestStatus(asked["status"]) if asked["status"] else None,
            overdue=asked["overdue"],
            due_within=asked["due_within"],
            type_=asked["type"] or None,
            external_id=asked["person"] or None,
        )
        rows = [_shown(r, today) for r in found]
    return page(
        request,
        "requests.html",
        user=user,
        rows=rows,
        asked=asked,
        statuses=tuple(RequestStatus),
        types=requests.TYPES,
        limit=DAYS_ASKED,
    )


@router.get("/{request_id}")
def one(request: Request, request_id: str) -> Response:
    user = steering(request)
    if isinstance(user, Response):
        return user
    ctx = request.app.state.ctx
    today = now().date()
    with session_scope(ctx.engine, write=False) as session:
        try:
            made = requests.get(session=session, request_id=request_id[:32])
        except NotFound:
            return page(request, "error.html", 404, kind="missing", user=user)
        shown = _shown(made, today)
        steps = progress.history(session=session, request=made)
        can = progress.offered(ctx.policy, user.actor, made, on=today)
    return page(
        request,
        "request.html",
        user=user,
        r=shown,
        steps=steps,
        can=can,
        note=request.query_params.get("note"),
        months=range(1, MAX_EXTENSION + 1),
        copy_formats=COPY_FORMATS,
        letter_formats=LETTER_FORMATS,
    )
