"""Opening, extending and listing rights requests."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

from sqlalchemy import and_, not_, or_, select
from sqlalchemy.orm import Session

from tutela.db import utc_naive
from tutela.errors import Conflict, InvalidInput, NotFound
from tutela.policy.sections import RepeatedRequests
from tutela.requests.deadlines import due_on, extended_due_on
from tutela.requests.models import ENDED, RequestStatus, RightsRequest

__all__ = ["CHANNELS", "ONLINE", "TYPES", "extend", "get", "list_requests", "open_request"]

# The rights of §10-16, and the doors a request comes through.
TYPES = (
    "confirmation",
    "access",
    "rectification",
    "erasure",
    "restriction",
    "lift_restriction",
    "portability",
    "objection",
    "consent_withdrawal",
    "post_mortem",
)
CHANNELS = ("api", "post", "email", "opengdpr", "portal")
ONLINE = ("api", "email", "opengdpr", "portal")  # where a one-time code proves the requester
REASON_LIMIT = 1000  # characters of an extension's reasons: the column's size


def open_request(
    *,
    session: Session,
    type_: str,
    subject_id: str | None,
    external_id: str | None,
    channel: str,
    received: date,
    opened_by: str,
    repeated: RepeatedRequests,
    at: datetime,
    request_id: str | None = None,
) -> RightsRequest:
    """A new request, due one calendar month after receipt. `request_id` is the caller's
    (a UUID's hex, from the OpenGDPR door); one already used is a conflict."""
    if type_ not in TYPES:
        raise InvalidInput(
            f"unknown request type; expected one of: {', '.join(TYPES)}", location="type"
        )
    if channel not in CHANNELS:
        raise InvalidInput(
            f"unknown channel; expected one of: {', '.join(CHANNELS)}", location="channel"
        )
    if received > at.date():
        raise InvalidInput("a request cannot be received in the future", location="received")
    if request_id is not None and session.get(RightsRequest, request_id) is not None:
        raise Conflict(f"request {request_id} was already received")
    request = RightsRequest(
        id=request_id or uuid.uuid4().hex,
        type=type_,
        channel=channel,
        subject_id=subject_id,
        external_id=external_id,
        received_on=received,
        due_on=due_on(received),
        extended_months=0,
        status=RequestStatus.OPEN,
        flag=subject_id and _repeated(session, subject_id, type_, received, repeated),
        created_at=utc_naive(at),
        opened_by=opened_by,
    )
    session.add(request)
    session.flush()
    return request


def _repeated(
    session: Session, subject_id: str, type_: str, received: date, rule: RepeatedRequests
) -> str | None:
    """Why the DPO should look at this request, when the person's earlier requests of its
    type in the policy's window are more than it allows; None otherwise. A request nobody
    proved to be the person's (closed unverified, or still awaiting its code online: anyone
    may type an address) is not counted against them."""
    never_proved = or_(
        RightsRequest.status == RequestStatus.UNVERIFIED,
        and_(RightsRequest.status == RequestStatus.OPEN, RightsRequest.channel.in_(ONLINE)),
    )
    earlier = session.scalars(
        select(RightsRequest.received_on)
        .where(
            RightsRequest.subject_id == subject_id,
            RightsRequest.type == type_,
            RightsRequest.received_on > received - timedelta(days=rule.within_days),
            RightsRequest.received_on <= received,
            not_(never_proved),
        )
        .order_by(RightsRequest.received_on)
    ).all()
    if len(earlier) <= rule.more_than:
        return None
    return (  # the count and the span, not every date: the flag stays short however many
        f"{len(earlier) + 1} {type_} requests within {rule.within_days} days (earlier: "
        f"{len(earlier)}, from {earlier[0]} to {earlier[-1]}); §10: a right may not be used "
        "on a regular basis only to disrupt. For the DPO to judge: the request is not refused "
        "for this."
    )


def get(*, session: Session, request_id: str, for_update: bool = False) -> RightsRequest:
    """A request; `for_update` locks its row until the transaction ends (PostgreSQL; on
    SQLite the writer lock already serialises), so that two steps never both act on it."""
    request = session.get(RightsRequest, request_id, with_for_update=for_update or None)
    if request is None:
        raise NotFound(f"no request {request_id}")
    return request


def extend(
    *, session: Session, request_id: str, months: int, reason: str, on: date
) -> RightsRequest:
    """Extend the deadline once (Art. 12(3)); the reason is kept and told to the person."""
    if not reason.strip():
        raise InvalidInput("an extension needs its reasons", location="reason")
    if len(reason.strip()) > REASON_LIMIT:
        raise InvalidInput(f"at most {REASON_LIMIT} characters", location="reason")
    request = get(session=session, request_id=request_id, for_update=True)
    if request.ended:
        raise Conflict(f"the request is {request.status}: there is no deadline to extend")
    request.due_on = extended_due_on(
        request.received_on,
        already_extended=request.extended_months,
        months=months,
        decided_on=on,
    )
    request.extended_months = months
    request.extension_reason = reason.strip()
    return request


def list_requests(
    *,
    session: Session,
    on: date,
    status: RequestStatus | None = None,
    overdue: bool = False,
    due_within: int | None = None,
    opened_by: str | None = None,
    type_: str | None = None,
    external_id: str | None = None,
) -> list[RightsRequest]:
    """Requests of one status, or all those still in progress, soonest due first; only
    those `opened_by` opened when given (a door sees its own), of one type, or about one
    person (by external id)."""
    query = select(RightsRequest).order_by(RightsRequest.due_on, RightsRequest.received_on)
    if status is None:
        query = query.where(RightsRequest.status.not_in(ENDED))
    else:
        query = query.where(RightsRequest.status == status)
    if opened_by is not None:
        query = query.where(RightsRequest.opened_by == opened_by)
    if type_ is not None:
        query = query.where(RightsRequest.type == type_)
    if external_id is not None:
        query = query.where(RightsRequest.external_id == external_id)
    if overdue:
        query = query.where(RightsRequest.due_on < on)
    if due_within is not None:
        query = query.where(RightsRequest.due_on <= on + timedelta(days=due_within))
    return list(session.scalars(query))
