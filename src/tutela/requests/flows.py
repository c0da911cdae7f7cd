"""Rights requests through every door: resolve the person, open, extend; each step audited."""

from __future__ import annotations

from datetime import date, datetime

import orjson
from sqlalchemy.orm import Session

from tutela.access.gate import Actor, require_purpose
from tutela.audit import service as audit
from tutela.audit.service import Event
from tutela.crypto.keyring import Keyring
from tutela.errors import Conflict, InvalidInput
from tutela.outbox.service import enqueue_email, enqueue_webhook
from tutela.requests import service, verification
from tutela.requests.decisions import (
    Answer,
    changes_label,
    contacts_text,
    decide,
    directive_label,
)
from tutela.requests.export import check_exportable, copy_of
from tutela.requests.models import PostMortemDirective, RightsRequest
from tutela.subjects import service as subjects
from tutela.subjects.validation import RecordRules
from tutela.subjects.values import ValueProblem, check_value

__all__ = [
    "ONLINE",
    "cancel",
    "export_copy",
    "extend",
    "open_request",
    "process",
    "record_death",
    "verify",
]

ONLINE = ("api", "email", "opengdpr")
DIRECTIVES = (
    "keep",
    "erase",
    "communicate",
    "revoke",
)  # §16  # doors where a one-time code proves the requester
RIGHTS_PURPOSE = "rights_requests"  # the purpose whose grant lets a role answer requests


