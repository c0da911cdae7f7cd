"""What an ended request gives back: the copy of its data (made at export, once per export,
audited before anything is decrypted), its letter, its erasure receipt."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from tutela.access.gate import Actor
from tutela.audit import service as audit
from tutela.crypto.keyring import Keyring
from tutela.errors import Conflict, Denied, InvalidInput
from tutela.requests import export, permissions, service, verification
from tutela.requests.copy import copy_for
from tutela.requests.facts import decided
from tutela.requests.models import RequestStatus, RightsRequest
from tutela.requests.steps import event
from tutela.subjects import receipts
from tutela.subjects.validation import RecordRules

__all__ = ["copy_page", "export_copy", "gives_letter", "letter", "receipt"]


def copy_page(session, keyring, policy, actor, request, fmt, at, apart=True) -> str | bytes:
    """The answer with its copy, made now and once: the export is audited before anything is
    decrypted, and committed first when the copy leaves by another way than this transaction."""
    exported = event(actor, request, "export", reason=f"copy of a {request.type} answer, as {fmt}")
    (audit.log_apart if apart else audit.log)(session, policy, at, exported)
    copy = copy_for(
        session=session,
        keyring=keyring,
        policy=policy,
        actor=actor,
        request=request,
        given=_given(session, keyring, policy, actor, request, at),
        at=at,
        apart=apart,
    )
    return export.render(
        policy=policy, request=request, copy=copy, receipt=None, fmt=fmt, answered=at.date()
    )


def _given(session, keyring, policy, actor, request, at) -> dict[str, list[str]]:
    """What the answer gives, by category (its fields, for portability). A request answered
    before answers kept their decision is decided again from what is held now."""
    items = (request.answer or {}).get("items")
    if items is None:
        _, decision = decided(
            session=session, keyring=keyring, policy=policy, actor=actor, request=request, at=at
        )
        items = [item.as_dict() for item in decision.items]
    return {i["category"]: i["fields"] for i in items if i["action"] == "give"}


def export_copy(
    *,
    session: Session,
    keyring: Keyring,
    rules: RecordRules,
    actor: Actor,
    request_id: str,
    fmt: str,
    at: datetime,
) -> str | bytes:
    """The answer to an access or portability request with its copy of the data, for the
    person, once the request is answered."""
    if actor != permissions.requester(request_id):  # refused before anything is looked up
        permissions.require_steering(rules.policy, actor)
    export.check_format(fmt, export.COPY_FORMATS)
    request = service.get(session=session, request_id=request_id)
    permissions.require_steering_or_requester(rules.policy, actor, request)
    if request.type not in export.EXPORTABLE:
        raise InvalidInput(f"a {request.type} request has no copy to export", location="id")
    if request.status in (RequestStatus.OPEN, RequestStatus.VERIFIED):
        why = (
            "the requester's identity is not verified"
            if request.status == RequestStatus.OPEN
            else "the request is not answered yet"
        )
        raise Denied(f"{why}: nothing is disclosed")
    if request.status != RequestStatus.ANSWERED:
        raise Conflict(f"the request is {request.status}: it gives no copy")
    return copy_page(session, keyring, rules.policy, actor, request, fmt, at)


def gives_letter(*, session: Session, actor: Actor, request: RightsRequest) -> bool:
    """Whether `letter` gives `actor` the request's answer: once it has one; to the person
    who made it on the portal, only once their identity was verified (a request closed
    unverified, or refused before, names a customer id nobody proved to hold)."""
    if request.answer is None:
        return False
    if actor == permissions.requester(request.id):
        return verification.verified(session=session, request_id=request.id)
    return True


def letter(
    *,
    session: Session,
    keyring: Keyring,
    rules: RecordRules,
    actor: Actor,
    request_id: str,
    fmt: str,
    at: datetime,
) -> str | bytes:
    """The answer of an ended request as a letter to print and post (HTML or PDF), with the
    copy for an answered access or portability request; for staff, or for the person who
    made it on the portal (their own answer). Audited as the copy is."""
    if actor != permissions.requester(request_id):  # refused before anything is looked up
        permissions.require_steering(rules.policy, actor)
    export.check_format(fmt, export.LETTER_FORMATS)
    request = service.get(session=session, request_id=request_id)
    permissions.require_steering_or_requester(rules.policy, actor, request)
    if request.answer is None:
        raise Conflict(f"the request is {request.status}: it has no answer yet")
    if not gives_letter(session=session, actor=actor, request=request):
        raise Denied("the requester's identity is not verified: nothing is disclosed")
    if request.type in export.EXPORTABLE and request.status == RequestStatus.ANSWERED:
        return copy_page(session, keyring, rules.policy, actor, request, fmt, at)
    given = event(actor, request, "export", reason=f"letter of a {request.type} answer, as {fmt}")
    audit.log(session, rules.policy, at, given)
    shown = (
        receipt(session=session, policy=rules.policy, actor=actor, request_id=request.id)
        if request.receipt_id
        else None
    )
    return export.render(
        policy=rules.policy, request=request, copy=None, receipt=shown, fmt=fmt, answered=at.date()
    )


def receipt(*, session: Session, policy, actor: Actor, request_id: str) -> dict[str, Any]:
    """The erasure receipt of a request, with its digest and the trail events it names; an
    erasure a legal hold suspended and its lifting carried out comes after, as `then`."""
    permissions.require_steering(policy, actor)
    service.get(session=session, request_id=request_id)
    first, *later = receipts.of_request(session=session, request_id=request_id)
    return {**receipts.shown(session, first), "then": [receipts.shown(session, r) for r in later]}
