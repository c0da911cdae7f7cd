"""REST endpoints of §8: any principal reports improper access; the DPO lists the reports."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, status

from tutela.access import flows, oversight
from tutela.access.schemas import AccessReportIn, AccessReportOut, Filed
from tutela.clock import now
from tutela.deps import KEYED, Caller, answers, call
from tutela.edges import StrictJsonRoute
from tutela.errors import Denied
from tutela.subjects import service as subjects

router = APIRouter(
    route_class=StrictJsonRoute,
    prefix="/access-reports",
    tags=["access"],
    responses=answers(*KEYED, 404),
)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=Filed)
def report_access(body: AccessReportIn, request: Request, caller: Caller) -> Filed:
    """Report access you believe you should not have; the DPO is told (§8)."""
    with call(request, caller, write=True) as c:
        subject_id = (
            subjects.get(session=c.session, external_id=body.subject_external_id).id
            if body.subject_external_id
            else None
        )
        report = flows.report_access(
            session=c.session,
            policy=c.ctx.policy,
            keyring=c.keyring,
            actor=c.actor,
            subject_id=subject_id,
            categories=body.categories,
            description=body.description,
            at=now(),
        )
        return Filed(id=report.id, status=report.status)


@router.get("", response_model=list[AccessReportOut])
def list_reports(
    request: Request,
    caller: Caller,
    status: Annotated[str | None, Query(max_length=16)] = None,
) -> list[dict]:
    """The reports, for a principal whose role has oversight (the DPO)."""
    with call(request, caller) as c:
        if not c.ctx.policy.has_oversight(c.actor.roles):
            raise Denied("only a role with oversight (the DPO) may read access reports")
        return oversight.list_reports(session=c.session, keyring=c.keyring, status=status)
