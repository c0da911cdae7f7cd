"""The OpenGDPR door (specification 0.1): access, portability and erasure requests from other
systems, into the same workflow and records as every other door.

The caller's `subject_request_id` (a UUID) becomes the request's id, so the request is the
same one in `tutela requests` and in the API. Statuses map as: open → pending, verified →
in_progress, answered or refused → completed, cancelled or unverified → cancelled. Every
response is signed with the processor key (`X-OpenGDPR-Signature`: RSA with SHA-256 over the
raw body, base64; `X-OpenGDPR-Processor-Domain`), the discovery names the URL of its
certificate, and every change of status calls each `status_callback_urls` entry, signed the
same way, through the outbox. Errors carry the specification's body
(`{"error": {"code", "message", "errors": [...]}}`), with 400 for bad input.
"""

from __future__ import annotations

import base64
import json
import uuid
from datetime import date, datetime
from typing import Annotated, Literal
from urllib.parse import urlsplit

import anyio.to_thread
import orjson
from fastapi import APIRouter, Path, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tutela.clock import now
from tutela.deps import KEYED, Caller, answers, call
from tutela.errors import InvalidInput, NotFound, TutelaError
from tutela.requests import intake, notices, permissions, service
from tutela.requests.models import RightsRequest
from tutela.wire import Moment, json_loads

__all__ = ["router"]

API_VERSION = "0.1"
TYPES = ("access", "portability", "erasure")
IDENTITIES = {"email": "email", "controller_customer_id": "external_id"}  # raw format only
CERTIFICATE_PATH = "/v1/processor_certificate.pem"

router = APIRouter(prefix="/v1", tags=["opengdpr"])


class _ErrorItem(BaseModel):
    domain: str
    reason: str
    message: str


class _ErrorDetail(BaseModel):
    code: int
    message: str
    errors: list[_ErrorItem]


class OpenGdprError(BaseModel):
    """OpenGDPR's error shape, signed like every answer of the door."""

    error: _ErrorDetail


def _inline(model: type[BaseModel]) -> dict:
    """The model's JSON schema with its definitions in place: the door reads its body itself
    (to answer in OpenGDPR's shape), so FastAPI does not document it."""
    schema = model.model_json_schema()
    definitions = schema.pop("$defs", {})

    def resolve(node):
        if isinstance(node, dict):
            if "$ref" in node:
                return resolve(definitions[node["$ref"].rsplit("/", 1)[-1]])
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    return resolve(schema)


def _answers(*codes: int) -> dict[int | str, dict]:
    """The door's refusals: its own errors in OpenGDPR's shape, the key's as every route's."""
    documented = answers(*(c for c in codes if c in KEYED))
    meanings = {
        400: "Not a valid OpenGDPR request.",
        404: "No such request of yours.",
        503: "No OpenGDPR signing key is configured.",
    }
    for code in codes:
        if code not in KEYED:
            documented[code] = {"model": OpenGdprError, "description": meanings[code]}
    return documented


RequestId = Annotated[
    str, Path(max_length=64, description="The subject_request_id given when submitting.")
]


class Identity(BaseModel):
    identity_type: str = Field(max_length=64)
    identity_value: str = Field(max_length=254)
    identity_format: str = Field(max_length=16)


class OpenGdprRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    subject_request_id: uuid.UUID
    subject_request_type: Literal["access", "portability", "erasure"]
    submitted_time: Moment
    subject_identities: list[Identity] = Field(min_length=1)
    api_version: str | None = Field(None, max_length=16)
    status_callback_urls: list[Annotated[str, Field(max_length=2048)]] = Field([], max_length=10)


def _signed(request: Request, code: int, content: dict, **headers: str) -> Response:
    """A JSON response signed with the processor key; 503 when none is configured."""
    signer = request.app.state.ctx.opengdpr_signer()
    body = orjson.dumps(content)
    if signer is None:
        unsigned = _error_body(503, "this service has no OpenGDPR signing key configured")
        return Response(orjson.dumps(unsigned), 503, media_type="application/json")
    headers = {
        **headers,
        "X-OpenGDPR-Processor-Domain": signer.domain,
        "X-OpenGDPR-Signature": signer.sign(body),
    }
    return Response(body, code, headers=headers, media_type="application/json")


def _error_body(code: int, message: str, reason: str = "IllegalArgumentException") -> dict:
    return {
        "error": {
            "code": code,
            "message": message,
            "errors": [{"domain": "Validation", "reason": reason, "message": message}],
        }
    }


def _error(request: Request, code: int, message: str) -> Response:
    return _signed(
        request,
        code,
        _error_body(code, message),
        **{"Cache-Control": "no-store", "Pragma": "no-cache"},
    )


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


def _callbacks(request: Request, urls: list[str]) -> list[str]:
    """The callback URLs, each http(s) and, when the settings name hosts, to one of them."""
    hosts = request.app.state.ctx.settings.opengdpr_callback_hosts
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidInput("status_callback_urls: expected http or https URLs")
        if hosts and parts.hostname not in hosts:
            raise InvalidInput("status_callback_urls: this service calls back only known hosts")
    return urls


