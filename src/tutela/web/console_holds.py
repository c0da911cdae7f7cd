"""`/console/holds`: legal holds, for the roles the policy lets handle them (internal roles
granted a purpose a hold serves): every hold, active and lifted, with what it covers, who
placed it and why; place one, lift one. The same flows as `tutela holds add|list|release`."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from tutela.clock import now
from tutela.db import session_scope
from tutela.errors import TutelaError
from tutela.retention import holds
from tutela.subjects import service as subjects
from tutela.web import sessions
from tutela.web.pages import allowed_user, page, posted

__all__ = ["router"]

router = APIRouter(prefix="/console/holds", include_in_schema=False)
REFERENCE_LIMIT = 200  # characters of a case reference, as the table stores it
LIFTED_SHOWN = 200  # holds lifted last listed below the active ones (all of which are)


def _handles(ctx, actor) -> bool:
    return ctx.policy.handles_holds(actor.roles)


def _keeper(request: Request) -> sessions.SignedIn | Response:
    return allowed_user(request, _handles, "holds")


def _listing(request: Request, user, status: int = 200, **shown) -> Response:
    ctx = request.app.state.ctx
    with session_scope(ctx.engine, write=False) as session:
        rows = holds.listed(session=session, lifted=LIFTED_SHOWN)
    return page(
        request,
        "holds.html",
        status,
        user=user,
        rows=rows,
        lifted_shown=LIFTED_SHOWN,
        purposes=ctx.policy.hold_purposes,
        categories=[c.id for c in ctx.policy.categories],
        **shown,
    )


@router.get("")
def listing(request: Request) -> Response:
    user = _keeper(request)
    if isinstance(user, Response):
        return user
    return _listing(request, user)


@router.post("")
async def place(request: Request) -> Response:
    sent = await posted(request, _handles, "holds")
    if isinstance(sent, Response):
        return sent
    user, form = sent
    ctx = request.app.state.ctx
    chosen = [c for c in (await request.form()).getlist("category") if isinstance(c, str)]
    external_id = form.get("external_id", "").strip()[:128]
    try:
        with session_scope(ctx.engine) as session:
            hold = holds.place_hold(
                session=session,
                policy=ctx.policy,
                actor=user.actor,
                subject_id=subjects.get(session=session, external_id=external_id).id,
                categories=chosen,
                purpose=form.get("purpose", ""),
                reference=form.get("reference", "").strip()[:REFERENCE_LIMIT],
                at=now(),
            )
            placed = hold.id
    except TutelaError as refused:
        return _listing(request, user, refused.http_status, problem=str(refused))
    return _listing(request, user, placed=placed)


@router.post("/{hold_id}/release")
async def release(request: Request, hold_id: str) -> Response:
    sent = await posted(request, _handles, "holds")
    if isinstance(sent, Response):
        return sent
    user, _ = sent
    if not (hold_id.isascii() and hold_id.isdigit()) or len(hold_id) > 9:  # fits any INTEGER
        return page(request, "error.html", 404, kind="missing", user=user)
    ctx = request.app.state.ctx
    try:
        with session_scope(ctx.engine) as session:
            _, erased = holds.release_hold(
                session=session,
                policy=ctx.policy,
                keyring=ctx.keyring(session),
                actor=user.actor,
                hold_id=int(hold_id),
                at=now(),
            )
    except TutelaError as refused:
        return _listing(request, user, refused.http_status, problem=str(refused))
    return _listing(request, user, released=int(hold_id), erased=erased)
