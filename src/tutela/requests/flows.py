"""Deciding requests and carrying the decisions out: process, refuse, lift a restriction; and
what an ended request gives back: its copy, its letter, its erasure receipt.

Each flow gathers the facts (`requests.facts`), asks the pure decision (`requests.decide`),
carries it out (`requests.execute`), tells whom it must (`requests.notices`), keeps the
decision on the request, and audits every step.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from tutela.access.gate import Actor
from tutela.access.recipients import received
from tutela.audit import service as audit
from tutela.audit.service import Event
from tutela.crypto.keyring import Keyring
from tutela.db import utc_naive
from tutela.errors import Conflict, Denied, InvalidInput
from tutela.requests import execute, export, notices, permissions, service
from tutela.requests.decision import Decision, Outcome
from tutela.requests.facts import decided
from tutela.requests.given import copy_page, export_copy, letter, receipt
from tutela.requests.models import RequestStatus, RightsRequest
from tutela.requests.steps import event, move
from tutela.subjects import service as subjects
from tutela.subjects.validation import RecordRules

__all__ = ["Answered", "export_copy", "letter", "lift_restriction", "process", "receipt", "refuse"]

# What an ended request gives back is in `requests.given`; it is named here too, so that
# every edge finds a request's whole life in one module.

CHANGES_TOLD = ("erasure", "rectification", "restriction", "lift_restriction")  # Art. 19


@dataclass
class Answered:
    """A decided request: the decision, the answer kept on the request, and how the person
    is answered (`email`, or `letter` for staff to send)."""

    decision: Decision
    answer: dict[str, Any]
    reply: str | None


def _check_nobody_holds_its_address(
    session: Session, keyring: Keyring, rules: RecordRules, request: RightsRequest
) -> None:
    """A request about nobody is answered that nothing is held: refused while people Tutela
    holds have the address it came from (several people, when the portal opened it; or one
    added since), whose data that answer would deny."""
    if request.subject_id is None:
        address = notices.address_of(session, keyring, rules, request)
        found = address and subjects.find_by_email(
            session=session, keyring=keyring, rules=rules, email=address
        )
        if found:
            raise Conflict(
                "people we hold have the address this request came from: answering it would "
                "say that nothing is held about them. Find out who made it, then open it "
                "again for that person by external id (and cancel this one)"
            )


def _verified(session: Session, policy, actor: Actor, request_id: str) -> RightsRequest:
    permissions.require_steering(policy, actor)
    request = service.get(session=session, request_id=request_id, for_update=True)
    if request.ended:
        raise Conflict(f"the request is {request.status}: it was already answered")
    if request.status != RequestStatus.VERIFIED:
        raise Denied("the requester's identity is not verified: nothing is disclosed or changed")
    return request


def process(
    *,
    session: Session,
    keyring: Keyring,
    rules: RecordRules,
    actor: Actor,
    request_id: str,
    at: datetime,
) -> Answered:
    """Decide a verified request, as of `at`, and carry it out; the answer says what and why,
    and reaches the person through their channel."""
    policy = rules.policy
    request = _verified(session, policy, actor, request_id)
    _check_nobody_holds_its_address(session, keyring, rules, request)
    facts, decision = decided(
        session=session, keyring=keyring, policy=policy, actor=actor, request=request, at=at
    )
    if decision.outcome == Outcome.NOT_AUTOMATED:
        audit.log(
            session,
            policy,
            at,
            event(
                actor,
                request,
                "answer_request",
                outcome="pending",
                reason=f"{request.type}: {decision.outcome}",
            ),
        )
        return Answered(decision, decision.as_dict(), None)
    address = notices.address_of(session, keyring, rules, request)  # before any erasure
    recipients = (
        received(
            session=session,
            policy=policy,
            subject_id=request.subject_id,
            kind=facts.kind,
            held=set(facts.held),
        )
        if facts is not None and request.type in CHANGES_TOLD
        else []
    )
    done = execute.carry_out(
        session=session,
        keyring=keyring,
        rules=rules,
        actor=actor,
        request=request,
        decision=decision,
        facts=facts,
        at=at,
    )
    told = notices.tell_recipients(
        session,
        keyring,
        change=request.type,
        request_id=request.id,
        external_id=request.external_id,
        recipients=recipients,
        changed=done.changed,
        at=at,
    )
    names = sorted(r.name for r in recipients if r.id in told)
    if told:
        done.lines.append(
            "notices sent to the recipients of your data (Art. 19): " + "; ".join(names)
        )
    return _conclude(
        session, keyring, rules, actor, request, decision, done, names, address, at,
        action="answer_request", reason=f"{request.type}: {decision.outcome}",
    )  # fmt: skip


def _conclude(
    session, keyring, rules, actor, request, decision, done, told, address, at, *, action, reason
) -> Answered:
    """End a decided request: keep its decision, answer the person, give it its status (the
    systems that asked are told), and audit it with its receipt's digest."""
    request.answer = {
        **decision.as_dict(),
        "done": done.lines,
        "told": told,
        "receipt": done.receipt and done.receipt["receipt"],
    }
    request.answered_at = utc_naive(at)
    reply = _reply(session, keyring, rules, actor, request, decision, done, address, at)
    status = (
        RequestStatus.REFUSED if decision.outcome == Outcome.REFUSED else RequestStatus.ANSWERED
    )
    move(session, keyring, rules.policy, request, status, at)
    receipt = done.receipt and {"id": done.receipt["receipt"], "digest": done.receipt["digest"]}
    audit.log(
        session,
        rules.policy,
        at,
        event(actor, request, action, reason=reason, done=done.lines, reply=reply, receipt=receipt),
    )
    return Answered(decision, request.answer, reply)