def _found(c, subject_request_id: str) -> RightsRequest:
    try:
        request_id = uuid.UUID(subject_request_id).hex
    except ValueError:
        raise NotFound(f"no request {subject_request_id}") from None
    found = service.get(session=c.session, request_id=request_id)
    if found.channel != "opengdpr":
        raise NotFound(f"no request {subject_request_id}")
    permissions.require_own(c.ctx.policy, c.actor, found)
    return found


@router.post(
    "/opengdpr_requests",
    status_code=status.HTTP_201_CREATED,
    responses=_answers(*KEYED, 400, 503),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _inline(OpenGdprRequest)}},
        }
    },
)
async def submit(request: Request, caller: Caller) -> Response:
    """Submit an access, portability or erasure request (OpenGDPR 0.1). Nothing is disclosed
    or changed before the person's identity is verified: a code goes to the address on file."""
    raw = await request.body()
    try:
        body = OpenGdprRequest.model_validate(json_loads(raw))
    except json.JSONDecodeError as exc:
        return _error(request, 400, f"not valid JSON: {exc.msg}")
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(part) for part in problem["loc"])
        return _error(request, 400, f"{where}: {problem['msg']}" if where else problem["msg"])

    def open_it() -> tuple[date, datetime]:  # a write: in a thread, never on the loop
        external_id, email = _identity(body.subject_identities)
        urls = _callbacks(request, body.status_callback_urls)
        with call(request, caller, write=True) as c:
            received = now()
            opened = intake.open_request(
                **c.flow,
                type_=body.subject_request_type,
                external_id=external_id,
                email=email,
                channel="opengdpr",
                received=received.date(),
                at=received,
                request_id=body.subject_request_id.hex,
                callback_urls=urls,
            )
            return opened.due_on, received

    try:
        due_on, received = await anyio.to_thread.run_sync(open_it)
    except TutelaError as exc:
        return _error(request, 400 if exc.http_status in (409, 422) else exc.http_status, str(exc))
    return _signed(
        request,
        status.HTTP_201_CREATED,
        {
            "controller_id": _controller(request),
            "expected_completion_time": notices.end_of_day(due_on),
            "received_time": _stamp(received),
            "encoded_request": base64.b64encode(raw).decode(),
            "subject_request_id": str(body.subject_request_id),
        },
    )


def _controller(request: Request) -> str:
    return request.app.state.ctx.policy.controller.name


@router.get("/opengdpr_requests/{subject_request_id}", responses=_answers(*KEYED, 404, 503))
def status_of(subject_request_id: RequestId, request: Request, caller: Caller) -> Response:
    """Where a request stands: pending, in_progress, completed or cancelled."""
    try:
        with call(request, caller) as c:
            shown = notices.opengdpr_status(c.ctx.policy, _found(c, subject_request_id))
    except TutelaError as exc:
        return _error(request, exc.http_status, str(exc))
    return _signed(request, 200, {**shown, "subject_request_id": subject_request_id})


@router.delete(
    "/opengdpr_requests/{subject_request_id}",
    status_code=status.HTTP_202_ACCEPTED,
    responses=_answers(*KEYED, 400, 404, 503),
)
def cancel(subject_request_id: RequestId, request: Request, caller: Caller) -> Response:
    """Cancel a request still pending (its requester's identity not yet verified)."""
    try:
        with call(request, caller, write=True) as c:
            found = _found(c, subject_request_id)
            intake.cancel(
                **c.flow,
                request_id=found.id,
                at=now(),
                pending_only=True,  # the specification's cancellation (§9)
            )
    except TutelaError as exc:
        return _error(request, 400 if exc.http_status in (409, 422) else exc.http_status, str(exc))
    return _signed(
        request,
        status.HTTP_202_ACCEPTED,
        {
            "controller_id": _controller(request),
            "subject_request_id": subject_request_id,
            "received_time": _stamp(now()),
            "api_version": API_VERSION,
        },
    )


@router.get("/discovery", responses=_answers(503))
def discovery(request: Request) -> Response:
    """What this service supports, and where its certificate is (no key needed)."""
    url = request.app.state.ctx.settings.opengdpr_certificate_url
    return _signed(
        request,
        200,
        {
            "api_version": API_VERSION,
            "supported_identities": [
                {"identity_type": t, "identity_format": "raw"} for t in IDENTITIES
            ],
            "supported_subject_request_types": list(TYPES),
            "processor_certificate": url or str(request.base_url).rstrip("/") + CERTIFICATE_PATH,
        },
    )


@router.get(
    "/processor_certificate.pem",
    response_class=Response,
    responses={
        200: {"content": {"application/x-pem-file": {"schema": {"type": "string"}}}},
        **_answers(503),
    },
)
def certificate(request: Request) -> Response:
    """The X.509 certificate (PEM) whose key signs responses and callbacks (no key needed)."""
    signer = request.app.state.ctx.opengdpr_signer()
    if signer is None:
        return _error(request, 503, "this service has no OpenGDPR signing key configured")
    return Response(signer.certificate_pem, media_type="application/x-pem-file")


@router.get("/status", responses=_answers(503))
def service_status(request: Request) -> Response:
    """The service is up (the specification names this endpoint without defining its body)."""
    return _signed(
        request,
        200,
        {"api_version": API_VERSION, "controller_id": _controller(request), "status": "ok"},
    )
