"""What every step of a request shares: its audit event, and the change of its status (which
tells the OpenGDPR client, and drops what the request kept sealed once it ends)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from tutela.access.gate import Actor
from tutela.audit.service import Event
from tutela.crypto.keyring import Keyring
from tutela.policy.schema import Policy
from tutela.requests import notices
from tutela.requests.models import ENDED, RequestStatus, RightsRequest

__all__ = ["event", "move"]


def event(
    actor: Actor,
    request: RightsRequest,
    action: str,
    *,
    outcome: str = "done",
    reason: str = "",
    **detail: object,
) -> Event:
    """The audit event of a step of a request: it names the request and the person."""
    return Event(
        actor.name,
        action,
        outcome,
        subject_id=request.subject_id,
        reason=reason,
        detail={"request": request.id, **detail},
    )


def move(
    session: Session,
    keyring: Keyring,
    policy: Policy,
    request: RightsRequest,
    status: RequestStatus,
    at: datetime,
) -> None:
    """Give the request its new status; the systems that asked are told (OpenGDPR), and an
    ended request keeps nothing sealed (values asked for, the address to answer)."""
    if request.status == status:
        return
    request.status = status
    notices.queue_callbacks(session, keyring, policy, request, at)
    if status in ENDED:
        request.particulars = None
        request.contact = None
