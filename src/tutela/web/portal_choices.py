"""`/portal/choices`: a person gives and withdraws each consent and objects, once they have
proved their e-mail address with an e-mailed code (`consent.proofs`). Every change goes
through the consent flows, which audit it, as the CLI's and the API's do.

The browser holds the proof's token in a cookie scoped to this path; whatever the address
given, the answer is the same page asking for the code.
"""

from __future__ import annotations

import hashlib
import secrets

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from tutela.clock import now
from tutela.consent import flows, proofs
from tutela.consent import service as consents
from tutela.db import session_scope
from tutela.errors import Denied, InvalidInput, TutelaError
from tutela.policy.texts import Localised
from tutela.web.pages import form_fields, lang_of, page, set_cookie, slowed
from tutela.web.portal import CSRF, door
from tutela.web.security import check_csrf

__all__ = ["router"]

router = APIRouter(prefix="/portal/choices", include_in_schema=False)
PROOF = "tutela_choices"
PATH = "/portal/choices"
NOTES = (
    "proved",
    "wrong_code",
    "given",
    "withdrawn",
    "objected",
    "unchanged",
    "ended",
    "invalid",
    "done",
)


def _back(note: str) -> RedirectResponse:
    return RedirectResponse(f"{PATH}?note={note}", status_code=303)


@router.get("")
def choices(request: Request) -> Response:
    """The person's choices once proved; else the code form while one is awaited; else the
    form asking the address."""
    ctx = request.app.state.ctx
    token, at = request.cookies.get(PROOF), now()
    shown: dict = {"step": "ask"}
    with session_scope(ctx.engine, write=False) as session:
        person = proofs.holder(session=session, token=token, at=at)
        if person is not None:
            shown = _standing(ctx.policy, lang_of(request), session, person, at)
        elif proofs.pending(session=session, token=token, at=at):
            shown = {"step": "code"}
    csrf = request.cookies.get(CSRF) or secrets.token_urlsafe(32)
    note = request.query_params.get("note")
    response = page(
        request, "portal_choices.html", csrf=csrf, note=note if note in NOTES else None, **shown
    )
    set_cookie(request, response, CSRF, csrf, "/portal")
    return response


def _standing(policy, lang: str, session, person, at) -> dict:
    """Each purpose resting on the person's consent and each objection open to them, with
    where they stand now, named in the reader's language."""
    t = Localised(policy, lang)
    consented, objected = consents.standing(session=session, subject_id=person.id, at=at)
    return {
        "step": "choices",
        "purposes": [
            {
                "id": p.id,
                "name": t.of("purposes", p, "name"),
                "withdrawal": t.of("purposes", p, "withdrawal") or None,
                "given": p.id in consented,
            }
            for p in policy.consent_purposes(person.kind)
        ],
        "objections": [
            {"id": o.id, "name": t.of("objections", o, "name"), "made": o.id in objected}
            for o in policy.objections_for(person.kind)
        ],
    }


async def _posted(request: Request) -> dict[str, str] | Response:
    form = await form_fields(request)
    try:
        check_csrf(form.get("csrf"), request.cookies.get(CSRF))
    except Denied:
        return page(request, "error.html", 403, kind="csrf")
    return form


@router.post("")
async def ask(request: Request) -> Response:
    """Send a code to the address given: the same answer and work whoever holds it."""
    form = await _posted(request)
    if isinstance(form, Response):
        return form
    email = form.get("email", "").strip()
    throttles = request.app.state.portal_throttles
    keys = (_client(request), hashlib.sha256(email.casefold().encode()).hexdigest())
    for throttle, key in zip(throttles, keys, strict=True):
        if refused := slowed(request, throttle, key):
            return refused
        throttle.failed(key)
    if not 3 <= len(email) <= 254 or "@" not in email:
        return _back("invalid")
    ctx, token = request.app.state.ctx, secrets.token_urlsafe(32)
    try:
        with session_scope(ctx.engine) as session:
            proofs.ask(
                session=session,
                keyring=ctx.keyring(session),
                rules=ctx.rules,
                email=email,
                token=token,
                at=now(),
            )
    except InvalidInput:  # an address the policy's e-mail rule refuses, whoever asks
        return _back("invalid")
    response = RedirectResponse(PATH, status_code=303)
    set_cookie(request, response, PROOF, token, PATH)
    return response


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.post("/code")
async def prove(request: Request) -> Response:
    form = await _posted(request)
    if isinstance(form, Response):
        return form
    throttle = request.app.state.portal_throttles[0]
    if refused := slowed(request, throttle, _client(request)):
        return refused
    ctx = request.app.state.ctx
    with session_scope(ctx.engine) as session:
        proved = proofs.prove(
            session=session,
            keyring=ctx.keyring(session),
            token=request.cookies.get(PROOF),
            code=form.get("code", "")[:16],
            at=now(),
        )
    if not proved:
        throttle.failed(_client(request))
    return _back("proved" if proved else "wrong_code")


@router.post("/end")
async def end(request: Request) -> Response:
    """Done: this browser no longer manages anybody's choices."""
    form = await _posted(request)
    if isinstance(form, Response):
        return form
    with session_scope(request.app.state.ctx.engine) as session:
        proofs.end(session=session, token=request.cookies.get(PROOF))
    response = _back("done")
    response.delete_cookie(PROOF, path=PATH)
    return response


@router.post("/consent")
async def consent(request: Request) -> Response:
    """Give or withdraw one consent: one button each, as easy one way as the other."""
    return await _change(request, "consent")


@router.post("/objection")
async def objection(request: Request) -> Response:
    return await _change(request, "objection")


async def _change(request: Request, what: str) -> Response:
    form = await _posted(request)
    if isinstance(form, Response):
        return form
    action = form.get("action") if what == "consent" else "object"
    if action not in ("give", "withdraw", "object"):
        return _back("unchanged")
    try:
        if not _carry_out(request, action, form):
            return _back("ended")
    except TutelaError:  # not a purpose resting on consent, nothing to withdraw...
        return _back("unchanged")
    return _back({"give": "given", "withdraw": "withdrawn"}.get(action, "objected"))


def _carry_out(request: Request, action: str, form: dict[str, str]) -> bool:
    """The change, through the consent flows, for the person the browser proved it is; False
    when no proof holds any more."""
    ctx, at = request.app.state.ctx, now()
    with session_scope(ctx.engine) as session:
        person = proofs.holder(session=session, token=request.cookies.get(PROOF), at=at)
        if person is None:
            return False
        asked = {"session": session, "policy": ctx.policy, "actor": door(request)}
        asked |= {"subject": person, "at": at}
        if action == "give":
            purpose = form.get("purpose", "")
            flows.give(**asked, purpose=purpose, channel="portal", expires_at=None)
        elif action == "withdraw":
            flows.withdraw(**asked, purpose=form.get("purpose", ""))
        else:
            flows.object_to(**asked, scope=form.get("scope", ""))
    return True
