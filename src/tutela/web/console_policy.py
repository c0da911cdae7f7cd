"""`/console/policy`: for staff, the policy versions stored (the last in force), with who
activated each and why, what changes from one to another in register terms (`tutela policy
diff`), and the subprocessors with their contracts, audits and history, as `tutela policy
history` and `tutela subprocessors` give them. Activating a version stays on the CLI."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from tutela.db import session_scope
from tutela.errors import TutelaError
from tutela.policy.loader import parse_stored
from tutela.register import subprocessors, versions
from tutela.register.diff import diff, unchanged
from tutela.web import sessions
from tutela.web.pages import allowed_user, lang_of, page

__all__ = ["router", "show", "staff_only"]

router = APIRouter(prefix="/console/policy", include_in_schema=False)
VERSION_LIMIT = 32  # characters of a version name, as stored


def staff_only(request: Request) -> sessions.SignedIn | Response:
    return allowed_user(request, lambda ctx, actor: ctx.policy.is_staff(actor.roles), "staff")


def _compared(session: Session, old: str, new: str) -> tuple[dict[str, Any] | None, str | None]:
    """(the diff from stored version `old` to `new`, None) or (None, why there is none)."""
    texts = {name: versions.text_of(session, name) for name in (old, new)}
    for name, text in texts.items():
        if text is None:
            return None, f"no stored policy version '{name}'"
    try:
        return diff(parse_stored(texts[old]), parse_stored(texts[new])), None
    except TutelaError as refused:
        return None, str(refused)


def show(request: Request, user, status: int = 200, **shown) -> Response:
    """The policy page, with what a form asked for (`shown`) beside the versions."""
    ctx = request.app.state.ctx
    asked = {k: request.query_params.get(k, "")[:VERSION_LIMIT] for k in ("from", "to")}
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
        if len(stored) >= 2:  # by default, what the version in force changed
            asked["from"] = asked["from"] or stored[-2]["version"]
            asked["to"] = asked["to"] or stored[-1]["version"]
        change, problem = None, None
        if asked["from"] and asked["to"]:
            change, problem = _compared(session, asked["from"], asked["to"])
        changes = subprocessors.history(session)
    return page(
        request,
        "policy.html",
        status,
        user=user,
        versions=stored,
        asked=asked,
        change=change,
        same=change is not None and unchanged(change),
        diff_problem=problem,
        changes=changes,
        subprocessors=subprocessors.describe(ctx.policy, lang_of(request)),
        **shown,
    )


@router.get("")
def overview(request: Request) -> Response:
    user = staff_only(request)
    if isinstance(user, Response):
        return user
    return show(request, user)
