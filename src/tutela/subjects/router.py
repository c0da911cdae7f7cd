"""REST endpoints for subjects: create, update, read for a purpose, list."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response, status

from tutela.clock import now
from tutela.deps import KEYED, Call, Caller, answers, call, on_loop_if_embedded, read_call
from tutela.edges import StrictJsonRoute
from tutela.errors import Conflict, InvalidInput
from tutela.subjects import service
from tutela.subjects.flows import read_for_purpose, write_records
from tutela.subjects.listing import list_people
from tutela.subjects.schemas import SubjectPage, SubjectRecord, SubjectView, WriteSummary
from tutela.subjects.validation import validate_record

router = APIRouter(
    route_class=StrictJsonRoute,
    prefix="/subjects",
    tags=["subjects"],
    responses=answers(*KEYED, 404, 409),
)

MAX_OFFSET = 2**31 - 1  # an offset past any store, and within every engine's integers
ExternalId = Annotated[str, Path(max_length=128, description="The subject's id in your systems.")]


def _save(c: Call, record: SubjectRecord) -> WriteSummary:
    (w,) = write_records(
        session=c.session,
        keyring=c.keyring,
        rules=c.ctx.rules,
        actor=c.actor,
        records=[validate_record(record, c.ctx.rules)],
        at=now(),
    )
    return WriteSummary(id=w.id, external_id=w.external_id, created=w.created)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=WriteSummary)
def create_subject(record: SubjectRecord, request: Request, caller: Caller) -> WriteSummary:
    """Create a subject. 409 if the external id exists: use PUT to update it."""
    with call(request, caller, write=True) as c:
        if service.find(session=c.session, external_id=record.external_id) is not None:
            raise Conflict(f"subject '{record.external_id}' exists; use PUT to update it")
        return _save(c, record)


@router.put("/{external_id}", response_model=WriteSummary)
def put_subject(
    external_id: ExternalId,
    record: SubjectRecord,
    response: Response,
    request: Request,
    caller: Caller,
) -> WriteSummary:
    """Create or update a subject. Fields given replace the stored ones; null removes one."""
    if record.external_id != external_id:
        raise InvalidInput("must equal the external id in the path", location="external_id")
    with call(request, caller, write=True) as c:
        summary = _save(c, record)
    if summary.created:
        response.status_code = status.HTTP_201_CREATED
    return summary


@router.get("/{external_id}", response_model=SubjectView)
async def read_subject(
    external_id: ExternalId,
    purpose: Annotated[
        str, Query(max_length=64, description="Why you read: a purpose id of the policy.")
    ],
    request: Request,
    caller: Caller,
    category: Annotated[
        list[Annotated[str, Query(max_length=64)]] | None,
        Query(max_length=50, description="Only these categories."),
    ] = None,
) -> Response:
    """What the caller's roles may see of the subject for the declared purpose."""

    def read() -> Response:
        with read_call(request, caller) as c:
            view = read_for_purpose(
                session=c.connected,
                keyring=c.keyring,
                policy=c.ctx.policy,
                actor=c.actor,
                external_id=external_id,
                purpose=purpose,
                categories=category,
                at=now(),
            )
        # Already a validated SubjectView: serialise it once, without FastAPI validating it.
        return Response(view.model_dump_json(), media_type="application/json")

    return await on_loop_if_embedded(request, read)


@router.get("", response_model=SubjectPage)
def list_subjects(
    request: Request,
    caller: Caller,
    kind: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> SubjectPage:
    """The people of the kinds your roles may read for some purpose, in external id order,
    without personal values; lifecycle dates only for roles that oversee. Audited."""
    with call(request, caller) as c:
        return list_people(
            session=c.session,
            policy=c.ctx.policy,
            actor=c.actor,
            kind=kind,
            limit=limit,
            offset=offset,
            at=now(),
        )
