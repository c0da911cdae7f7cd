"""`GET /register`: the register of processing activities, for staff."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from tutela.deps import KEYED, Caller, answers, call
from tutela.edges import StrictJsonRoute
from tutela.errors import Denied
from tutela.register import render
from tutela.register.activities import register as derive

router = APIRouter(route_class=StrictJsonRoute, tags=["register"], responses=answers(*KEYED, 422))


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
    content = render.render(derive(policy, lang), fmt)
    return Response(content, media_type=render.MEDIA[fmt])
