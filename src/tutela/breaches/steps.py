"""A breach's steps after it is recorded: assessed, notified to the authority (initial, then
follow-ups, Art. 33(4)), people told (in `communicate`), closed. Each is audited; a breach
moves forward only, and closes only once what its assessment requires is done.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tutela.access.gate import Actor
from tutela.audit import service as audit
from tutela.audit.service import Event
from tutela.breaches import severity
from tutela.breaches.models import Breach, BreachNotification, BreachPerson
from tutela.breaches.service import exposed, note_label
from tutela.clock import utc_naive
from tutela.crypto.keyring import Keyring
from tutela.errors import Conflict, InvalidInput
from tutela.policy.schema import Policy
from tutela.subjects.models import Subject

__all__ = [
    "STATUSES",
    "advance",
    "assess",
    "assessed",
    "close",
    "notifications",
    "people_to_tell",
    "record_notification",
]

STATUSES = ("open", "assessed", "notified", "people_told", "closed")
CIRCUMSTANCES = {  # the nature each option scores, and what it may say
    "confidentiality": ("none", "known_recipients", "unknown_recipients"),
    "integrity": ("none", "recoverable", "not_recoverable"),
    "availability": ("none", "temporary", "permanent"),
}


def advance(breach: Breach, status: str) -> None:
    """Move the breach to `status` unless it is further along already."""
    if STATUSES.index(status) > STATUSES.index(breach.status):
        breach.status = status


def _open(breach: Breach) -> None:
    if breach.status == "closed":
        raise Conflict(f"breach {breach.id} is closed")


def _note(keyring: Keyring, breach: Breach, name: str, text: str | None) -> bytes | None:
    if text is None:
        return getattr(breach, name)
    if not text.strip() or len(text) > 10_000:
        raise InvalidInput("expected 1 to 10,000 characters", location=name)
    return keyring.seal_note(text.strip(), label=note_label(breach.id, name))


def delay_label(breach: Breach, phase: int) -> str:
    return note_label(breach.id, f"notification:{phase}:delay")


def facts(session: Session, breach: Breach, given: dict) -> severity.Facts:
    people = readable_people = 0
    leaked: set[str] = set()
    clear: set[str] = set()
    for person in session.scalars(select(BreachPerson).where(BreachPerson.breach_id == breach.id)):
        people += 1
        leaked |= set(person.categories)
        seen = exposed(breach, person)
        clear |= set(seen)
        readable_people += bool(seen)
    return severity.Facts(
        natures=tuple(breach.natures),
        readable=frozenset(clear),
        encrypted_only=frozenset(leaked - clear),
        people=people,
        people_readable=readable_people,
        circumstances={k: v for k, v in given.items() if k in CIRCUMSTANCES and v},
        malicious=bool(given.get("malicious")),
        identification=given.get("identification"),
    )


def assess(
    *,
    session: Session,
    keyring: Keyring,
    policy: Policy,
    actor: Actor,
    breach: Breach,
    at: datetime,
    given: dict,
    measures: str | None = None,
    consequences: str | None = None,
) -> severity.Assessment:
    """Score the breach from its scope and what the DPO knows (`given`: a circumstance per
    nature, `malicious`, `identification`), and record the decisions with their reasons."""
    _open(breach)
    for nature, value in given.items():
        allowed = CIRCUMSTANCES.get(nature)
        if allowed is not None and value is not None and value not in allowed:
            raise InvalidInput(f"expected one of: {', '.join(allowed)}", location=nature)
    scales = policy.breaches.severity.identification
    if given.get("identification") not in (None, *scales):
        raise InvalidInput(f"expected one of: {', '.join(scales)}", location="identification")
    known = facts(session, breach, given)
    if known.people == 0:
        raise Conflict(f"breach {breach.id} concerns nobody yet: scope it first")
    result = severity.assess(known, policy.breaches)
    breach.measures = _note(keyring, breach, "measures", measures)
    breach.consequences = _note(keyring, breach, "consequences", consequences)
    breach.assessment, breach.assessed_at = result.as_dict(), utc_naive(at)
    advance(breach, "assessed")
    detail = {
        "breach": breach.id,
        "severity": result.severity,
        "level": result.level,
        "notify_authority": result.notify_authority,
        "tell_people": result.tell_people,
    }
    audit.log(session, policy, at, Event(actor.name, "breach_assess", "done", detail=detail))
    return result


def notifications(session: Session, breach: Breach) -> list[BreachNotification]:
    query = select(BreachNotification).where(BreachNotification.breach_id == breach.id)
    return list(session.scalars(query.order_by(BreachNotification.phase)))


def record_notification(
    *,
    session: Session,
    keyring: Keyring,
    policy: Policy,
    actor: Actor,
    breach: Breach,
    at: datetime,
    draft: dict,
    reference: str | None = None,
    delay_reason: str | None = None,
) -> BreachNotification:
    """Record that the draft was submitted to the authority: the initial notification, then
    each follow-up. One submitted after the deadline must give the reasons (Art. 33(1))."""
    _open(breach)
    assessed(breach, "notifying it")
    phase = 1 + session.scalar(
        select(func.count()).where(BreachNotification.breach_id == breach.id)
    )
    late = utc_naive(at) > breach.deadline_at
    if phase == 1 and late and not (delay_reason or "").strip():
        raise InvalidInput(
            "the deadline has passed: give the reasons for the delay (GDPR Art. 33(1))",
            location="delay_reason",
        )
    if reference is not None and not 0 < len(reference.strip()) <= 128:
        raise InvalidInput("expected 1 to 128 characters", location="reference")
    notification = BreachNotification(
        breach_id=breach.id,
        phase=phase,
        submitted_at=utc_naive(at),
        submitted_by=actor.name,
        reference=reference.strip() if reference else None,
        delay_reason=keyring.seal_note(delay_reason.strip(), label=delay_label(breach, phase))
        if delay_reason and delay_reason.strip()
        else None,
        draft=keyring.seal_note(
            json.dumps(draft, default=str), label=note_label(breach.id, f"notification:{phase}")
        ),
    )
    session.add(notification)
    breach.notified_at = breach.notified_at or utc_naive(at)
    advance(breach, "notified")
    session.flush()
    detail = {"breach": breach.id, "phase": phase, "late": late}
    audit.log(session, policy, at, Event(actor.name, "breach_notify", "done", detail=detail))
    return notification


def assessed(breach: Breach, before: str) -> dict:
    """The breach's assessment, if it holds for what is known now."""
    done = breach.assessment
    if done is None:
        raise Conflict(f"assess breach {breach.id} before {before}")
    if done.get("stale"):
        raise Conflict(
            f"the scope of breach {breach.id} grew since it was assessed: assess it again"
        )
    return done