def _event(
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
    request_id: str | None = None,
    changes: dict[str, str] | None = None,
) -> RightsRequest:
    """Open a request through any door. A rectification carries the values asked for,
    `{"category.field": value}`; a post-mortem request its directive (`directive`: keep,
    erase, communicate or revoke; `designate`: the e-mail of who receives the data). Both
    are kept sealed until the request is processed."""
    if type_ == "post_mortem":
        _check_directive(changes or {})
    elif (type_ == "rectification") != bool(changes):
        raise InvalidInput(
            "a rectification request gives the values to correct, and only it does",
            location="changes",
        )
    request = service.open_request(
        session=session,
        type_=type_,
        subject_id=_subject_of(session, keyring, rules, external_id, email),
        channel=channel,
        received=received,
        opened_by=actor.name,
        repeated=rules.policy.rights_requests.repeated,
        at=at,
        request_id=request_id,
    )
    if changes:
        request.changes = keyring.seal_note(
            orjson.dumps(changes).decode(), label=changes_label(request.id)
        )
    sent_code = False
    if request.subject_id and channel in ONLINE:
        sent_code = _send_code(session, keyring, rules, request, at)
    audit.log(
        session,
        rules.policy,
        at,
        _event(
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


def _check_directive(particulars: dict[str, str]) -> None:
    directive = particulars.get("directive")
    if directive not in DIRECTIVES:
        raise InvalidInput(f"expected one of: {', '.join(DIRECTIVES)}", location="directive")
    if directive == "communicate":
        try:
            check_value("email", particulars.get("designate"))
        except ValueProblem:
            raise InvalidInput(
                "communicating the data needs the e-mail of the person designated",
                location="designate",
            ) from None


def _send_code(
    session: Session, keyring: Keyring, rules: RecordRules, request: RightsRequest, at: datetime
) -> bool:
    """E-mail a one-time code to the address on file: proof that the requester controls it.
    False when the person has no address on file (then staff must check an ID document)."""
    address = _address(session, keyring, rules, request)
    if address is None:
        return False
    code = verification.issue_code(session=session, keyring=keyring, request_id=request.id, at=at)
    controller = rules.policy.controller
    minutes = int(verification.CODE_LIFETIME.total_seconds() // 60)
    _email(
        session,
        keyring,
        rules,
        address,
        at,
        topic="your code for your personal data request",
        body=(
            f"Your code: {code}\n\nIt confirms the request you made to {controller.name} "
            f"about your personal data (reference {request.id}). It expires in {minutes} "
            "minutes.\nIf you did not make this request, ignore this message."
        ),
    )
    return True


def _address(
    session: Session, keyring: Keyring, rules: RecordRules, request: RightsRequest
) -> str | None:
    """The e-mail address on file of the person the request is about, if any."""
    if request.subject_id is None:
        return None
    return subjects.email_on_file(
        session=session, keyring=keyring, rules=rules, subject_id=request.subject_id
    )


def _email(
    session: Session,
    keyring: Keyring,
    rules: RecordRules,
    to: str,
    at: datetime,
    *,
    topic: str,
    body: str,
) -> None:
    """Queue a message to the person, from the controller (delivered by `tutela outbox`)."""
    enqueue_email(
        session=session,
        keyring=keyring,
        to=to,
        at=at,
        subject=f"{rules.policy.controller.name}: {topic}",
        body=body,
    )


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
    """Check the requester's identity. None when verified; otherwise the reason it is not
    (the attempt is recorded: the caller commits, then reports the refusal)."""
    request = service.get(session=session, request_id=request_id)
    if request.status == "cancelled":
        raise Conflict("the request was cancelled")
    if code is not None:
        refused = verification.check_code(
            session=session, keyring=keyring, request_id=request_id, code=code, at=at
        )
    else:
        verification.attest(session=session, request_id=request_id, by=id_checked_by or "", at=at)
        refused = None
    if refused is None:
        request.status = "verified"
    audit.log(
        session,
        rules.policy,
        at,
        _event(
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
    request = service.extend(
        session=session, request_id=request_id, months=months, reason=reason, on=at.date()
    )
    address = _address(session, keyring, rules, request)
    if address:
        _email(
            session,
            keyring,
            rules,
            address,
            at,
            topic="more time for your personal data request",
            body=(
                f"Your request of {request.received_on} (reference {request.id}) needs more "
                f"time. We will answer by {request.due_on}.\n\nWhy: {request.extension_reason}"
                f"\n\n{contacts_text(rules.policy)}"
            ),
        )
    audit.log(
        session,
        rules.policy,
        at,
        _event(
            actor,
            request,
            "extend_request",
            reason=f"deadline extended by {months} month(s)",
            due_on=str(request.due_on),
            told="email" if address else "staff_to_write",
        ),
    )
    return request, bool(address)


def _tell_recipients(
    session: Session,
    keyring: Keyring,
    rules: RecordRules,
    request: RightsRequest,
    external_id: str | None,
    changed: dict[str, dict],
    at: datetime,
) -> list[str]:
    """Art. 19: a notice to each external recipient and subprocessor whose categories the
    rectification, erasure or restriction touches, through its webhook (outbox)."""
    policy = rules.policy
    reach = {
        r.id: {c for g in r.grants for c in g.categories}
        for r in policy.recipients
        if r.kind == "external"
    }
    reach.update({s.id: set(s.categories) for s in policy.subprocessors})
    concerned = []
    for recipient, categories in reach.items():
        touched = categories & set(changed)
        if not touched:
            continue
        concerned.append(recipient)
        payload = {  # only what this recipient may hold: corrected values of its categories
            "type": request.type,
            "request": request.id,
            "external_id": external_id,
            "categories": sorted(touched),
            "values": {c: v for c, v in changed.items() if v and c in touched},
            "at": at.isoformat(),
        }
        enqueue_webhook(
            session=session,
            keyring=keyring,
            recipient=recipient,
            title=f"Art. 19 notice: {request.type}",
            payload=payload,
            at=at,
        )
    return concerned


def record_death(
    *,
    session: Session,
    keyring: Keyring,
    rules: RecordRules,
    actor: Actor,
    external_id: str,
    died_on: date,
    proof: str,
    at: datetime,
) -> dict:
    """Record a person's death, on a proof staff checked (§16), and carry out their directive:
    erase (an erasure, decided as any other: what the law needs is kept), communicate (a
    verified access request, the person designated told), or keep (nothing more)."""
    subject = subjects.get(session=session, external_id=external_id)
    if subject.date_of_death is not None:
        raise Conflict(f"a death was already recorded on {subject.date_of_death}")
    subject.date_of_death = died_on
    directive = session.get(PostMortemDirective, subject.id)
    audit.log(
        session,
        rules.policy,
        at,
        Event(
            actor.name,
            "record_death",
            "done",
            subject_id=subject.id,
            reason="death recorded on a proof checked by staff",
            detail={
                "directive": directive.directive if directive else None,
                # the certificate's reference, as a keyed digest: checkable, not readable
                "proof": keyring.blind_index("death_proof", proof.strip()),
            },
        ),
    )
    outcome: dict = {"directive": directive.directive if directive else None}
    if directive is not None:
        session.delete(directive)  # carried out now: nothing of it is kept
    if directive is None or directive.directive == "keep":
        return outcome
    request = open_request(
        session=session,
        keyring=keyring,
        rules=rules,
        actor=actor,
        type_="erasure" if directive.directive == "erase" else "access",
        external_id=external_id,
        email=None,
        channel="post",
        received=at.date(),
        at=at,
    )
    verify(
        session=session,
        keyring=keyring,
        rules=rules,
        actor=actor,
        request_id=request.id,
        code=None,
        id_checked_by=f"{actor.name} (death proof)",
        at=at,
    )
    outcome["request"] = request.id
    if directive.directive == "erase":
        answer = process(
            session=session, keyring=keyring, rules=rules, actor=actor, request_id=request.id, at=at
        )
        outcome["done"] = answer.done
        return outcome
    designate = keyring.open_note(directive.designate, label=directive_label(subject.id))
    _email(
        session,
        keyring,
        rules,
        designate,
        at,
        topic="personal data entrusted to you",
        body=(
            f"A person who designated you in their directive for their personal data after "
            f"their death has died. Following that directive, our data protection officer will "
            f"send you a copy of their data (reference {request.id}).\n\n"
            f"{contacts_text(rules.policy)}"
        ),
    )
    outcome["designate_told"] = True
    return outcome


def export_copy(
    *,
    session: Session,
    keyring: Keyring,
    rules: RecordRules,
    actor: Actor,
    request_id: str,
    fmt: str,
    at: datetime,
) -> str:
    """The copy of an access or portability answer, rendered for the person; the export is
    audited, and committed, before the copy is made. The actor must be granted the
    `rights_requests` purpose."""
    require_purpose(rules.policy, actor, RIGHTS_PURPOSE)
    request = service.get(session=session, request_id=request_id)
    check_exportable(request, fmt)
    audit.log_apart(
        session,
        rules.policy,
        at,
        _event(actor, request, "export", reason=f"copy of a {request.type} answer, as {fmt}"),
    )
    return copy_of(
        session=session,
        keyring=keyring,
        policy=rules.policy,
        request_id=request_id,
        fmt=fmt,
        at=at,
    )


def cancel(
    *, session: Session, rules: RecordRules, actor: Actor, request: RightsRequest, at: datetime
) -> None:
    """Withdraw a request still pending: its requester's identity not verified, nothing done."""
    if request.status != "open":
        raise Conflict(f"only a pending request can be cancelled; this one is {request.status}")
    request.status = "cancelled"
    audit.log(session, rules.policy, at, _event(actor, request, "cancel_request"))


def process(
    *,
    session: Session,
    keyring: Keyring,
    rules: RecordRules,
    actor: Actor,
    request_id: str,
    at: datetime,
) -> Answer:
    """Decide a verified request and carry it out; the answer says what and why. The actor
    must be granted the `rights_requests` purpose."""
    require_purpose(rules.policy, actor, RIGHTS_PURPOSE)
    request = service.get(session=session, request_id=request_id)
    if request.status == "closed":
        raise Conflict("the request was already answered; its copy can still be exported")
    if request.status == "cancelled":
        raise Conflict("the request was cancelled")
    subject = request.subject_id and subjects.get_by_id(
        session=session, subject_id=request.subject_id
    )
    external_id = subject.external_id if subject else None  # an erasure may remove the row
    answer = decide(session=session, keyring=keyring, policy=rules.policy, request=request, at=at)
    if answer.changed:
        told = _tell_recipients(session, keyring, rules, request, external_id, answer.changed, at)
        if told:
            answer.done.append("notices queued for recipients (Art. 19): " + ", ".join(told))
    if answer.outcome in ("done", "nothing_held", "refused"):
        request.status = "closed"
        request.changes = None  # values asked for are held now, or refused: never kept twice
    audit.log(
        session,
        rules.policy,
        at,
        _event(
            actor,
            request,
            "answer_request",
            reason=f"{request.type}: {answer.outcome}",
            done=answer.done,
        ),
    )
    return answer
