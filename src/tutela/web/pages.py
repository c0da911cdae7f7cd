"""`/console`: signing in and out, and the DPO's dashboard. Each page asks the services what
the signed-in principal may see; a template only formats it."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tutela.access.gate import Actor
from tutela.access.throttle import FailureThrottle
from tutela.clock import now
from tutela.context import Context
from tutela.db import session_scope
from tutela.errors import Denied
from tutela.requests import permissions
from tutela.web import accounts, dashboard, forecast_chart, sessions
from tutela.web.i18n import LANGUAGES, choose, environment
from tutela.web.security import check_csrf, harden

__all__ = [
    "allowed_user",
    "form_fields",
    "lang_of",
    "page",
    "posted",
    "router",
    "set_cookie",
    "signed_in",
    "slowed",
    "to_login",
]

router = APIRouter(prefix="/console", include_in_schema=False)
LOGIN_CSRF = "tutela_login_csrf"  # before a session exists, the login form's token (double submit)
LANG = "tutela_lang"
FIELD_LIMIT = 1024  # characters of a form field read: a name, a password, a code


def _ctx(request: Request) -> Context:
    return request.app.state.ctx


def lang_of(request: Request) -> str:
    """The page's language: asked for, remembered, or the browser's."""
    return choose(
        request.query_params.get("lang"),
        request.cookies.get(LANG),
        request.headers.get("accept-language"),
    )


def set_cookie(
    request: Request, response: Response, name: str, value: str, path: str = "/console"
) -> None:
    """A cookie no script reads, never sent from another site, over TLS only when served so."""
    response.set_cookie(
        name,
        value,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path=path,
    )


def _menu(ctx: Context, actor) -> tuple[str, ...]:
    """The work pages the principal's roles reach: a page never offers what it would refuse."""
    reached = {
        "people": bool(ctx.policy.reach(actor.roles)),
        "requests": permissions.steers(ctx.policy, actor),
        "breaches": ctx.policy.handles_breaches(actor.roles),
        "holds": ctx.policy.handles_holds(actor.roles),
        "audit": ctx.policy.has_oversight(actor.roles),
        "register": ctx.policy.is_staff(actor.roles),
        "principals": ctx.policy.administers(actor.roles),
    }
    return tuple(name for name, allowed in reached.items() if allowed)


def page(request: Request, template: str, status: int = 200, **values) -> HTMLResponse:
    """A page in the reader's language, with the headers every page carries."""
    lang = lang_of(request)
    user = values.get("user")
    menu = _menu(_ctx(request), user.actor) if user else ()
    html = environment(lang).get_template(template).render(request=request, menu=menu, **values)
    response = HTMLResponse(html, status_code=status)
    if request.query_params.get("lang") in LANGUAGES:
        set_cookie(request, response, LANG, lang, path="/")  # the console's and the portal's
    return harden(response)


def signed_in(request: Request) -> sessions.SignedIn | None:
    """The principal whose session cookie this is, while active and not idle too long."""
    ctx = _ctx(request)
    idle = timedelta(minutes=ctx.settings.console_idle_minutes)
    lifetime = timedelta(hours=ctx.settings.console_session_hours)
    with session_scope(ctx.engine) as session:
        user = sessions.find(
            session=session,
            token=request.cookies.get(sessions.COOKIE),
            idle=idle,
            lifetime=lifetime,
            at=now(),
        )
        if user is not None and user.actor.inactive_reason(now()):
            sessions.close(session=session, token_hash=user.token_hash)
            return None
    return user


def allowed_user(
    request: Request, allowed: Callable[[Context, Actor], bool], refusal: str
) -> sessions.SignedIn | Response:
    """The signed-in principal if `allowed` says their roles reach the page; otherwise the
    sign-in page, or the refusal (an `error.html` kind) saying which roles it is for."""
    user = signed_in(request)
    if user is None:
        return to_login()
    if not allowed(_ctx(request), user.actor):
        return page(request, "error.html", 403, kind=refusal, user=user)
    return user


def to_login() -> RedirectResponse:
    return RedirectResponse("/console/login", status_code=303)


async def form_fields(request: Request) -> dict[str, str]:
    """A form's text fields, each cut to a bounded length; a field holding a NUL is dropped."""
    form = await request.form()
    return {k: v[:FIELD_LIMIT] for k, v in form.items() if isinstance(v, str) and "\x00" not in v}


def slowed(request: Request, throttle: FailureThrottle, client: str) -> Response | None:
    """The 429 page while `client` has failed too often, else None."""
    wait = throttle.retry_after(client)
    if not wait:
        return None
    response = page(request, "error.html", 429, kind="slowed")
    response.headers["Retry-After"] = str(wait)
    return response


async def posted(
    request: Request,
    allowed: Callable[[Context, Actor], bool] | None = None,
    refusal: str = "",
) -> tuple[sessions.SignedIn, dict[str, str]] | Response:
    """The signed-in principal and the form they sent with their session's token, if
    `allowed` (when given) says their roles reach the action; or the answer that refuses it
    (the sign-in page, a forged form, the `refusal` kind of `error.html`)."""
    user = signed_in(request)
    if user is None:
        return to_login()
    form = await form_fields(request)
    try:
        check_csrf(form.get("csrf"), user.csrf)
    except Denied:
        return page(request, "error.html", 403, kind="csrf", user=user)
    if allowed is not None and not allowed(_ctx(request), user.actor):
        return page(request, "error.html", 403, kind=refusal, user=user)
    return user, form


@router.get("/login")
def login_form(request: Request) -> HTMLResponse:
    token = request.cookies.get(LOGIN_CSRF) or secrets.token_urlsafe(32)
    response = page(request, "login.html", csrf=token, failed=False)
    set_cookie(request, response, LOGIN_CSRF, token)
    return response


@router.post("/login")
async def login(request: Request) -> Response:
    form = await form_fields(request)
    ctx = _ctx(request)
    try:
        check_csrf(form.get("csrf"), request.cookies.get(LOGIN_CSRF))
    except Denied:
        return page(request, "error.html", 403, kind="csrf")
    # Per address and name: guessing one account is slowed, other people's sign-in is not.
    client = f"{request.client.host if request.client else 'unknown'}:{form.get('name', '')}"
    throttle: FailureThrottle = request.app.state.sign_in_throttle
    if refused := slowed(request, throttle, client):
        return refused
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
    set_cookie(request, response, sessions.COOKIE, token)
    response.delete_cookie(LOGIN_CSRF, path="/console")
    return harden(response)


@router.post("/logout")
async def logout(request: Request) -> Response:
    sent = await posted(request)
    if isinstance(sent, Response):
        return sent
    user, _ = sent
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
    facts = dashboard.gather(_ctx(request), user.actor, now(), request.app.state.forecasts)
    return page(request, "dashboard.html", user=user, d=facts)


@router.get("/forecast.svg")
def forecast_svg(request: Request) -> Response:
    """The dashboard's retention chart, for the roles that oversee the trail."""
    user = allowed_user(request, lambda ctx, actor: ctx.policy.has_oversight(actor.roles), "audit")
    if isinstance(user, Response):
        return user
    counted = request.app.state.forecasts.get(_ctx(request), now())
    response = harden(
        Response(forecast_chart.svg(counted.forecast, lang_of(request)), media_type="image/svg+xml")
    )
    # An image runs no script; its own <style> is what colours it.
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response
