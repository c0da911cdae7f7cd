"""REST endpoints for rights requests: steering roles (the DPO) and doors (the company's
applications, the future portal) through the same flows as the CLI."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response, status

from tutela.clock import now
from tutela.deps import KEYED, Caller, answers, call
from tutela.edges import StrictJsonRoute
from tutela.errors import Denied
from tutela.jsonout import JsonAnswer
from tutela.requests import export, flows, intake, permissions, service
from tutela.requests.models import RequestStatus
from tutela.requests.notices import contacts
from tutela.requests.schemas import CodeIn, Extension, Lifting, Refusal, RequestIn, RequestOut

router = APIRouter(
    route_class=StrictJsonRoute, tags=["requests"], responses=answers(*KEYED, 404, 409)
)

RequestId = Annotated[str, Path(max_length=32, description="The request's id.")]


@router.post("/requests", status_code=status.HTTP_201_CREATED, response_model=RequestOut)
def open_request(body: RequestIn, request: Request, caller: Caller) -> RequestOut:
    """Open a rights request; the answer gives its legal due date. A door (the company's
    applications) opens online requests only: the person then gets a one-time code."""
    with call(request, caller, write=True) as c:
        opened = intake.open_request(
            **c.flow,
            type_=body.type,
            external_id=body.external_id,
            email=body.email,
            channel=body.channel,
            received=body.received or now().date(),
            at=now(),
            particulars=body.particulars(),
        )
        return RequestOut.of(opened, full=permissions.steers(c.ctx.policy, c.actor))


@router.get("/requests", response_model=list[RequestOut])
def list_requests(
    request: Request,
    caller: Caller,
    status: RequestStatus | None = Query(None, description="Only those of this status."),
    overdue: bool = False,
    due_within: Annotated[int | None, Query(ge=0, le=366)] = None,
) -> list[RequestOut]:
    """Requests in progress (or of one status), soonest due first; a door sees its own."""
    with call(request, caller) as c:
        rows = service.list_requests(
            session=c.session,
            on=now().date(),
            status=status,
            overdue=overdue,
            due_within=due_within,
            opened_by=permissions.opened_by_filter(c.ctx.policy, c.actor),
        )
        full = permissions.steers(c.ctx.policy, c.actor)
        return [RequestOut.of(r, full=full) for r in rows]


@router.get("/requests/{request_id}", response_model=RequestOut)
def show_request(request_id: RequestId, request: Request, caller: Caller) -> RequestOut:
    """One request, with its decision once it ended."""
    with call(request, caller) as c:
        found = service.get(session=c.session, request_id=request_id)
        permissions.require_own(c.ctx.policy, c.actor, found)
        return RequestOut.of(found, full=permissions.steers(c.ctx.policy, c.actor))


@router.post("/requests/{request_id}/extension", response_model=RequestOut)
def extend(request_id: RequestId, body: Extension, request: Request, caller: Caller) -> RequestOut:
    """Extend the deadline once by one or two months, with reasons (Art. 12(3)); the person is
    e-mailed the new date and the reasons when an address is on file."""
    with call(request, caller, write=True) as c:
        extended, _emailed = intake.extend(
            **c.flow,
            request_id=request_id,
            months=body.months,
            reason=body.reason,
            at=now(),
        )
        return RequestOut.of(extended)


@router.post("/requests/{request_id}/verification", response_model=RequestOut)
def verify(request_id: RequestId, body: CodeIn, request: Request, caller: Caller) -> RequestOut:
    """Check the one-time code the person received; 403 with the reason when it is wrong."""
    with call(request, caller, write=True) as c:
        refused = intake.verify(
            **c.flow,
            request_id=request_id,
            code=body.code,
            id_checked_by=None,
            at=now(),
        )
        out = RequestOut.of(
            service.get(session=c.session, request_id=request_id),
            full=permissions.steers(c.ctx.policy, c.actor),
        )
    if refused:  # the attempt is committed; now say no
        raise Denied(refused)
    return out


@router.post("/requests/{request_id}/cancellation", response_model=RequestOut)
def cancel(request_id: RequestId, request: Request, caller: Caller) -> RequestOut:
    """Withdraw a request not yet answered, at the person's wish."""
    with call(request, caller, write=True) as c:
        found = intake.cancel(
            **c.flow,
            request_id=request_id,
            at=now(),
        )
        return RequestOut.of(found, full=permissions.steers(c.ctx.policy, c.actor))


