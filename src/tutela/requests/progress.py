"""Where a request stands, for a page to show: the steps it went through, from what the
request and its identity check keep (as `requests show` reads them), and the steps it may take
next for a given principal. A page formats these; it never works them out itself."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from tutela.access.gate import Actor
from tutela.policy.schema import Policy
from tutela.requests import export, permissions
from tutela.requests.deadlines import due_on
from tutela.requests.models import RequestStatus, RightsRequest
from tutela.requests.verification import Verification

__all__ = ["history", "offered"]


def history(*, session: Session, request: RightsRequest) -> list[dict[str, Any]]:
    """The request's steps in order: received, opened (by whom, through which door),
    identity verified (how, and who checked the ID document), deadline extended (by how many
    months, why), and how it ended. No personal value: the person is named by external id
    elsewhere on the page, and what staff wrote is theirs."""
    steps: list[dict[str, Any]] = [
        {"step": "received", "at": request.received_on, "by": None, "detail": request.channel},
        {"step": "opened", "at": request.created_at, "by": request.opened_by, "detail": None},
    ]
    checked = session.get(Verification, request.id)
    if checked is not None and checked.verified_at is not None:
        steps.append(
            {
                "step": "verified",
                "at": checked.verified_at,
                "by": checked.verified_by,
                "detail": checked.method,
            }
        )
    if request.extended_months:
        steps.append(
            {
                "step": "extended",
                "at": None,  # the trail has its time (`extend_request`)
                "by": None,
                "detail": request.extension_reason,
                "months": request.extended_months,
                "due_on": request.due_on,
            }
        )
    if request.ended:
        steps.append(
            {
                "step": request.status,
                "at": request.answered_at,
                "by": None,
                "detail": (request.answer or {}).get("outcome"),
            }
        )
    return steps


def offered(policy: Policy, actor: Actor, request: RightsRequest, *, on: date) -> frozenset[str]:
    """What the principal may do with the request now, as the flows would allow it: verify
    an open one, extend once before the first deadline passes, refuse or process one not
    ended, and download its letter, copy or erasure receipt once there is one."""
    if not permissions.steers(policy, actor):
        return frozenset()
    can = set()
    if not request.ended:
        can.add("refuse")
        if request.status == RequestStatus.OPEN:
            can.add("verify")
        if request.status == RequestStatus.VERIFIED:
            can.add("process")
        if not request.extended_months and on <= due_on(request.received_on):
            can.add("extend")
    if request.answer is not None:
        can.add("letter")
    if request.type in export.EXPORTABLE and request.status == RequestStatus.ANSWERED:
        can.add("copy")
    if request.receipt_id:
        can.add("receipt")
    return frozenset(can)
