"""Requests through every door, up to the decision: open, verify, extend, cancel, and close
those whose requester never proved their identity. Each step is audited."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from tutela.access.gate import Actor
from tutela.audit import service as audit
from tutela.crypto.keyring import Keyring
from tutela.db import utc_naive
from tutela.errors import Conflict, Denied, InvalidInput
from tutela.requests import notices, permissions, service, verification
from tutela.requests.facts import seal_particulars
from tutela.requests.models import RequestStatus, RightsRequest
from tutela.requests.steps import event, move
from tutela.subjects import service as subjects
from tutela.subjects.validation import RecordRules
from tutela.subjects.values import ValueProblem, check_value

__all__ = [
    "DIRECTIVES",
    "SHARED_ADDRESS",
    "cancel",
    "close_unverified",
    "extend",
    "open_by_address",
    "open_request",
    "verify",
]

DIRECTIVES = ("keep", "erase", "communicate", "revoke")  # §16
SHARED_ADDRESS = (
    "several people hold the address this request came from: staff find out who made it, "
    "then open it again for that person by external id (and cancel this one)"
)


def _subject_of(
    session: Session,
    keyring: Keyring,
    rules: RecordRules,
    external_id: str | None,
    email: str | None,
):
    """The person a request is about, if Tutela holds data on them (else None: there is
    nothing to give but a confirmation that nothing is processed)."""
    if external_id is not None:
        return subjects.find(session=session, external_id=external_id)
    if email is None:  # named by neither: nobody is found
        return None
    found = subjects.find_by_email(session=session, keyring=keyring, rules=rules, email=email)
    if len(found) > 1:
        raise Conflict("several people hold this e-mail address; give the external id")
    return subjects.get_by_id(session=session, subject_id=found[0]) if found else None


def _particulars(rules: RecordRules, type_: str, asked: dict) -> dict:
    """What the request asks beyond its type, checked: a rectification's values, a
    post-mortem directive, the scopes of an objection."""
    policy = rules.policy
    if type_ == "post_mortem":
        directive = asked.get("directive")
        if directive not in DIRECTIVES:
            raise InvalidInput(f"expected one of: {', '.join(DIRECTIVES)}", location="directive")
        if directive == "communicate":
            try:
                check_value("email", asked.get("designate"))
            except ValueProblem:
                raise InvalidInput(
                    "communicating the data needs the e-mail of the person designated",
                    location="designate",
                ) from None
        return {k: asked[k] for k in ("directive", "designate") if asked.get(k)}
    if (type_ == "rectification") != bool(asked.get("changes")):
        raise InvalidInput(
            "a rectification request gives the values to correct, and only it does",
            location="changes",
        )
    if type_ == "rectification":
        for key in asked["changes"]:
            category_id, _, field_id = key.partition(".")
            category = policy.category(category_id)
            if category is None or category.field(field_id) is None:
                raise InvalidInput(
                    "expected CATEGORY.FIELD keys naming fields of the policy", location="changes"
                )
        return {"changes": dict(asked["changes"])}
    scopes = asked.get("scopes") or []
    if scopes and type_ != "objection":
        raise InvalidInput("only an objection names scopes", location="scopes")
    for scope in scopes:
        if policy.objection(scope) is None:
            known = ", ".join(o.id for o in policy.objections)
            raise InvalidInput(
                f"unknown objection scope; expected one of: {known}", location="scopes"
            )
    return {"scopes": sorted(set(scopes))} if scopes else {}


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
    request_id: str | None = None,
    particulars: dict | None = None,
    callback_urls: list[str] | None = None,
    answer_to: str | None = None,
) -> RightsRequest:
    """Open a request through any door. `particulars` holds what the request asks beyond
    its type: `changes` `{"category.field": value}` for a rectification; `directive` (keep,
    erase, communicate or revoke) and `designate` (who receives the data) for a post-mortem
    request; `scopes` for an objection (default: every scope). They are kept sealed until
    the request ends. A door (an application, an OpenGDPR client) opens online only.
    `answer_to` is where the answer goes when it is not the person (the one a post-mortem
    directive designates): sealed too."""
    policy = rules.policy
    permissions.require_door_or_steering(policy, actor)
    if not permissions.steers(policy, actor) and channel not in service.ONLINE:
        raise Denied("a door opens requests online only: staff open letters")
    asked = _particulars(rules, type_, particulars or {})
    subject = _subject_of(session, keyring, rules, external_id, email)
    request = service.open_request(
        session=session,
        type_=type_,
        subject_id=subject.id if subject else None,
        external_id=subject.external_id if subject else None,
        channel=channel,
        received=received,
        opened_by=actor.name,
        repeated=policy.rights_requests.repeated,
        at=at,
        request_id=request_id,
    )
    if asked:
        request.particulars = seal_particulars(keyring, request.id, asked)
    contact = answer_to or (email if subject is None else None)  # nothing held: tell them so
    if contact is not None:
        request.contact = keyring.seal_note(contact, label=notices.contact_label(request.id))
    request.callback_urls = callback_urls or None
    sent_code = (
        bool(subject)
        and channel in service.ONLINE
        and (notices.send_code(session, keyring, rules, request, at))
    )
    audit.log(
        session,
        policy,
        at,
        event(
            actor,
            request,
            "open_request",
            reason=f"{type_} request",
            due_on=str(request.due_on),
            code_sent=sent_code,
            flagged=request.flag is not None,
        ),
    )
    return request


def open_by_address(
    *,
    session: Session,
    keyring: Keyring,
    rules: RecordRules,
    actor: Actor,
    type_: str,
    email: str,
    received: date,
    at: datetime,
    particulars: dict | None = None,
) -> RightsRequest:
    """A request made online by someone who gives only their e-mail address (the portal):
    the same work and the same answer whoever holds the address, so that nobody learns
    whether it is known. A code goes to the address in every case; an address several
    people hold opens a request for nobody, answered by staff at that address, and its code
    verifies nothing. A malformed address or particulars raise `InvalidInput`."""
    asked = {
        "session": session,
        "keyring": keyring,
        "rules": rules,
        "actor": actor,
        "type_": type_,
        "external_id": None,
        "channel": "portal",
        "received": received,
        "at": at,
        "particulars": particulars,
    }
    try:
        request = open_request(**asked, email=email)
    except Conflict:  # several people hold it: nobody is named, nothing can be proved
        request = open_request(**asked, email=None, answer_to=email)
        request.flag = SHARED_ADDRESS
        notices.send_code_to(session, keyring, rules.policy, request, email, at, proves=False)
        return request
    if request.subject_id is None:  # nobody holds it: the answer will say so, once proved
        notices.send_code_to(session, keyring, rules.policy, request, email, at, proves=True)
    return request


def verify(
    *,
    session: Session,
    keyring: Keyring,
    rules: RecordRules,
    actor: Actor,
    request_id: str,
    code: str | None,
    id_checked_by: str | None,
    at: datetime,
) -> str | None:
    """Check the requester's identity: the code they received (by a steering role, or the
    door that opened the request), or a steering role's attestation that an ID document was
    checked. None when verified; otherwise why not. Once the attempts run out the request is
    closed as unverified. The attempt is recorded: the caller commits, then reports."""
    policy = rules.policy
    request = service.get(session=session, request_id=request_id, for_update=True)
    permissions.require_own(policy, actor, request)
    if request.ended:
        again = ": the person must make a new request" if request.status != "answered" else ""
        raise Conflict(f"the request is {request.status}{again}")
    if code is not None and not verification.by_code(policy, request.type):
        raise InvalidInput(
            f"a {request.type} request is verified by staff on the identity document, never by "
            "a code",
            location="code",
        )
    if code is not None:
        refused = verification.check_code(
            session=session, keyring=keyring, request_id=request_id, code=code, at=at
        )
    else:
        permissions.require_steering(policy, actor)
        verification.attest(session=session, request_id=request_id, by=id_checked_by or "", at=at)
        refused = None
    if refused is None:
        move(session, keyring, policy, request, RequestStatus.VERIFIED, at)
    elif verification.exhausted(session=session, request_id=request_id, at=at):
        _close_unverified(session, keyring, rules, actor, request, refused, at)
    audit.log(
        session,
        policy,
        at,
        event(
            actor,
            request,
            "verify_identity",
            outcome="denied" if refused else "done",
            reason=refused or "",
            method="email_code" if code else "id_document",
        ),
    )
    return refused


def extend(
    *,
    session: Session,
    keyring: Keyring,
    rules: RecordRules,
    actor: Actor,
    request_id: str,
    months: int,
    reason: str,
    at: datetime,
) -> tuple[RightsRequest, bool]:
    """Extend the deadline and tell the person, by e-mail when an address is on file.

    Returns the request and whether it was e-mailed; if not, staff must write (Art. 12(3)).
    """
    permissions.require_steering(rules.policy, actor)
    request = service.extend(
        session=session, request_id=request_id, months=months, reason=reason, on=at.date()
    )
    address = notices.address_of(session, keyring, rules, request)
    if address:
        notices.email(
            session,
            keyring,
            rules.policy,
            address,
            at,
            topic="more time for your personal data request",
            body=(
                f"Your request of {request.received_on} (reference {request.id}) needs more "
                f"time. We will answer by {request.due_on}.\n\nWhy: {request.extension_reason}"
                f"\n\n{notices.contacts_text(rules.policy)}"
            ),
        )
    notices.queue_callbacks(session, keyring, rules.policy, request, at)  # a new due date
    audit.log(
        session,
        rules.policy,
        at,
        event(
            actor,
            request,
            "extend_request",
            reason=f"deadline extended by {months} month(s)",
            due_on=str(request.due_on),
            told="email" if address else "staff_to_write",
        ),
    )
    return request, bool(address)


def cancel(
    *,
    session: Session,
    keyring: Keyring,
    rules: RecordRules,
    actor: Actor,
    request_id: str,
    at: datetime,
    pending_only: bool = False,
) -> RightsRequest:
    """Withdraw a request not yet answered, at the person's wish: by a steering role, or by
    the door that opened it; with `pending_only`, only before its requester is verified."""
    request = service.get(session=session, request_id=request_id, for_update=True)
    permissions.require_own(rules.policy, actor, request)
    if request.ended or (pending_only and request.status != RequestStatus.OPEN):
        raise Conflict(f"only a pending request can be cancelled; this one is {request.status}")
    move(session, keyring, rules.policy, request, RequestStatus.CANCELLED, at)
    request.answered_at = utc_naive(at)
    request.answer = {"outcome": "cancelled", "reasons": ["The request was withdrawn."]}
    audit.log(session, rules.policy, at, event(actor, request, "cancel_request"))
    return request


def _close_unverified(
    session: Session,
    keyring: Keyring,
    rules: RecordRules,
    actor: Actor,
    request: RightsRequest,
    why: str,
    at: datetime,
) -> None:
    """End a request whose requester did not prove their identity, and tell them where the
    request came online: they may make a new one."""
    address = notices.address_of(session, keyring, rules, request)
    if address and request.channel in service.ONLINE:
        notices.email(
            session,
            keyring,
            rules.policy,
            address,
            at,
            topic="your personal data request is closed",
            body=(
                f"Your request of {request.received_on} (reference {request.id}) is closed: "
                f"{why}. Nothing was disclosed or changed. You may make a new request.\n\n"
                f"{notices.contacts_text(rules.policy)}"
            ),
        )
    move(session, keyring, rules.policy, request, RequestStatus.UNVERIFIED, at)
    request.answered_at = utc_naive(at)
    request.answer = {"outcome": "unverified", "reasons": [why]}
    audit.log(session, rules.policy, at, event(actor, request, "close_unverified", reason=why))


def close_unverified(
    *,
    session: Session,
    keyring: Keyring,
    rules: RecordRules,
    actor: Actor,
    at: datetime,
) -> list[str]:
    """Close every request still unverified `rights_requests.unverified_after_days` after
    it was received; the ids of those closed."""
    permissions.require_steering(rules.policy, actor)
    days = rules.policy.rights_requests.unverified_after_days
    stale = session.scalars(
        select(RightsRequest)
        .where(
            RightsRequest.status == RequestStatus.OPEN,
            RightsRequest.received_on <= at.date() - timedelta(days=days),
        )
        .order_by(RightsRequest.received_on)
        .with_for_update(skip_locked=True)  # one being verified right now is left to that
    ).all()
    why = f"the requester's identity was not verified within {days} days"
    for request in stale:
        _close_unverified(session, keyring, rules, actor, request, why, at)
    return [r.id for r in stale]
