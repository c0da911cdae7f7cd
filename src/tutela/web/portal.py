"""`/portal`: the people's own door. A person reads the notice, makes a request with their
e-mail address (or leaves a post-mortem directive, §16), proves it with the code e-mailed to
them, follows the request to its deadline and downloads the answer (the letter, and the copy
of their data). Consents and objections are `web.portal_choices`.

The portal opens requests as a door of the policy (`rights_requests.doors`). Whether the
address is known is never said: the same words answer every address, and each gets the same
work (`intake.open_by_address`: a code and a message, whoever holds it). The browser that
made a request gets a grant (a cookie scoped to that request, kept hashed): without it the
request's page is not found. Submissions are rate limited by client address and by e-mail
address.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from tutela.access.gate import Actor
from tutela.clock import now, utc_naive
from tutela.db import session_scope
from tutela.errors import Conflict, Denied, InvalidInput, TutelaError
from tutela.policy.texts import Localised
from tutela.requests import export, intake, permissions, verification
from tutela.requests import service as requests
from tutela.requests.given import export_copy, gives_letter, letter
from tutela.web.models import PortalGrant
from tutela.web.pages import form_fields, lang_of, page, set_cookie, slowed
from tutela.web.security import attachment, check_csrf

__all__ = ["CSRF", "TYPES", "door", "router"]

router = APIRouter(prefix="/portal", include_in_schema=False)
# What a person may ask on the portal without more particulars than their address.
TYPES = ("access", "portability", "erasure", "restriction", "objection", "confirmation")
CSRF = "tutela_portal_csrf"
GRANT = "tutela_grant"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def door(request: Request) -> Actor:
    doors = request.app.state.ctx.policy.rights_requests.doors
    if not doors:
        raise Denied("the policy names no door for people's requests (`rights_requests.doors`)")
    return Actor("portal", (doors[0],))


def _form_page(request: Request, status: int = 200, **values) -> Response:
    token = request.cookies.get(CSRF) or secrets.token_urlsafe(32)
    response = page(
        request,
        "portal.html",
        status,
        csrf=token,
        types=TYPES,
        directives=intake.DIRECTIVES,
        after_death=_after_death(request),
        **values,
    )
    set_cookie(request, response, CSRF, token, "/portal")
    return response


def _after_death(request: Request) -> dict[str, str | None]:
    """What the policy tells people of their directives after death (§16), and the proof of
    identity staff check, in the reader's language."""
    policy = request.app.state.ctx.policy
    t = Localised(policy, lang_of(request))
    right = next((r for r in policy.rights if r.id == "post_mortem"), None)  # the request type
    proof = policy.rights_requests.identity_proof or ""
    return {
        "description": t.of("rights", right, "description") if right else None,
        "how": (t.of("rights", right, "how") or None) if right else None,
        "proof": t.key("rights_requests.identity_proof", proof) or None,
    }


def _granted(request: Request, request_id: str) -> bool:
    token = request.cookies.get(GRANT)
    if not token or len(request_id) > 32:
        return False
    with session_scope(request.app.state.ctx.engine, write=False) as session:
        grant = session.get(PortalGrant, request_id)
        return grant is not None and hmac.compare_digest(grant.token_hash, _hash(token))


def _not_found(request: Request) -> Response:
    return page(request, "portal_missing.html", 404)


@router.get("")
def home(request: Request) -> Response:
    return _form_page(request)


@router.post("/requests")
async def submit(request: Request) -> Response:
    form = await form_fields(request)
    if form.get("type") not in TYPES:
        return await _opened(request, form, None, invalid=True)
    return await _opened(request, form, form["type"], {})


@router.post("/post-mortem")
async def post_mortem(request: Request) -> Response:
    """A directive for one's data after death (§16), opened as any other request."""
    form = await form_fields(request)
    asked = {"directive": form.get("directive"), "designate": form.get("designate", "").strip()}
    return await _opened(request, form, "post_mortem", asked, invalid="directive")


