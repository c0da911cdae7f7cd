"""REST endpoints for rights requests (the company's applications and the future portal)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from tutela.clock import now
from tutela.deps import Credentials, call
from tutela.errors import Denied
from tutela.requests import flows, service
from tutela.requests.schemas import CodeIn, Extension, RequestIn, RequestOut

router = APIRouter(prefix="/requests", tags=["requests"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=RequestOut)
def open_request(body: RequestIn, request: Request, credentials: Credentials) -> RequestOut:
    """Open a rights request; the answer gives its legal due date."""
    with call(request, credentials, write=True) as c:
        opened = flows.open_request(
            session=c.session,
            keyring=c.keyring,
            rules=c.ctx.rules,
            actor=c.actor,
            type_=body.type,
            external_id=body.external_id,
            email=body.email,
            channel=body.channel,
            received=body.received or now().date(),
            at=now(),
            changes=body.changes,
        )
        return RequestOut.model_validate(opened, from_attributes=True)


@router.get("", response_model=list[RequestOut])
def list_requests(
    request: Request,
    credentials: Credentials,
    overdue: bool = False,
    due_within: Annotated[int | None, Query(ge=0, le=366)] = None,
) -> list[RequestOut]:
    """Requests not yet closed, soonest due first."""
    with call(request, credentials) as c:
        rows = service.list_requests(
            session=c.session, on=now().date(), overdue=overdue, due_within=due_within
        )
        return [RequestOut.model_validate(r, from_attributes=True) for r in rows]


@router.get("/{request_id}", response_model=RequestOut)
def show_request(request_id: str, request: Request, credentials: Credentials) -> RequestOut:
    with call(request, credentials) as c:
        found = service.get(session=c.session, request_id=request_id)
        return RequestOut.model_validate(found, from_attributes=True)


@router.post("/{request_id}/extension", response_model=RequestOut)
def extend(
    request_id: str, body: Extension, request: Request, credentials: Credentials
) -> RequestOut:
    """Extend the deadline once by one or two months, with reasons (Art. 12(3)); the person is
    e-mailed the new date and the reasons when an address is on file."""
    with call(request, credentials, write=True) as c:
        extended, _emailed = flows.extend(
            session=c.session,
            keyring=c.keyring,
            rules=c.ctx.rules,
            actor=c.actor,
            request_id=request_id,
            months=body.months,
            reason=body.reason,
            at=now(),
        )
        return RequestOut.model_validate(extended, from_attributes=True)


@router.post("/{request_id}/verification", response_model=RequestOut)
def verify(request_id: str, body: CodeIn, request: Request, credentials: Credentials) -> RequestOut:
    """Check the one-time code the person received; 403 with the reason when it is wrong."""
    with call(request, credentials, write=True) as c:
        refused = flows.verify(
            session=c.session,
            keyring=c.keyring,
            rules=c.ctx.rules,
            actor=c.actor,
            request_id=request_id,
            code=body.code,
            id_checked_by=None,
            at=now(),
        )
        out = RequestOut.model_validate(
            service.get(session=c.session, request_id=request_id), from_attributes=True
        )
    if refused:  # the attempt is committed; now say no
        raise Denied(refused)
    return out


@router.post("/{request_id}/processing")
def process(request_id: str, request: Request, credentials: Credentials) -> dict:
    """Decide a verified request and carry it out: outcome, what was done, the reasons and
    whom to contact. A copy of the data is fetched with `GET /requests/{id}/copy`."""
    with call(request, credentials, write=True) as c:
        answer = flows.process(
            session=c.session,
            keyring=c.keyring,
            rules=c.ctx.rules,
            actor=c.actor,
            request_id=request_id,
            at=now(),
        )
    summary = answer.as_dict()
    if summary["copy"] is not None:  # personal data: only through the copy endpoint
        summary["copy"] = f"/requests/{request_id}/copy"
    return summary


@router.get("/{request_id}/copy")
def copy(
    request_id: str,
    request: Request,
    credentials: Credentials,
    format: Annotated[str, Query(description="json, csv or html.")] = "json",
) -> Response:
    """The answer to an access or portability request with its copy of the data, for the
    person (403 until their identity is verified)."""
    with call(request, credentials) as c:
        text = flows.export_copy(
            session=c.session,
            keyring=c.keyring,
            rules=c.ctx.rules,
            actor=c.actor,
            request_id=request_id,
            fmt=format,
            at=now(),
        )
    media = {"json": "application/json", "csv": "text/csv", "html": "text/html"}[format]
    return Response(text, media_type=f"{media}; charset=utf-8")
