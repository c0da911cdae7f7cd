"""`/console/register`: the Art. 30 register of the policy in force for staff, to read and to
download in each format and language, and the privacy notices, as `tutela register export`
and `tutela notice` give them."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from tutela.register import render
from tutela.register.activities import register
from tutela.register.dates import activity_dates
from tutela.web import sessions
from tutela.web.pages import allowed_user, lang_of, page
from tutela.web.security import attachment

__all__ = ["router"]

router = APIRouter(prefix="/console/register", include_in_schema=False)


def _staff(request: Request) -> sessions.SignedIn | Response:
    return allowed_user(request, lambda ctx, actor: ctx.policy.is_staff(actor.roles), "staff")


@router.get("")
def overview(request: Request) -> Response:
    user = _staff(request)
    if isinstance(user, Response):
        return user
    ctx = request.app.state.ctx
    lang = lang_of(request)
    shown = register(ctx.policy, lang, activity_dates(ctx.engine))
    return page(
        request,
        "register.html",
        user=user,
        reg=shown,
        kinds=ctx.policy.kind_ids,
        formats=render.FORMATS,
    )


@router.get("/export")
def export(request: Request, format: str = "html", lang: str = "en") -> Response:
    user = _staff(request)
    if isinstance(user, Response):
        return user
    if format not in render.FORMATS or lang not in ("en", "fr"):
        return page(request, "error.html", 404, kind="missing", user=user)
    ctx = request.app.state.ctx
    content = render.render(register(ctx.policy, lang, activity_dates(ctx.engine)), format)
    return attachment(content, render.MEDIA[format], f"register-{lang}.{format}")
