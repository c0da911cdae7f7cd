"""`/console/policy`: for staff, the policy versions stored (the last in force), with who
activated each and why, and the subprocessors with their contracts, audits and history, as
`tutela policy history` and `tutela subprocessors` give them."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from tutela.db import session_scope
from tutela.register import subprocessors, versions
from tutela.web.pages import allowed_user, lang_of, page

__all__ = ["router"]

router = APIRouter(prefix="/console/policy", include_in_schema=False)


@router.get("")
def overview(request: Request) -> Response:
    user = allowed_user(request, lambda ctx, actor: ctx.policy.is_staff(actor.roles), "staff")
    if isinstance(user, Response):
        return user
    ctx = request.app.state.ctx
    with session_scope(ctx.engine, write=False) as session:
        stored = [
            {
                "seq": v.seq,
                "version": v.version,
                "at": v.activated_at,
                "by": v.activated_by,
                "reason": v.reason,
                "digest": v.digest,
            }
            for v in versions.history(session)
        ]
        changes = subprocessors.history(session)
    return page(
        request,
        "policy.html",
        user=user,
        versions=stored,
        changes=changes,
        subprocessors=subprocessors.describe(ctx.policy, lang_of(request)),
    )
