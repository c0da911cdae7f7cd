"""The OpenGDPR door (specification 0.1): access, portability and erasure requests from other
systems, into the same workflow and records as every other door.

The caller's `subject_request_id` (a UUID) becomes the request's id, so the request is the
same one in `tutela requests` and in the API. Statuses map as: open → pending, verified →
in_progress, closed → completed, cancelled → cancelled. Errors carry the specification's
body (`{"error": {"code", "message", "errors": [...]}}`), with 400 for bad input.

Not built: response and callback signatures (they need a certificate from a trusted
authority) and status callbacks (`status_callback_urls` are accepted, not yet called).
"""

from __future__ import annotations

import base64
import uuid
from datetime import date, datetime
from typing import Annotated, Literal

import anyio.to_thread
from fastapi import APIRouter, Path, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tutela.clock import now
from tutela.deps import Credentials, call
from tutela.errors import InvalidInput, NotFound, TutelaError
from tutela.requests import flows, service
from tutela.requests.models import RightsRequest

__all__ = ["router"]

API_VERSION = "0.1"
TYPES = ("access", "portability", "erasure")
IDENTITIES = {"email": "email", "controller_customer_id": "external_id"}  # raw format only
STATUSES = {"open": "pending", "verified": "in_progress", "closed": "completed"}

router = APIRouter(prefix="/v1", tags=["opengdpr"])

RequestId = Annotated[str, Path(description="The subject_request_id given when submitting.")]


class Identity(BaseModel):
    identity_type: str
    identity_value: str = Field(max_length=254)
    identity_format: str


class OpenGdprRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    subject_request_id: uuid.UUID
    subject_request_type: Literal["access", "portability", "erasure"]
    submitted_time: datetime
    subject_identities: list[Identity] = Field(min_length=1)
    api_version: str | None = None
    status_callback_urls: list[str] = []


def _error(code: int, message: str, reason: str = "IllegalArgumentException") -> JSONResponse:
    return JSONResponse(
        status_code=code,
        content={
            "error": {
                "code": code,
                "message": message,
                "errors": [{"domain": "Validation", "reason": reason, "message": message}],
            }
        },
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )


def _time(day: date) -> str:
    """The end of a due day, as RFC 3339."""
    return f"{day.isoformat()}T23:59:59Z"


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _identity(identities: list[Identity]) -> tuple[str | None, str | None]:
    """(external id, e-mail) from the first identity Tutela can resolve."""
    for identity in identities:
        field = IDENTITIES.get(identity.identity_type)
        if field and identity.identity_format == "raw":
            value = identity.identity_value
            return (value, None) if field == "external_id" else (None, value)
    supported = ", ".join(f"{t} (raw)" for t in IDENTITIES)
    raise InvalidInput(f"no supported identity; this service resolves: {supported}")


def _controller(request: Request) -> str:
    return request.app.state.ctx.policy.controller.name


def _found(c, subject_request_id: str) -> RightsRequest:
    try:
        request_id = uuid.UUID(subject_request_id).hex
    except ValueError:
        raise NotFound(f"no request {subject_request_id}") from None
    found = service.get(session=c.session, request_id=request_id)
    if found.channel != "opengdpr":
        raise NotFound(f"no request {subject_request_id}")
    return found


@router.post("/opengdpr_requests", status_code=status.HTTP_201_CREATED)
async def submit(request: Request, credentials: Credentials) -> JSONResponse:
    """Submit an access, portability or erasure request (OpenGDPR 0.1). Nothing is disclosed
    or changed before the person's identity is verified: a code goes to the address on file."""
    raw = await request.body()
    try:
        body = OpenGdprRequest.model_validate_json(raw)
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(part) for part in problem["loc"])
        return _error(400, f"{where}: {problem['msg']}" if where else problem["msg"])

    def open_it() -> tuple[date, datetime]:  # a write: in a thread, never on the loop
        external_id, email = _identity(body.subject_identities)
        with call(request, credentials, write=True) as c:
            received = now()
            opened = flows.open_request(
                session=c.session,
                keyring=c.keyring,
                rules=c.ctx.rules,
                actor=c.actor,
                type_=body.subject_request_type,
                external_id=external_id,
                email=email,
                channel="opengdpr",
                received=received.date(),
                at=received,
                request_id=body.subject_request_id.hex,
            )
            return opened.due_on, received

    try:
        due_on, received = await anyio.to_thread.run_sync(open_it)
    except TutelaError as exc:
        return _error(400 if exc.http_status in (409, 422) else exc.http_status, str(exc))
    return JSONResponse(
        status_code=status.HTTP_201_CREATED,
        content={
            "controller_id": _controller(request),
            "expected_completion_time": _time(due_on),
            "received_time": _stamp(received),
            "encoded_request": base64.b64encode(raw).decode(),
            "subject_request_id": str(body.subject_request_id),
        },
    )


@router.get("/opengdpr_requests/{subject_request_id}")
def status_of(
    subject_request_id: RequestId, request: Request, credentials: Credentials
) -> JSONResponse:
    """Where a request stands: pending, in_progress, completed or cancelled."""
    try:
        with call(request, credentials) as c:
            found = _found(c, subject_request_id)
            state, due_on = found.status, found.due_on
    except TutelaError as exc:
        return _error(exc.http_status, str(exc))
    return JSONResponse(
        {
            "controller_id": _controller(request),
            "expected_completion_time": _time(due_on),
            "subject_request_id": subject_request_id,
            "request_status": STATUSES.get(state, state),
            "api_version": API_VERSION,
        }
    )


@router.delete("/opengdpr_requests/{subject_request_id}", status_code=status.HTTP_202_ACCEPTED)
def cancel(
    subject_request_id: RequestId, request: Request, credentials: Credentials
) -> JSONResponse:
    """Cancel a request still pending (its requester's identity not yet verified)."""
    try:
        with call(request, credentials, write=True) as c:
            found = _found(c, subject_request_id)
            flows.cancel(
                session=c.session, rules=c.ctx.rules, actor=c.actor, request=found, at=now()
            )
    except TutelaError as exc:
        return _error(400 if exc.http_status == 409 else exc.http_status, str(exc))
    return JSONResponse(
        status_code=status.HTTP_202_ACCEPTED,
        content={
            "controller_id": _controller(request),
            "subject_request_id": subject_request_id,
            "received_time": _stamp(now()),
            "api_version": API_VERSION,
        },
    )


@router.get("/discovery")
def discovery(request: Request) -> dict:
    """What this service supports (no key needed)."""
    return {
        "api_version": API_VERSION,
        "supported_identities": [
            {"identity_type": t, "identity_format": "raw"} for t in IDENTITIES
        ],
        "supported_subject_request_types": list(TYPES),
        "processor_certificate": request.app.state.ctx.settings.opengdpr_certificate_url,
    }


@router.get("/status")
def service_status(request: Request) -> dict:
    """The service is up (the specification names this endpoint without defining its body)."""
    return {
        "api_version": API_VERSION,
        "controller_id": _controller(request),
        "status": "ok",
    }