@router.post("/requests/{request_id}/processing")
def process(request_id: RequestId, request: Request, caller: Caller) -> JsonAnswer:
    """Decide a verified request and carry it out: outcome, each category's action with its
    ground and end, what was done, the reasons, whom to contact, and how the person is
    answered. A copy of the data is fetched with `GET /requests/{id}/copy`."""
    with call(request, caller, write=True) as c:
        answered = flows.process(
            **c.flow,
            request_id=request_id,
            at=now(),
        )
    return _summary(request, request_id, answered)


@router.post("/requests/{request_id}/refusal")
def refuse(request_id: RequestId, body: Refusal, request: Request, caller: Caller) -> JsonAnswer:
    """Refuse a request as manifestly unfounded or excessive (Art. 12(5)), with reasons."""
    with call(request, caller, write=True) as c:
        answered = flows.refuse(
            **c.flow,
            request_id=request_id,
            reason=body.reason,
            at=now(),
        )
    return _summary(request, request_id, answered)


def _summary(request: Request, request_id: str, answered: flows.Answered) -> JsonAnswer:
    summary = {**answered.answer, "reply": answered.reply}
    summary["contacts"] = contacts(request.app.state.ctx.policy)
    if answered.decision.type in export.EXPORTABLE:
        summary["copy"] = f"/requests/{request_id}/copy"
    return JsonAnswer(summary)


@router.get("/requests/{request_id}/copy")
def copy(
    request_id: RequestId,
    request: Request,
    caller: Caller,
    format: Annotated[
        Literal["json", "csv", "html", "pdf"], Query(description="json, csv, html or pdf.")
    ] = "json",
) -> Response:
    """The answer to an access or portability request with its copy of the data, for the
    person (403 until their identity is verified and the request answered)."""
    with call(request, caller) as c:
        content = flows.export_copy(
            **c.flow,
            request_id=request_id,
            fmt=format,
            at=now(),
        )
    return Response(content, media_type=_media(format))


@router.get("/requests/{request_id}/letter")
def letter(
    request_id: RequestId,
    request: Request,
    caller: Caller,
    format: Annotated[Literal["html", "pdf"], Query(description="html or pdf.")] = "html",
) -> Response:
    """The answer as a letter to print and post."""
    with call(request, caller) as c:
        content = flows.letter(
            **c.flow,
            request_id=request_id,
            fmt=format,
            at=now(),
        )
    return Response(content, media_type=_media(format))


@router.get("/requests/{request_id}/receipt")
def receipt(request_id: RequestId, request: Request, caller: Caller) -> JsonAnswer:
    """The erasure receipt: what was erased and kept, the data key destroyed, the trail
    events, the policy version; no personal value."""
    with call(request, caller) as c:
        return JsonAnswer(
            flows.receipt(
                session=c.session, policy=c.ctx.policy, actor=c.actor, request_id=request_id
            )
        )


@router.post("/subjects/{external_id}/restriction-lifting")
def lift_restriction(
    external_id: Annotated[str, Path(max_length=128)],
    body: Lifting,
    request: Request,
    caller: Caller,
) -> JsonAnswer:
    """The DPO lifts a person's restriction; the person and the recipients are told."""
    with call(request, caller, write=True) as c:
        lifted = flows.lift_restriction(
            **c.flow,
            external_id=external_id,
            reason=body.reason,
            at=now(),
            told_by_letter=body.told_by_letter,
        )
    return JsonAnswer(lifted)


def _media(fmt: str) -> str:
    media = export.MEDIA.get(fmt, "text/plain")
    return media if fmt == "pdf" else f"{media}; charset=utf-8"
