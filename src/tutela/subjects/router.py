"""REST endpoints for subjects: create, update, read for a purpose, list."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from tutela.clock import now
from tutela.deps import CurrentActor, DbSession, Keys, TutelaContext, WriteSession
from tutela.errors import Conflict, InvalidInput
from tutela.subjects import service
from tutela.subjects.flows import read_for_purpose, write_records
from tutela.subjects.schemas import SubjectPage, SubjectRecord, SubjectView, WriteSummary
from tutela.subjects.validation import validate_record

router = APIRouter(prefix="/subjects", tags=["subjects"])

ExternalId = Annotated[str, Path(max_length=128, description="The subject's id in your systems.")]


def _save(ctx, session, keys, actor, record: SubjectRecord) -> WriteSummary:
    (w,) = write_records(
        session=session,
        keyring=keys,
        rules=ctx.rules,
        actor=actor,
        records=[validate_record(record, ctx.rules)],
        at=now(),
    )
    return WriteSummary(id=w.id, external_id=w.external_id, created=w.created)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=WriteSummary)
def create_subject(
    record: SubjectRecord,
    ctx: TutelaContext,
    session: WriteSession,
    keys: Keys,
    actor: CurrentActor,
) -> WriteSummary:
    """Create a subject. 409 if the external id exists: use PUT to update it."""
    if service.find(session=session, external_id=record.external_id) is not None:
        raise Conflict(f"subject '{record.external_id}' exists; use PUT to update it")
    return _save(ctx, session, keys, actor, record)


@router.put("/{external_id}", response_model=WriteSummary)
def put_subject(
    external_id: ExternalId,
    record: SubjectRecord,
    response: Response,
    ctx: TutelaContext,
    session: WriteSession,
    keys: Keys,
    actor: CurrentActor,
) -> WriteSummary:
    """Create or update a subject. Fields given replace the stored ones; null removes one."""
    if record.external_id != external_id:
        raise InvalidInput("must equal the external id in the path", location="external_id")
    summary = _save(ctx, session, keys, actor, record)
    if summary.created:
        response.status_code = status.HTTP_201_CREATED
    return summary


@router.get("/{external_id}", response_model=SubjectView)
def read_subject(
    external_id: ExternalId,
    purpose: Annotated[str, Query(description="Why you read: a purpose id of the policy.")],
    ctx: TutelaContext,
    session: DbSession,
    keys: Keys,
    actor: CurrentActor,
    category: Annotated[list[str] | None, Query(description="Only these categories.")] = None,
) -> SubjectView:
    """What the caller's roles may see of the subject for the declared purpose."""
    return read_for_purpose(
        session=session,
        keyring=keys,
        policy=ctx.policy,
        external_id=external_id,
        purpose=purpose,
        actor=actor,
        categories=category,
        at=now(),
    )


@router.get("", response_model=SubjectPage)
def list_subjects(
    session: DbSession,
    _actor: CurrentActor,
    kind: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> SubjectPage:
    """Subjects without personal values, in external id order."""
    return SubjectPage(
        total=service.count(session=session, kind=kind),
        subjects=service.list_summaries(session=session, kind=kind, limit=limit, offset=offset),
    )
