"""`/console/breaches`: the breach register for the roles the policy names to handle
breaches, and each step: open, scope, assess, draft and record the notification, tell the
people, close. The same services as `tutela breaches` and `/breaches`."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from tutela.breaches import drafts, service, steps, view
from tutela.breaches.communicate import communicate
from tutela.clock import now
from tutela.db import session_scope
from tutela.errors import InvalidInput, TutelaError
from tutela.policy.schema import Policy
from tutela.web import sessions
from tutela.web.pages import allowed_user, page, posted
from tutela.web.security import attachment
from tutela.wire import day_problem

__all__ = ["router"]

router = APIRouter(prefix="/console/breaches", include_in_schema=False)


def _handler(request: Request) -> sessions.SignedIn | Response:
    return allowed_user(request, _handles, "breaches")


def _handles(ctx, actor) -> bool:
    return ctx.policy.handles_breaches(actor.roles)


def _moment(policy: Policy, text: str, field: str) -> datetime:
    """A time from a form's local date-time field, in the policy's time zone."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput("expected a date and time", location=field) from None
    if problem := day_problem(moment.date()):
        raise InvalidInput(problem, location=field)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(policy.breaches.time_zone))
    return moment


def _back(breach_id: str, note: str) -> RedirectResponse:
    return RedirectResponse(f"/console/breaches/{breach_id}?note={note}", status_code=303)


@router.get("")
def list_page(request: Request) -> Response:
    user = _handler(request)
    if isinstance(user, Response):
        return user
    ctx = request.app.state.ctx
    with session_scope(ctx.engine, write=False) as session:
        rows = [
            service.summary(session, None, ctx.policy, b, now()) for b in service.every(session)
        ]
    return page(request, "breaches.html", user=user, rows=rows)


@router.post("")
async def open_page(request: Request) -> Response:
    sent = await posted(request, _handles, "breaches")
    if isinstance(sent, Response):
        return sent
    user, form = sent
    ctx = request.app.state.ctx
    natures = (await request.form()).getlist("nature")  # the checked boxes
    try:
        with session_scope(ctx.engine) as session:
            breach = service.open_breach(
                session=session,
                keyring=ctx.keyring(session),
                policy=ctx.policy,
                actor=user.actor,
                aware_at=_moment(ctx.policy, form.get("aware_at", ""), "aware_at"),
                natures=[n for n in natures if isinstance(n, str)],
                description=form.get("description", ""),
                encrypted=form.get("encrypted") == "on",
                at=now(),
            )
            breach_id = breach.id
    except TutelaError as refused:
        return page(request, "error.html", refused.http_status, message=str(refused), user=user)
    return _back(breach_id, "opened")


@router.get("/{breach_id}")
def one(request: Request, breach_id: str) -> Response:
    user = _handler(request)
    if isinstance(user, Response):
        return user
    ctx = request.app.state.ctx
    try:
        with session_scope(ctx.engine, write=False) as session:
            shown = view.full(
                session,
                ctx.keyring(session),
                ctx.policy,
                service.get(session, breach_id[:16]),
                now(),
            )
    except TutelaError:
        return page(request, "error.html", 404, kind="missing", user=user)
    note = request.query_params.get("note")
    return page(request, "breach.html", user=user, b=shown, note=note)


@router.post("/{breach_id}/{step}")
async def act(request: Request, breach_id: str, step: str) -> Response:
    """One step of a breach, from its page's forms."""
    sent = await posted(request, _handles, "breaches")
    if isinstance(sent, Response):
        return sent
    user, form = sent
    if step not in _STEPS:
        return page(request, "error.html", 404, kind="missing", user=user)
    ctx = request.app.state.ctx
    try:
        with session_scope(ctx.engine) as session:
            keyring, breach = ctx.keyring(session), service.get(session, breach_id[:16])
            done = {
                "session": session,
                "policy": ctx.policy,
                "actor": user.actor,
                "breach": breach,
                "at": now(),
            }
            _STEPS[step](ctx, keyring, done, form)
    except TutelaError as refused:
        return page(request, "error.html", refused.http_status, message=str(refused), user=user)
    return _back(breach_id, step)


def _scope(ctx, keyring, done, form) -> None:
    if form.get("principal"):
        window = (
            _moment(ctx.policy, form.get("from", ""), "from"),
            _moment(ctx.policy, form.get("until", ""), "until"),
        )
        service.scope(**done, principal=form["principal"], window=window)
    else:
        service.scope(
            **done,
            category=form.get("category"),
            kind=form.get("kind") or None,
            encrypted=form.get("encrypted") == "on",
        )


def _assess(ctx, keyring, done, form) -> None:
    given = {key: form.get(key) or None for key in steps.CIRCUMSTANCES}
    given["malicious"] = form.get("malicious") == "on"
    steps.assess(
        **done,
        keyring=keyring,
        given=given,
        measures=form.get("measures") or None,
        consequences=form.get("consequences") or None,
    )


def _notify(ctx, keyring, done, form) -> None:
    reason = form.get("delay_reason") or None
    draft = drafts.draft(**done, keyring=keyring, lang=form.get("lang", "en"), delay_reason=reason)
    steps.record_notification(
        **done,
        keyring=keyring,
        draft=draft,
        reference=form.get("reference") or None,
        delay_reason=reason,
    )


def _communicate(ctx, keyring, done, form) -> None:
    communicate(**done, keyring=keyring, public=form.get("public") == "on")


def _close(ctx, keyring, done, form) -> None:
    steps.close(**done)


_STEPS = {
    "scope": _scope,
    "assess": _assess,
    "notify": _notify,
    "communicate": _communicate,
    "close": _close,
}


@router.get("/{breach_id}/draft")
def draft(request: Request, breach_id: str, lang: str = "en", format: str = "html") -> Response:
    """The notification's draft to download (HTML or PDF), in English or French."""
    user = _handler(request)
    if isinstance(user, Response):
        return user
    if lang not in ("en", "fr") or format not in ("html", "pdf"):
        return page(request, "error.html", 404, kind="missing", user=user)
    ctx = request.app.state.ctx
    try:
        with session_scope(ctx.engine) as session:  # reading the countries is audited
            content = drafts.draft(
                session=session,
                keyring=ctx.keyring(session),
                policy=ctx.policy,
                actor=user.actor,
                breach=service.get(session, breach_id[:16]),
                at=now(),
                lang=lang,
            )
    except TutelaError:
        return page(request, "error.html", 404, kind="missing", user=user)
    name = f"{content['breach']}-notification-{lang}.{format}"
    return attachment(drafts.render(content, format), drafts.FORMATS[format], name)
