"""`/console/audit`: the trail for the roles with oversight (the DPO), filtered by person,
principal and time, newest first; and verifying its keyed chain, as `tutela audit verify`."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import Response

from tutela.audit import service as audit
from tutela.audit.rows import as_rows
from tutela.audit.verify import verify as verify_chain
from tutela.db import session_scope
from tutela.errors import NotFound
from tutela.subjects import service as subjects
from tutela.web import sessions
from tutela.web.pages import allowed_user, page, posted
from tutela.wire import day_problem

__all__ = ["router"]

router = APIRouter(prefix="/console/audit", include_in_schema=False)
SHOWN = 200  # events a page lists, newest first


def _oversees(ctx, actor) -> bool:
    return ctx.policy.has_oversight(actor.roles)


def _overseer(request: Request) -> sessions.SignedIn | Response:
    return allowed_user(request, _oversees, "audit")


def _moment(text: str, zone: str) -> datetime | None:
    """A form's local date-time in the controller's zone; None when empty or malformed."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if day_problem(moment.date()):  # years no record names, which time zones cannot move
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(zone))


@router.get("")
def trail(request: Request) -> Response:
    user = _overseer(request)
    if isinstance(user, Response):
        return user
    ctx = request.app.state.ctx
    asked = {
        k: request.query_params.get(k, "").strip()[:128]
        for k in ("person", "principal", "from", "until")
    }
    zone = ctx.policy.breaches.time_zone if ctx.policy.breaches else "UTC"
    rows, unknown = [], False
    with session_scope(ctx.engine, write=False) as session:
        subject_id = None
        if asked["person"]:
            try:
                subject_id = subjects.get(session=session, external_id=asked["person"]).id
            except NotFound:
                unknown = True
        if not unknown:
            found = audit.events(
                session,
                subject_id=subject_id,
                principal=asked["principal"] or None,
                since=_moment(asked["from"], zone),
                until=_moment(asked["until"], zone),
                limit=SHOWN,
                newest_first=True,
            )
            rows = as_rows(session, found)
    return page(
        request,
        "audit.html",
        user=user,
        asked=asked,
        rows=rows,
        unknown=unknown,
        shown=SHOWN,
        report=None,
    )


@router.post("/verify")
async def verify(request: Request) -> Response:
    sent = await posted(request, _oversees, "audit")
    if isinstance(sent, Response):
        return sent
    user, _ = sent
    ctx = request.app.state.ctx
    with session_scope(ctx.engine, write=False) as session:
        report = verify_chain(session, keys=ctx.keyset().chain_keys())
    empty = {"person": "", "principal": "", "from": "", "until": ""}
    return page(
        request,
        "audit.html",
        user=user,
        asked=empty,
        rows=[],
        unknown=False,
        shown=SHOWN,
        report=report,
    )
