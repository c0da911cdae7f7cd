"""§16: a death recorded on a proof staff checked, and the person's directive carried out.

From the date of death the gate refuses the purposes the policy closes then (prospecting,
profiling), whatever the directive; the directive and the retention rules then apply.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Session

from tutela.access.gate import Actor
from tutela.audit import service as audit
from tutela.audit.service import Event
from tutela.crypto.keyring import Keyring
from tutela.errors import Conflict, InvalidInput
from tutela.requests import flows, intake, notices, permissions
from tutela.requests.execute import directive_label
from tutela.requests.models import PostMortemDirective
from tutela.subjects import service as subjects
from tutela.subjects.dates import has_begun
from tutela.subjects.validation import RecordRules

__all__ = ["record_death"]


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
    """Record a person's death and carry out their directive: erase (an erasure, decided as
    any other: what the law needs is kept), communicate (a verified access request, the
    person designated told), or keep (nothing more)."""
    permissions.require_steering(rules.policy, actor)
    if not has_begun(died_on, at):
        raise InvalidInput("a date of death cannot be in the future", location="on")
    if not proof.strip():
        raise InvalidInput("name the proof that was checked", location="proof")
    subject = subjects.get(session=session, external_id=external_id)
    if subject.date_of_death is not None:
        raise Conflict("a death is already recorded for this person")  # not its day
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
    outcome: dict = {
        "external_id": external_id,
        "directive": directive.directive if directive else None,
    }
    if directive is None or directive.directive == "keep":
        if directive is not None:
            session.delete(directive)  # carried out: nothing of it is kept
        return outcome
    kind = directive.directive
    designate = directive.designate and keyring.open_note(
        directive.designate, label=directive_label(subject.id)
    )
    session.delete(directive)
    request = intake.open_request(
        session=session,
        keyring=keyring,
        rules=rules,
        actor=actor,
        type_="erasure" if kind == "erase" else "access",
        external_id=external_id,
        email=None,
        channel="post",
        received=at.date(),
        at=at,
        answer_to=designate,  # the copy goes to the person designated, never to the deceased
    )
    intake.verify(
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
    if kind == "erase":
        answered = flows.process(
            session=session, keyring=keyring, rules=rules, actor=actor, request_id=request.id, at=at
        )
        outcome["done"] = answered.answer["done"]
        return outcome
    notices.email(
        session,
        keyring,
        rules.policy,
        designate,
        at,
        topic="personal data entrusted to you",
        body=(
            "A person who designated you in their directive for their personal data after "
            "their death has died. Following that directive, our data protection officer will "
            f"send you a copy of their data (reference {request.id}).\n\n"
            f"{notices.contacts_text(rules.policy)}"
        ),
    )
    outcome["designate_told"] = True
    return outcome