def _reply(session, keyring, rules, actor, request, decision, done, address, at) -> str:
    """E-mail the answer where the request came online and an address is known (with the
    copy, for access and portability); otherwise staff send the letter."""
    if address is None or (request.channel not in service.ONLINE and request.contact is None):
        return "letter"
    attachment = None
    if request.type in export.EXPORTABLE and decision.outcome == Outcome.DONE:
        # In this transaction: the copy leaves only through the outbox, which commits with it.
        page = copy_page(session, keyring, rules.policy, actor, request, "html", at, apart=False)
        attachment = ("your-personal-data.html", "text/html", page)
    notices.email(
        session,
        keyring,
        rules.policy,
        address,
        at,
        topic=f"the answer to your {request.type.replace('_', ' ')} request",
        body=notices.answer_text(rules.policy, request, decision, done.lines, done.receipt),
        attachment=attachment,
    )
    return "email"


def refuse(
    *,
    session: Session,
    keyring: Keyring,
    rules: RecordRules,
    actor: Actor,
    request_id: str,
    reason: str,
    at: datetime,
) -> Answered:
    """Refuse a request as manifestly unfounded or excessive (Art. 12(5)), with its reasons
    and the complaint route (Art. 12(4)); the person is told through their channel."""
    policy = rules.policy
    permissions.require_steering(policy, actor)
    request = service.get(session=session, request_id=request_id, for_update=True)
    if request.ended:
        raise Conflict(f"the request is {request.status}: it can no longer be refused")
    if not reason.strip():
        raise InvalidInput("a refusal needs its reasons (Art. 12(4))", location="reason")
    decision = Decision(
        request_id=request.id,
        type=request.type,
        outcome=Outcome.REFUSED,
        as_of=at.date(),
        policy_version=policy.version,
        reasons=(
            "Your request is refused as manifestly unfounded or excessive (GDPR Art. 12(5)): "
            f"{reason.strip()}",
            "You may complain to the supervisory authority and seek a judicial remedy "
            "(Art. 12(4)).",
        ),
    )
    address = notices.address_of(session, keyring, rules, request)
    return _conclude(
        session, keyring, rules, actor, request, decision, execute.Done(), [], address, at,
        action="refuse_request", reason="manifestly unfounded or excessive (Art. 12(5))",
    )  # fmt: skip


def lift_restriction(
    *,
    session: Session,
    keyring: Keyring,
    rules: RecordRules,
    actor: Actor,
    external_id: str,
    reason: str,
    at: datetime,
    told_by_letter: bool = False,
) -> dict[str, Any]:
    """The DPO lifts a person's restriction, with a reason; the person is told, by e-mail or,
    with no address on file, by a letter staff say they sent first (Art. 18(3)), and so are
    the recipients of their data (Art. 19)."""
    policy = rules.policy
    permissions.require_steering(policy, actor)
    if not reason.strip():
        raise InvalidInput("lifting a restriction needs its reason", location="reason")
    subject = subjects.get(session=session, external_id=external_id)
    held = subjects.holdings(session=session, policy=policy, subject_id=subject.id)
    recipients = received(
        session=session, policy=policy, subject_id=subject.id, kind=subject.kind, held=set(held)
    )
    address = subjects.email_on_file(
        session=session, keyring=keyring, rules=rules, subject_id=subject.id
    )
    if address is None and not told_by_letter:
        raise Conflict(
            "no e-mail on file: write to the person first (Art. 18(3)), then lift the "
            "restriction saying they were told by letter"
        )
    lifted = execute.lift(session=session, subject_id=subject.id, held=held, at=at)
    if not lifted:
        raise Conflict(f"the data of '{external_id}' is not restricted")
    if address:
        notices.email(
            session,
            keyring,
            policy,
            address,
            at,
            topic="the restriction of your data is lifted",
            body=(
                "The restriction of the processing of your personal data is lifted: it is "
                f"processed again for the purposes of our policy.\n\nWhy: {reason.strip()}"
                f"\n\n{notices.contacts_text(policy)}"
            ),
        )
    changed = {c: {} for c in lifted}
    told = notices.tell_recipients(
        session,
        keyring,
        change="lift_restriction",
        request_id=None,
        external_id=external_id,
        recipients=recipients,
        changed=changed,
        at=at,
    )
    audit.log(
        session,
        policy,
        at,
        Event(
            actor.name,
            "lift_restriction",
            "done",
            subject_id=subject.id,
            categories=sorted(changed),
            reason=reason.strip()[:200],
            detail={"person_told": "email" if address else "letter", "told": told},
        ),
    )
    return {
        "external_id": external_id,
        "lifted": sorted(changed),
        "person_told": bool(address),
        "recipients_told": told,
    }