def people_to_tell(session: Session, breach: Breach) -> list[BreachPerson]:
    """The living people concerned the breach puts at risk who have not been told yet."""
    rows = session.scalars(
        select(BreachPerson)
        .join(Subject, Subject.id == BreachPerson.subject_id)
        .where(
            BreachPerson.breach_id == breach.id,
            BreachPerson.told_at.is_(None),
            Subject.date_of_death.is_(None),
        )
        .order_by(BreachPerson.subject_id)
    )
    return [person for person in rows if exposed(breach, person)]


def close(
    *, session: Session, policy: Policy, actor: Actor, breach: Breach, at: datetime
) -> Breach:
    """Close a breach once what its assessment requires is done; it stays in the register."""
    _open(breach)
    done = assessed(breach, "closing it: the register says whether and why it was notified "
                     "(Art. 33(5))")  # fmt: skip
    if done["notify_authority"] and breach.notified_at is None:
        raise Conflict(f"breach {breach.id} must be notified to the authority before closing")
    if done["tell_people"] and breach.told_how != "public":
        untold = len(people_to_tell(session, breach))
        if breach.told_at is None or untold:
            raise Conflict(
                f"the people breach {breach.id} concerns must be told before closing "
                f"({untold:,} not told yet)"
            )
    breach.status, breach.closed_at = "closed", utc_naive(at)
    detail = {"breach": breach.id}
    audit.log(session, policy, at, Event(actor.name, "breach_close", "done", detail=detail))
    return breach
