"""`/console/requests/{id}/...`: the steps staff take on a request from its page: verify the
requester's identity on an ID document they checked, extend the deadline with its reasons
(Art. 12(3)), refuse a manifestly unfounded or excessive request (Art. 12(5)), process a
verified one. Each is a form sent with the session's token, through the same flows as
`tutela requests` and `/requests`; the flow's refusal is shown as it says it."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from tutela.clock import now
from tutela.db import session_scope
from tutela.errors import TutelaError
from tutela.requests import flows, intake, permissions
from tutela.web.pages import page, posted

__all__ = ["router"]

router = APIRouter(prefix="/console/requests", include_in_schema=False)


def _verify(done: dict, form: dict[str, str]) -> tuple[str, str | None]:
    refused = intake.verify(**done, code=None, id_checked_by=form.get("id_checked_by", ""))
    return "verified", refused


def _extend(done: dict, form: dict[str, str]) -> tuple[str, str | None]:
    months = form.get("months", "")
    _, emailed = intake.extend(
        **done,
        months=int(months) if re.fullmatch(r"[0-9]{1,2}", months) else 0,  # the flow judges
        reason=form.get("reason", ""),
    )
    return ("extended-emailed" if emailed else "extended-write"), None


def _refuse(done: dict, form: dict[str, str]) -> tuple[str, str | None]:
    flows.refuse(**done, reason=form.get("reason", ""))
    return "refused", None


def _process(done: dict, form: dict[str, str]) -> tuple[str, str | None]:
    flows.process(**done)
    return "processed", None


# Each step: the note the request's page shows after it, and the flow's refusal when it
# records the attempt (a verification) rather than raising.
_STEPS: dict[str, Callable[[dict, dict[str, str]], tuple[str, str | None]]] = {
    "verify": _verify,
    "extend": _extend,
    "refuse": _refuse,
    "process": _process,
}


@router.post("/{request_id}/{step}")
async def act(request: Request, request_id: str, step: str) -> Response:
    """One step of a request, from its page's forms."""
    sent = await posted(
        request, lambda ctx, actor: permissions.steers(ctx.policy, actor), "requests"
    )
    if isinstance(sent, Response):
        return sent
    user, form = sent
    ctx = request.app.state.ctx
    if step not in _STEPS:
        return page(request, "error.html", 404, kind="missing", user=user)
    request_id = request_id[:32]
    try:
        with session_scope(ctx.engine) as session:
            done = {
                "session": session,
                "keyring": ctx.keyring(session),
                "rules": ctx.rules,
                "actor": user.actor,
                "request_id": request_id,
                "at": now(),
            }
            note, refused = _STEPS[step](done, form)
    except TutelaError as refusal:
        return page(request, "error.html", refusal.http_status, message=str(refusal), user=user)
    if refused:  # the attempt is committed; now say no
        return page(request, "error.html", 403, message=refused, user=user)
    return RedirectResponse(f"/console/requests/{request_id}?note={note}", status_code=303)
