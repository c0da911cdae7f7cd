"""`GET /register`: the register of processing activities, for staff."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response

from tutela.deps import KEYED, Caller, answers, call
from tutela.edges import StrictJsonRoute
from tutela.errors import Denied, InvalidInput
from tutela.register import render
from tutela.register.activities import register as derive
from tutela.register.dates import activity_dates
from tutela.register.privacy_notice import form
from tutela.register.privacy_notice import notice as derive_notice
from tutela.register.schemas import FormView

router = APIRouter(route_class=StrictJsonRoute, tags=["register"], responses=answers(*KEYED))
# What the people and the websites read, with no key.
public_router = APIRouter(route_class=StrictJsonRoute, tags=["notices"])


@router.get(
    "/register",
    response_class=Response,
    responses={
        200: {
            "description": "The register in the format asked for.",
            "content": {media: {} for media in render.MEDIA.values()},
        }
    },
)
def get_register(
    request: Request,
    caller: Caller,
    fmt: Annotated[
        Literal["json", "jsonld", "csv", "html", "pdf"],
        Query(alias="format", description="json, jsonld (W3C DPV terms), csv, html or pdf."),
    ] = "json",
    lang: Annotated[Literal["en", "fr"], Query(description="The register's language.")] = "en",
) -> Response:
    """The Art. 30(1) register of the policy in force: one activity per purpose, every field
    read off the policy. For staff: a principal holding an internal role."""
    with call(request, caller) as c:
        policy = c.ctx.policy
        if not policy.is_staff(c.actor.roles):
            raise Denied("the register is for staff: a principal holding an internal role")
    dated = activity_dates(c.ctx.engine)
    content = render.render(derive(policy, lang, dated), fmt)
    return Response(content, media_type=render.MEDIA[fmt])


@public_router.get(
    "/notice",
    response_class=Response,
    responses={
        200: {
            "description": "The notice in the format asked for.",
            "content": {render.MEDIA[f]: {} for f in render.NOTICE_FORMATS},
        }
    },
)
def get_notice(
    request: Request,
    kind: Annotated[str, Query(max_length=64, description="A subject kind: client, prospect.")],
    lang: Annotated[Literal["en", "fr"], Query(description="The notice's language.")] = "en",
    fmt: Annotated[Literal["html", "md", "pdf"], Query(alias="format")] = "html",
) -> Response:
    """The privacy notice (GDPR Art. 13-14) for one kind of person, public: no key."""
    policy = request.app.state.ctx.policy
    if kind not in policy.kind_ids:
        raise InvalidInput(f"expected one of: {', '.join(policy.kind_ids)}", location="query.kind")
    content = render.render_notice(derive_notice(policy, lang, kind), fmt)
    return Response(content, media_type=render.MEDIA[fmt])


@public_router.get("/forms/{form_id}", response_model=FormView, responses=answers(404))
def get_form(
    request: Request,
    form_id: Annotated[str, Path(max_length=64)],
    lang: Annotated[Literal["en", "fr"], Query(description="The labels' language.")] = "en",
) -> dict:
    """A collection form as the websites show it (§5.4, §17), public: each field, whether it
    is mandatory (the asterisk) and what leaving one empty means."""
    return form(request.app.state.ctx.policy, lang, form_id)
