"""`/console`: signing in and out, and the DPO's dashboard. Each page asks the services what
the signed-in principal may see; a template only formats it."""

from __future__ import annotations

import secrets
from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tutela.access.throttle import FailureThrottle
from tutela.clock import now
from tutela.context import Context
from tutela.db import session_scope
from tutela.errors import Denied
from tutela.web import accounts, dashboard, sessions
from tutela.web.i18n import LANGUAGES, choose, environment
from tutela.web.security import check_csrf, harden

__all__ = ["router"]

router = APIRouter(prefix="/console", include_in_schema=False)
LOGIN_CSRF = "tutela_login_csrf"  # before a session exists, the login form's token (double submit)
LANG = "tutela_lang"
FIELD_LIMIT = 1024  # characters of a form field read: a name, a password, a code


def _ctx(request: Request) -> Context:
    return request.app.state.ctx


def _lang(request: Request) -> str:
    return choose(
        request.query_params.get("lang"),
        request.cookies.get(LANG),
        request.headers.get("accept-language"),
    )


def _cookie(request: Request, response: Response, name: str, value: str) -> None:
    response.set_cookie(
        name,
        value,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/console",
    )


def page(request: Request, template: str, status: int = 200, **values) -> HTMLResponse:
    """A page in the reader's language, with the headers every page carries."""
    lang = _lang(request)
    html = environment(lang).get_template(template).render(request=request, **values)
    response = HTMLResponse(html, status_code=status)
    if request.query_params.get("lang") in LANGUAGES:
        _cookie(request, response, LANG, lang)
    return harden(response)


def signed_in(request: Request) -> sessions.SignedIn | None:
    """The principal whose session cookie this is, while active and not idle too long."""
    ctx = _ctx(request)
    idle = timedelta(minutes=ctx.settings.console_idle_minutes)
    with session_scope(ctx.engine) as session:
        user = sessions.find(
            session=session, token=request.cookies.get(sessions.COOKIE), idle=idle, at=now()
        )
        if user is not None and user.actor.inactive_reason(now()):
            sessions.close(session=session, token_hash=user.token_hash)
            return None
    return user


def to_login() -> RedirectResponse:
    return RedirectResponse("/console/login", status_code=303)


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v[:FIELD_LIMIT] for k, v in form.items() if isinstance(v, str) and "\x00" not in v}


@router.get("/login")
def login_form(request: Request) -> HTMLResponse:
    token = request.cookies.get(LOGIN_CSRF) or secrets.token_urlsafe(32)
    response = page(request, "login.html", csrf=token, failed=False)
    _cookie(request, response, LOGIN_CSRF, token)
    return response


@router.post("/login")
async def login(request: Request) -> Response:
    form = await _form(request)
    ctx = _ctx(request)
    try:
        check_csrf(form.get("csrf"), request.cookies.get(LOGIN_CSRF))
    except Denied:
        return page(request, "error.html", 403, kind="csrf")
    # Per address and name: guessing one account is slowed, other people's sign-in is not.
    client = f"{request.client.host if request.client else 'unknown'}:{form.get('name', '')}"
    throttle: FailureThrottle = request.app.state.sign_in_throttle
    wait = throttle.retry_after(client)
    if wait:
        response = page(request, "error.html", 429, kind="slowed")
        response.headers["Retry-After"] = str(wait)
        return response
    with session_scope(ctx.engine) as session:
        principal = accounts.sign_in(
            session=session,
            keyring=ctx.keyring(session),
            policy=ctx.policy,
            name=form.get("name", ""),
            password=form.get("password", ""),
            code=form.get("code", ""),
            at=now(),
        )
        token = None
        if principal is not None:
            token = sessions.open_session(session=session, principal=principal, at=now())
    if token is None:
        throttle.failed(client)
        csrf = request.cookies.get(LOGIN_CSRF, "")
        return page(request, "login.html", 401, csrf=csrf, failed=True)
    response = RedirectResponse("/console", status_code=303)
    _cookie(request, response, sessions.COOKIE, token)
    response.delete_cookie(LOGIN_CSRF, path="/console")
    return harden(response)


@router.post("/logout")
async def logout(request: Request) -> Response:
    user = signed_in(request)
    if user is None:
        return to_login()
    form = await _form(request)
    try:
        check_csrf(form.get("csrf"), user.csrf)
    except Denied:
        return page(request, "error.html", 403, kind="csrf", user=user)
    with session_scope(_ctx(request).engine) as session:
        sessions.close(session=session, token_hash=user.token_hash)
    response = to_login()
    response.delete_cookie(sessions.COOKIE, path="/console")
    return harden(response)


@router.get("")
def home(request: Request) -> Response:
    user = signed_in(request)
    if user is None:
        return to_login()
    facts = dashboard.gather(_ctx(request), user.actor, now())
    return page(request, "dashboard.html", user=user, d=facts)