async def _opened(request: Request, form, type_, particulars=None, *, invalid=True) -> Response:
    """Open the request the form asks and give this browser its grant; the same answer
    whoever holds the address (`intake.open_by_address`)."""
    try:
        check_csrf(form.get("csrf"), request.cookies.get(CSRF))
    except Denied:
        return page(request, "error.html", 403, kind="csrf")
    email = form.get("email", "").strip()
    # By client and by address (hashed, in memory): nobody floods a person with codes.
    throttles = request.app.state.portal_throttles
    keys = (request.client.host if request.client else "unknown", _hash(email.casefold()))
    for throttle, key in zip(throttles, keys, strict=True):
        if refused := slowed(request, throttle, key):
            return refused
        throttle.failed(key)  # every submission counts: a person makes few
    if type_ is None or not 3 <= len(email) <= 254 or "@" not in email:
        return _form_page(request, 422, invalid=invalid)
    ctx = request.app.state.ctx
    token = secrets.token_urlsafe(32)
    try:
        with session_scope(ctx.engine) as session:
            opened = intake.open_by_address(
                session=session,
                keyring=ctx.keyring(session),
                rules=ctx.rules,
                actor=door(request),
                type_=type_,
                email=email,
                received=now().date(),
                at=now(),
                particulars={k: v for k, v in particulars.items() if v},
            )
            session.add(
                PortalGrant(
                    request_id=opened.id, token_hash=_hash(token), created_at=utc_naive(now())
                )
            )
            request_id = opened.id
    except InvalidInput:  # a malformed address, a directive without whom to communicate to
        return _form_page(request, 422, invalid=invalid)
    path = f"/portal/requests/{request_id}"
    response = RedirectResponse(path, status_code=303)
    set_cookie(request, response, GRANT, token, path)
    return response


@router.get("/requests/{request_id}")
def follow(request: Request, request_id: str) -> Response:
    if not _granted(request, request_id):
        return _not_found(request)
    ctx = request.app.state.ctx
    with session_scope(ctx.engine, write=False) as session:
        made = requests.get(session=session, request_id=request_id)
        shown = {
            "id": made.id,
            "type": made.type,
            "status": made.status,
            "due_on": made.due_on,
            "copy": made.type in export.EXPORTABLE and made.status == "answered",
            "code": verification.by_code(ctx.policy, made.type),
            "letter": gives_letter(
                session=session, actor=permissions.requester(made.id), request=made
            ),
        }
    after_death = _after_death(request) if made.type == "post_mortem" else None
    token = request.cookies.get(CSRF) or secrets.token_urlsafe(32)
    note = request.query_params.get("note")
    response = page(
        request, "portal_request.html", r=shown, csrf=token, note=note, after_death=after_death
    )
    set_cookie(request, response, CSRF, token, "/portal")
    return response


@router.post("/requests/{request_id}/verify")
async def verify(request: Request, request_id: str) -> Response:
    if not _granted(request, request_id):
        return _not_found(request)
    form = await form_fields(request)
    try:
        check_csrf(form.get("csrf"), request.cookies.get(CSRF))
    except Denied:
        return page(request, "error.html", 403, kind="csrf")
    ctx = request.app.state.ctx
    with session_scope(ctx.engine) as session:
        try:
            refused = intake.verify(
                session=session,
                keyring=ctx.keyring(session),
                rules=ctx.rules,
                actor=door(request),
                request_id=request_id,
                code=form.get("code", "")[:16],
                id_checked_by=None,
                at=now(),
            )
        except (Conflict, InvalidInput):
            refused = "ended"
    note = "verified" if refused is None else "wrong_code"
    return RedirectResponse(f"/portal/requests/{request_id}?note={note}", status_code=303)


@router.get("/requests/{request_id}/copy")
def copy(request: Request, request_id: str, format: str = "html") -> Response:
    """The copy of the person's data, once the request is answered: audited as theirs."""
    if format not in export.COPY_FORMATS:
        return _not_found(request)
    return _given(request, request_id, export_copy, format, "your-data")


@router.get("/requests/{request_id}/letter")
def answer_letter(request: Request, request_id: str, format: str = "html") -> Response:
    """The answer as the letter staff would post (with the copy, for an answered access),
    once the request has one: under the same grant, audited as the copy is."""
    if format not in export.LETTER_FORMATS:
        return _not_found(request)
    return _given(request, request_id, letter, format, "your-answer")


def _given(request: Request, request_id: str, make, fmt: str, name: str) -> Response:
    """What an ended request gives back, made by the requests flows for its requester."""
    if not _granted(request, request_id):
        return _not_found(request)
    ctx = request.app.state.ctx
    try:
        with session_scope(ctx.engine) as session:
            content = make(
                session=session,
                keyring=ctx.keyring(session),
                rules=ctx.rules,
                actor=permissions.requester(request_id),
                request_id=request_id,
                fmt=fmt,
                at=now(),
            )
    except TutelaError:  # not answered, nothing of this kind for its type, not a portal one
        return _not_found(request)
    return attachment(content, export.MEDIA[fmt], f"{name}.{fmt}")
