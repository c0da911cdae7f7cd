"""Telling the people a breach concerns (Art. 34): a message to each, in plain language and
in their language, queued in the outbox; or, when individual messages would take a
disproportionate effort, a public communication (Art. 34(3)(c)).

Only the people the breach puts at risk are told (for a loss of confidentiality alone,
Art. 34(3)(a) spares those whose data leaked only encrypted), only the living, each once.
Each batch is recorded in the trail before their addresses are decrypted, and each message's
delivery in the person's trail.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tutela.access.gate import Actor
from tutela.audit import service as audit
from tutela.audit.service import Event
from tutela.breaches import people as person_data
from tutela.breaches.models import Breach, BreachPerson
from tutela.breaches.service import exposed, note
from tutela.breaches.steps import advance, assessed, people_to_tell
from tutela.breaches.words import number, word
from tutela.clock import utc_naive
from tutela.crypto.keyring import Keyring
from tutela.errors import Conflict
from tutela.outbox.service import enqueue_email
from tutela.policy.schema import Policy
from tutela.policy.texts import Localised

__all__ = ["communicate", "message", "public_text"]

_BATCH = 1000
_NEEDED = ("email", "language")


def _what(breach: Breach, lang: str) -> str:
    return "; ".join(word(f"plain_{n}", lang) for n in breach.natures)


def message(policy: Policy, keyring: Keyring, breach: Breach, categories, lang: str) -> str:
    """What one person is told (Art. 34(2)): what happened, their data concerned, what may
    follow, what was done, what they can do (by category), whom to ask."""
    t = Localised(policy, lang)
    names, follows, advice = [], [], []
    for name in categories:
        category, meaning = policy.category(name), policy.breaches.categories[name]
        names.append(t.of("categories", category, "name"))
        follows.append(t.key(f"breaches.categories.{name}.consequences", meaning.consequences))
        advice.append(t.key(f"breaches.categories.{name}.advice", meaning.advice))
    extra = note(keyring, breach, "consequences")
    lines = [
        word("m_intro", lang, what=_what(breach, lang)),
        "",
        f"{word('m_data', lang)}: {', '.join(names)}.",
        "",
        f"{word('m_consequences', lang)}:",
        *(f"- {text}" for text in follows + ([extra] if extra else [])),
        "",
        f"{word('m_measures', lang)}: {note(keyring, breach, 'measures') or ''}",
        "",
        f"{word('m_advice', lang)}:",
        *(f"- {text}" for text in advice),
        "",
        word("m_contact", lang, name=policy.dpo.name, email=policy.dpo.email),
    ]
    return "\n".join(lines)


def public_text(policy: Policy, keyring: Keyring, breach: Breach, categories, people: int) -> str:
    """The public communication, in every language of the policy (Markdown)."""
    parts = []
    for lang in policy.languages:
        body = message(policy, keyring, breach, categories, lang).split("\n", 1)[1]
        intro = word(
            "m_public_intro",
            lang,
            controller=policy.controller.name,
            what=_what(breach, lang),
            people=number(people, lang),
        )
        parts.append(f"# {word('m_public', lang)}\n\n{intro}\n{body}")
    return "\n\n".join(parts)


def communicate(
    *,
    session: Session,
    keyring: Keyring,
    policy: Policy,
    actor: Actor,
    breach: Breach,
    at: datetime,
    public: bool = False,
    required_by_authority: bool = False,
) -> dict:
    """Tell the people not told yet; what was done. The assessment must call for it, or the
    authority have required it (Art. 34(4))."""
    if breach.status == "closed":
        raise Conflict(f"breach {breach.id} is closed")
    done = assessed(breach, "telling the people")
    if not done["tell_people"] and not required_by_authority:
        raise Conflict(f"the people need not be told: {done['people_reason']}")
    everyone = session.scalars(select(BreachPerson).where(BreachPerson.breach_id == breach.id))
    everyone = list(everyone)
    concerned = [person for person in everyone if exposed(breach, person)]
    due = people_to_tell(session, breach)
    if not due and not public:
        raise Conflict(f"everyone breach {breach.id} puts at risk has been told already")
    told_before = sum(person.told_at is not None for person in concerned)
    categories = sorted({c for person in concerned for c in exposed(breach, person)})
    out = {
        "breach": breach.id,
        "people": len(due),
        "spared_encrypted": len(everyone) - len(concerned),
        "deceased": len(concerned) - len(due) - told_before,
    }
    if public or len(due) > policy.breaches.public_communication_over:
        text = public_text(policy, keyring, breach, categories, len(concerned))
        out |= {"how": "public", "text": text}
        breach.told_how = "public"
    else:
        queued, unreachable = _individually(session, keyring, policy, actor, breach, due, at)
        out |= {"how": "individual", "queued": queued, "unreachable": unreachable}
        if unreachable:  # no address to write to: only a public communication reaches them
            out["text"] = public_text(policy, keyring, breach, categories, unreachable)
        breach.told_how = breach.told_how or "individual"
    detail = {k: v for k, v in out.items() if k != "text"}
    reason = "Art. 34(3)(c): a public communication" if out["how"] == "public" else "Art. 34(1)"
    event = Event(actor.name, "breach_communicate", "done", reason=reason, detail=detail)
    audit.log(session, policy, at, event)
    breach.told_at = breach.told_at or utc_naive(at)
    advance(breach, "people_told")
    return out


def _individually(
    session: Session,
    keyring: Keyring,
    policy: Policy,
    actor: Actor,
    breach: Breach,
    due: list[BreachPerson],
    at: datetime,
) -> tuple[int, int]:
    queued = unreachable = 0
    for start in range(0, len(due), _BATCH):
        chunk = due[start : start + _BATCH]
        ids = [p.subject_id for p in chunk]
        event = Event(
            actor.name,
            "inform",
            "done",
            categories=person_data.categories_of(policy, _NEEDED),
            purpose=policy.rights_requests.purpose,
            reason=f"Art. 34: telling the people of breach {breach.id}",
            detail={"breach": breach.id},
            subjects=ids,
        )
        audit.log(session, policy, at, event)  # recorded before anything is decrypted
        found = person_data.details(session, keyring, policy, ids, _NEEDED)
        for person in chunk:
            values = found[person.subject_id]
            if not values.get("email"):
                unreachable += 1
                continue
            lang = person_data.language_of(policy, values.get("language"))
            langs = [lang] if lang else policy.languages  # unknown: every language
            cats = exposed(breach, person)
            body = "\n\n---\n\n".join(message(policy, keyring, breach, cats, x) for x in langs)
            topic = word("m_topic", langs[0])
            sent = enqueue_email(
                session=session,
                keyring=keyring,
                to=values["email"],
                subject=f"{policy.controller.name}: {topic}",
                body=body,
                at=at,
                tag=f"breach:{breach.id}",
                subject_id=person.subject_id,
            )
            person.message_id, person.told_at = sent.id, utc_naive(at)
            queued += 1
    session.flush()
    return queued, unreachable
