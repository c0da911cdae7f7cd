"""`/console/people`: finding a person by e-mail address or phone number (through the blind
index, never a scan of clear values), then reading them for a declared purpose through the
gate, exactly as the API reads: audited, each withheld category with its reason.

Finding is audited too, naming the people found; it is offered to staff who may read
someone for some purpose, and says nothing more than the external ids and kinds.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select

from tutela.audit import service as audit
from tutela.audit.service import Event
from tutela.clock import now
from tutela.db import read_connection, session_scope
from tutela.errors import Denied, InvalidInput, Unreadable
from tutela.subjects import service as subjects
from tutela.subjects.flows import read_for_purpose
from tutela.subjects.models import Subject
from tutela.web import sessions
from tutela.web.pages import allowed_user, page

__all__ = ["router"]

router = APIRouter(prefix="/console/people", include_in_schema=False)
SEARCHABLE = ("email", "phone")  # the blind-indexed field types a person is found by


def _reader(request: Request) -> sessions.SignedIn | Response:
    return allowed_user(request, lambda ctx, actor: bool(ctx.policy.reach(actor.roles)), "people")


@router.get("")
def search(request: Request) -> Response:
    user = _reader(request)
    if isinstance(user, Response):
        return user
    ctx = request.app.state.ctx
    asked = {t: request.query_params.get(t, "").strip()[:254] for t in SEARCHABLE}
    field_type = next((t for t in SEARCHABLE if asked[t]), None)
    found, problem = None, None
    if field_type is not None:
        try:
            with session_scope(ctx.engine) as session:
                ids = subjects.find_indexed(
                    session=session,
                    keyring=ctx.keyring(session),
                    rules=ctx.rules,
                    field_type=field_type,
                    value=asked[field_type],
                )
                categories = sorted(
                    {c.id for c in ctx.policy.categories for f in c.fields if f.type == field_type}
                )
                audit.log(
                    session,
                    ctx.policy,
                    now(),
                    Event(
                        user.actor.name,
                        "find",
                        "done",
                        categories=categories,
                        reason=f"console search by {field_type}",
                        subjects=ids,
                    ),
                )
                rows = session.execute(
                    select(Subject.external_id, Subject.kind).where(Subject.id.in_(ids))
                )
                found = [{"external_id": e, "kind": k} for e, k in sorted(rows.all())]
        except InvalidInput as refused:
            problem = str(refused)
    purposes = sorted(ctx.policy.reach(user.actor.roles))
    return page(
        request,
        "people.html",
        user=user,
        asked=asked,
        found=found,
        problem=problem,
        purposes=purposes,
    )


@router.get("/{external_id}")
def read(request: Request, external_id: str, purpose: str = "") -> Response:
    user = _reader(request)
    if isinstance(user, Response):
        return user
    ctx = request.app.state.ctx
    try:
        with read_connection(ctx.engine) as connected:
            view = read_for_purpose(
                session=connected,
                keyring=ctx.open_keyring(),
                policy=ctx.policy,
                actor=user.actor,
                external_id=external_id[:128],
                purpose=purpose[:64],
                at=now(),
            )
    except Unreadable:
        return page(request, "error.html", 404, kind="missing", user=user)
    except (Denied, InvalidInput) as refused:
        return page(request, "error.html", 403, message=str(refused), user=user)
    return page(request, "person.html", user=user, v=view)
