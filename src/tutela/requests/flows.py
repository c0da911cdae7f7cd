"""Rights requests through every door: resolve the person, open, extend; each step audited."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Session

from tutela.access.gate import Actor
from tutela.audit import service as audit
from tutela.audit.service import Event
from tutela.crypto.keyring import Keyring
from tutela.errors import Conflict
from tutela.requests import service
from tutela.requests.models import RightsRequest
from tutela.subjects import service as subjects
from tutela.subjects.validation import RecordRules

__all__ = ["extend", "open_request"]


def _subject_of(
    session: Session,
    keyring: Keyring,
    rules: RecordRules,
    external_id: str | None,
    email: str | None,
) -> str | None:
    """The person a request is about, if Tutela holds data on them (else None: there is
    nothing to give but a confirmation that nothing is processed)."""
    if external_id is not None:
        subject = subjects.find(session=session, external_id=external_id)
        return subject.id if subject else None
    found = subjects.find_by_email(session=session, keyring=keyring, rules=rules, email=email)
    if len(found) > 1:
        raise Conflict("several people hold this e-mail address; give the external id")
    return found[0] if found else None


def open_request(
    *,
    session: Session,
    keyring: Keyring,
    rules: RecordRules,
    actor: Actor,
    type_: str,
    external_id: str | None,
    email: str | None,
    channel: str,
    received: date,
    at: datetime,
) -> RightsRequest:
    request = service.open_request(
        session=session,
        type_=type_,
        subject_id=_subject_of(session, keyring, rules, external_id, email),
        channel=channel,
        received=received,
        opened_by=actor.name,
        at=at,
    )
    audit.log(
        session,
        rules.policy,
        at,
        Event(
            actor.name,
            "open_request",
            "done",
            subject_id=request.subject_id,
            reason=f"{type_} request",
            detail={"request": request.id, "due_on": str(request.due_on)},
        ),
    )
    return request


def extend(
    *,
    session: Session,
    rules: RecordRules,
    actor: Actor,
    request_id: str,
    months: int,
    reason: str,
    at: datetime,
) -> RightsRequest:
    request = service.extend(
        session=session, request_id=request_id, months=months, reason=reason, on=at.date()
    )
    audit.log(
        session,
        rules.policy,
        at,
        Event(
            actor.name,
            "extend_request",
            "done",
            subject_id=request.subject_id,
            reason=f"deadline extended by {months} month(s)",
            detail={"request": request.id, "due_on": str(request.due_on)},
        ),
    )
    return request
