"""`/console/requests`: the rights requests for the roles that steer them, each with its
deadline, and processing one: the decision with its reasons, category by category, as the
CLI and the API give it (`requests.flows.process`)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from tutela.clock import now
from tutela.db import session_scope
from tutela.errors import NotFound, TutelaError
from tutela.requests import flows, permissions
from tutela.requests import service as requests
from tutela.web import sessions
from tutela.web.pages import allowed_user, page, posted

__all__ = ["router"]

router = APIRouter(prefix="/console/requests", include_in_schema=False)


def _shown(made, today) -> dict:
    return {
        "id": made.id,
        "type": made.type,
        "channel": made.channel,
        "status": made.status,
        "external_id": made.external_id,
        "received_on": made.received_on,
        "due_on": made.due_on,
        "days_left": (made.due_on - today).days,
        "flag": made.flag,
        "answer": made.answer,
    }


def _steering(request: Request) -> sessions.SignedIn | Response:
    """The signed-in principal, if their roles steer rights requests."""
    return allowed_user(
        request, lambda ctx, actor: permissions.steers(ctx.policy, actor), "requests"
    )


@router.get("")
def list_page(request: Request) -> Response:
    user = _steering(request)
    if isinstance(user, Response):
        return user
    ctx = request.app.state.ctx
    today = now().date()
    with session_scope(ctx.engine, write=False) as session:
        rows = [_shown(r, today) for r in requests.list_requests(session=session, on=today)]
    return page(request, "requests.html", user=user, rows=rows)


@router.get("/{request_id}")
def one(request: Request, request_id: str) -> Response:
    user = _steering(request)
    if isinstance(user, Response):
        return user
    ctx = request.app.state.ctx
    with session_scope(ctx.engine, write=False) as session:
        try:
            made = requests.get(session=session, request_id=request_id[:32])
        except NotFound:
            return page(request, "error.html", 404, kind="missing", user=user)
        shown = _shown(made, now().date())
    note = request.query_params.get("note")
    return page(request, "request.html", user=user, r=shown, note=note)


@router.post("/{request_id}/process")
async def process(request: Request, request_id: str) -> Response:
    sent = await posted(request)
    if isinstance(sent, Response):
        return sent
    user, _ = sent
    ctx = request.app.state.ctx
    try:
        with session_scope(ctx.engine) as session:
            flows.process(
                session=session,
                keyring=ctx.keyring(session),
                rules=ctx.rules,
                actor=user.actor,
                request_id=request_id[:32],
                at=now(),
            )
    except TutelaError as refused:
        return page(request, "error.html", refused.http_status, message=str(refused), user=user)
    return RedirectResponse(f"/console/requests/{request_id}?note=processed", status_code=303)
