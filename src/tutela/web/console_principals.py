"""`/console/principals`: staff, applications and recipients, for the policy's
administrator roles (the DPO): add one (its API key shown once), reissue a key, deactivate,
as `tutela principals` does; the last administrator is never deactivated."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from tutela.access import flows
from tutela.access.service import (
    active_key_count,
    actor_of,
    list_principals,
    sole_administrators,
)
from tutela.clock import now
from tutela.db import session_scope
from tutela.errors import TutelaError
from tutela.web import sessions
from tutela.web.pages import allowed_user, page, posted

__all__ = ["router"]

router = APIRouter(prefix="/console/principals", include_in_schema=False)


def _administers(ctx, actor) -> bool:
    return ctx.policy.administers(actor.roles)


def _administrator(request: Request) -> sessions.SignedIn | Response:
    return allowed_user(request, _administers, "principals")


def _listing(request: Request, user, status: int = 200, **shown) -> Response:
    ctx = request.app.state.ctx
    at = now()
    with session_scope(ctx.engine, write=False) as session:
        rows = [
            {
                "name": p.name,
                "roles": p.roles,
                "keys": active_key_count(session=session, principal=p),
                "inactive": actor_of(p).inactive_reason(at),
            }
            for p in list_principals(session=session)
        ]
        sole = sole_administrators(session=session, policy=ctx.policy, at=at)
    roles = [r.id for r in ctx.policy.recipients]
    return page(
        request, "principals.html", status, user=user, rows=rows, roles=roles, sole=sole, **shown
    )


@router.get("")
def listing(request: Request) -> Response:
    user = _administrator(request)
    if isinstance(user, Response):
        return user
    return _listing(request, user)


@router.post("/{action}")
async def act(request: Request, action: str) -> Response:
    sent = await posted(request, _administers, "principals")
    if isinstance(sent, Response):
        return sent
    user, form = sent
    ctx = request.app.state.ctx
    if action not in ("add", "reissue", "deactivate"):
        return page(request, "error.html", 403, kind="principals", user=user)
    roles = [r for r in (await request.form()).getlist("role") if isinstance(r, str)]
    name, key = form.get("name", "")[:128], None
    try:
        with session_scope(ctx.engine) as session:
            done = {"session": session, "policy": ctx.policy, "actor": user.actor, "at": now()}
            if action == "add":
                _, key = flows.add_principal(
                    **done, name=name, roles=roles, active_from=None, active_until=None
                )
            elif action == "reissue":
                _, key = flows.reissue_key(**done, name=name)
            else:
                flows.deactivate_principal(**done, name=name)
    except TutelaError as refused:
        return _listing(request, user, refused.http_status, problem=str(refused))
    return _listing(request, user, key=key, keyed=name if key else None)
