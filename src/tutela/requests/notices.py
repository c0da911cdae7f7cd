"""What people, recipients and OpenGDPR clients are told of a request, queued in the outbox in
the caller's transaction (so a message exists exactly when what it tells does):

- to the person: their one-time code, an extension, the answer (with what was done and kept,
  the erasure receipt, the copy for access, the DPO and the complaint route);
- to the recipients the data was disclosed to: rectifications, erasures, restrictions and
  their lifting (Art. 19), each told only of its own categories;
- to the OpenGDPR client that submitted the request: every change of status, signed.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import orjson
from sqlalchemy.orm import Session

from tutela.access.recipients import Received
from tutela.crypto.keyring import Keyring
from tutela.outbox.service import enqueue_callback, enqueue_email, enqueue_webhook
from tutela.policy.schema import Policy
from tutela.requests import verification
from tutela.requests.decision import Decision
from tutela.requests.models import OPENGDPR_STATUS, RightsRequest
from tutela.subjects import service as subjects
from tutela.subjects.validation import RecordRules

__all__ = [
    "TOLD_RECIPIENTS",
    "address_of",
    "answer_text",
    "contacts",
    "contacts_text",
    "email",
    "opengdpr_status",
    "queue_callbacks",
    "send_code",
    "send_code_to",
    "tell_recipients",
]

TOLD_RECIPIENTS = ("external", "subprocessor")  # those who hold copies of their own (Art. 19)


def contacts(policy: Policy) -> dict[str, Any]:
    """The DPO, and the authority to complain to: every answer and notice names them."""
    dpo, authority = policy.dpo, policy.supervisory_authority
    return {
        "dpo": {
            "name": dpo.name,
            "organisation": dpo.organisation,
            "email": dpo.email,
            "phone": dpo.phone,
        },
        "complaint": {
            "authority": authority.name,
            "service": authority.complaint_service,
            "address": authority.address,
            "phone": authority.phone,
        },
    }


def contacts_text(policy: Policy) -> str:
    """`contacts`, as a sentence for a message to the person."""
    found = contacts(policy)
    dpo, complaint = found["dpo"], found["complaint"]
    return (
        f"Our data protection officer: {dpo['name']}, {dpo['email']}. You may also complain "
        f"to the {complaint['authority']} ({complaint['service']}), {complaint['address']}."
    )


def contact_label(request_id: str) -> str:
    return f"request-contact:{request_id}"


def address_of(
    session: Session, keyring: Keyring, rules: RecordRules, request: RightsRequest
) -> str | None:
    """Where to e-mail the answer: the request's own address when it has one (the person
    designated by a post-mortem directive; a person Tutela holds nothing on, where they
    wrote from), else the address on file."""
    if request.contact is not None:
        return keyring.open_note(request.contact, label=contact_label(request.id))
    if request.subject_id is None:
        return None
    return subjects.email_on_file(
        session=session, keyring=keyring, rules=rules, subject_id=request.subject_id
    )


def email(
    session: Session,
    keyring: Keyring,
    policy: Policy,
    to: str,
    at: datetime,
    *,
    topic: str,
    body: str,
    attachment: tuple[str, str, str] | None = None,
) -> None:
    """Queue a message to the person, from the controller; `attachment` is (file name,
    media type, content)."""
    enqueue_email(
        session=session,
        keyring=keyring,
        to=to,
        at=at,
        subject=f"{policy.controller.name}: {topic}",
        body=body,
        attachment=attachment,
    )


def send_code(
    session: Session, keyring: Keyring, rules: RecordRules, request: RightsRequest, at: datetime
) -> bool:
    """E-mail a one-time code to the address on file: proof that the requester controls it.
    False when the person has no address on file, or the request's type is one only staff
    verify (`verification.by_code`): then staff must check an ID document."""
    if request.subject_id is None or request.contact is not None:
        return False  # nobody on file to prove, or the answer goes to someone else
    address = address_of(session, keyring, rules, request)
    if address is None:
        return False
    if not verification.by_code(rules.policy, request.type):  # the same work, no code
        send_code_to(session, keyring, rules.policy, request, address, at, proves=False)
        return False  # told what proof to send; staff verify
    code = verification.issue_code(session=session, keyring=keyring, request_id=request.id, at=at)
    controller = rules.policy.controller
    minutes = int(verification.CODE_LIFETIME.total_seconds() // 60)
    email(
        session,
        keyring,
        rules.policy,
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


def send_code_to(
    session: Session,
    keyring: Keyring,
    policy: Policy,
    request: RightsRequest,
    address: str,
    at: datetime,
    *,
    proves: bool,
) -> None:
    """E-mail a code to the address a requester gave, when nobody on file holds it alone:
    an address nobody holds (the code proves where the answer goes), or one several people
    hold (`proves` False: the message says staff will answer, and no code verifies the
    request). The same work as `send_code`, so the portal's answers take the same time."""
    proves = proves and verification.by_code(policy, request.type)
    code = verification.issue_code(
        session=session, keyring=keyring, request_id=request.id, at=at, usable=proves
    )
    minutes = int(verification.CODE_LIFETIME.total_seconds() // 60)
    about = f"about your personal data (reference {request.id})"
    proof = policy.rights_requests.identity_proof or "a proof of your identity"
    body = (
        f"Your code: {code}\n\nIt confirms the request you made to {policy.controller.name} "
        f"{about}. It expires in {minutes} minutes."
        if proves
        else f"We received the request you made to {policy.controller.name} {about}. Our "
        "staff will answer it at this address."
        if verification.by_code(policy, request.type)
        else f"We received the request you made to {policy.controller.name} {about}. Our "
        f"staff check your identity before it is carried out: send us {proof}."
    )
    email(
        session,
        keyring,
        policy,
        address,
        at,
        topic="your code for your personal data request",
        body=f"{body}\nIf you did not make this request, ignore this message.",
    )


def tell_recipients(
    session: Session,
    keyring: Keyring,
    *,
    change: str,
    request_id: str | None,
    external_id: str,
    recipients: list[Received],
    changed: dict[str, dict[str, Any]],
    at: datetime,
) -> list[str]:
    """Art. 19: a notice to each recipient the person's data was disclosed to that holds a
    category the change touches, through its webhook; each is sent only its own categories
    (and, for a rectification, their corrected values). The ids of those told."""
    told = []
    for recipient in recipients:
        touched = sorted(recipient.categories & set(changed))
        if recipient.kind not in TOLD_RECIPIENTS or not touched:
            continue
        told.append(recipient.id)
        payload = {
            "type": change,
            "request": request_id,
            "external_id": external_id,
            "categories": touched,
            "values": {c: changed[c] for c in touched if changed[c]},
            "at": at.isoformat(),
        }
        enqueue_webhook(
            session=session,
            keyring=keyring,
            recipient=recipient.id,
            title=f"Art. 19 notice: {change}",
            payload=payload,
            at=at,
        )
    return told


def answer_text(
    policy: Policy,
    request: RightsRequest,
    decision: Decision,
    done: list[str],
    receipt: dict[str, Any] | None,
) -> str:
    """The answer, as the person reads it in an e-mail (a letter renders the same parts)."""
    lines = [
        f"Your {request.type.replace('_', ' ')} request of {request.received_on} "
        f"(reference {request.id}): {decision.outcome.value.replace('_', ' ')}.",
        "",
        *decision.reasons,
    ]
    decided = [i for i in decision.items if i.action.value != "give"]
    if decided:
        lines += ["", "Your data, category by category:"]
        lines += [f"- {i.category}: {i.action.value}: {i.reason}" for i in decided]
    if done:
        lines += ["", "What was done:", *(f"- {line}" for line in done)]
    if receipt:
        lines += [
            "",
            f"Proof of erasure: receipt {receipt['receipt']} (digest {receipt['digest']}), "
            f"recorded in our audit trail as event(s) "
            + ", ".join(str(e["seq"]) for e in receipt["events"])
            + ".",
        ]
    lines += ["", contacts_text(policy)]
    return "\n".join(lines)


def opengdpr_status(policy: Policy, request: RightsRequest) -> dict[str, Any]:
    """A request's status as the OpenGDPR specification gives it (status and callbacks)."""
    return {
        "controller_id": policy.controller.name,
        "expected_completion_time": end_of_day(request.due_on),
        "subject_request_id": str(uuid.UUID(request.id)),
        "request_status": OPENGDPR_STATUS[request.status],
        "api_version": "0.1",
    }


def end_of_day(day: date) -> str:
    """The end of a due day, as RFC 3339."""
    return f"{day.isoformat()}T23:59:59Z"


def queue_callbacks(
    session: Session, keyring: Keyring, policy: Policy, request: RightsRequest, at: datetime
) -> int:
    """A signed callback to each `status_callback_urls` entry of the request (OpenGDPR §8.5);
    the number queued."""
    urls = request.callback_urls or []
    for url in urls:
        body = {**opengdpr_status(policy, request), "status_callback_url": url}
        enqueue_callback(
            session=session,
            keyring=keyring,
            url=url,
            title=f"OpenGDPR status: {body['request_status']}",
            body=orjson.dumps(body).decode(),
            at=at,
        )
    return len(urls)
