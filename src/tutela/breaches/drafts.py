"""The notification of a breach to the supervisory authority (Art. 33(3)), drafted from what
Tutela holds: the nature, the categories and numbers of people and records, the DPO, the
likely consequences and the measures; the authorities concerned by where the people live
(Art. 4(22), 56); the phase (Art. 33(4)) and, past the deadline, the reasons for the delay.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from functools import cache
from importlib import resources

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from tutela.access.gate import Actor
from tutela.audit import service as audit
from tutela.audit.service import Event
from tutela.breaches import people as person_data
from tutela.breaches.models import Breach, BreachPerson
from tutela.breaches.service import local, note, summary
from tutela.breaches.severity import reason
from tutela.breaches.steps import notifications
from tutela.breaches.words import number, word
from tutela.clock import utc_naive
from tutela.crypto.keyring import Keyring
from tutela.documents import pdf, templates
from tutela.jsonout import instant
from tutela.policy.schema import Policy
from tutela.policy.texts import Localised

__all__ = ["FORMATS", "draft", "render"]

FORMATS = {"json": "application/json", "html": "text/html; charset=utf-8", "pdf": "application/pdf"}
_BATCH = 1000


@cache
def eea_authorities() -> dict[str, dict[str, str]]:
    text = resources.files("tutela.breaches").joinpath("eea_authorities.yaml").read_text()
    return yaml.safe_load(text)


def countries(
    session: Session, keyring: Keyring, policy: Policy, actor: Actor, breach: Breach, at
) -> Counter:
    """How many people concerned live in each country (None: not known), read a batch at a
    time, each batch recorded in the trail before it is decrypted."""
    ids = list(
        session.scalars(select(BreachPerson.subject_id).where(BreachPerson.breach_id == breach.id))
    )
    counts: Counter = Counter()
    for start in range(0, len(ids), _BATCH):
        chunk = ids[start : start + _BATCH]
        event = Event(
            actor.name,
            "breach_countries",
            "done",
            categories=person_data.categories_of(policy, ["country"]),
            reason=f"Art. 33(3): the authorities concerned by breach {breach.id}",
            detail={"breach": breach.id},
            subjects=chunk,
        )
        audit.log(session, policy, at, event)
        found = person_data.details(session, keyring, policy, chunk, ["country"])
        counts.update(values.get("country") for values in found.values())
    return counts


def _authorities(policy: Policy, by_country: Counter, lang: str) -> list[dict]:
    """Each country's authority with its people: the policy's for the controller's country
    (the lead authority), the EEA's others, and the people outside the EEA or unplaced."""
    lead, known = policy.controller.country, eea_authorities()
    out = []
    for country, n in sorted(by_country.items(), key=lambda kv: (-kv[1], kv[0] or "")):
        entry = {"country": country, "people": n, "lead": country == lead}
        if country == lead:
            authority = policy.supervisory_authority
            entry |= {"authority": authority.name, "website": authority.website}
        elif country in known:
            entry |= {"authority": known[country]["name"], "website": known[country]["website"]}
        else:
            entry["authority"] = word("outside_eea" if country else "unknown_country", lang)
        out.append(entry)
    return out


def draft(
    *,
    session: Session,
    keyring: Keyring,
    policy: Policy,
    actor: Actor,
    breach: Breach,
    at: datetime,
    lang: str,
    delay_reason: str | None = None,
) -> dict:
    """The notification's content, in `lang`: the next phase's (initial, then follow-ups)."""
    facts = summary(session, keyring, policy, breach, at)
    t = Localised(policy, lang)
    done = notifications(session, breach)
    phase = len(done) + 1
    late = utc_naive(at) > breach.deadline_at and phase == 1
    assessment = breach.assessment or {}
    categories = []
    for name, counts in facts["by_category"].items():
        category = policy.category(name)
        label = t.of("categories", category, "name") if category else name
        meaning = policy.breaches.categories.get(name)  # None: gone from the policy since
        english = meaning.consequences if meaning else ""
        consequence = t.key(f"breaches.categories.{name}.consequences", english)
        categories.append({"id": name, "name": label, **counts, "consequences": consequence})
    dpo = policy.dpo
    return {
        "title": word("notification", lang),
        "breach": breach.id,
        "phase": phase,
        "phase_name": word("initial", lang) if phase == 1 else word("follow_up", lang, n=phase - 1),
        "previous": [
            {"phase": n.phase, "submitted_at": instant(n.submitted_at), "reference": n.reference}
            for n in done
        ],
        "controller": {
            "name": policy.controller.legal_name or policy.controller.name,
            "address": policy.controller.address,
            "email": policy.controller.email,
            "country": policy.controller.country,
        },
        "dpo": {"name": dpo.name, "email": dpo.email, "phone": dpo.phone, "address": dpo.address},
        "authorities": _authorities(
            policy, countries(session, keyring, policy, actor, breach, at), lang
        ),
        "aware_at": local(policy, breach.aware_at),
        "deadline": local(policy, breach.deadline_at),
        "deadline_hours": policy.breaches.authority_deadline_hours,
        "late": late,
        "delay_reason": delay_reason or (word("delay_missing", lang) if late else None),
        "natures": [word(n, lang) for n in breach.natures],
        "description": facts["description"],
        "categories": categories,
        "people": facts["people"],
        "records": facts["records"],
        "people_encrypted_only": assessment.get("people", 0) - assessment.get("people_readable", 0),
        "consequences": note(keyring, breach, "consequences"),
        "measures": note(keyring, breach, "measures") or word("not_given", lang),
        "severity": {
            "score": assessment.get("severity"),
            "level": word(assessment["level"], lang) if assessment else word("not_assessed", lang),
            "authority": _reason(assessment, "authority", lang),
        },
        "people_told": {
            "decision": _reason(assessment, "people", lang),
            "told_at": local(policy, breach.told_at) if breach.told_at else None,
            "how": word(breach.told_how, lang) if breach.told_how else None,
        },
        "policy_version": policy.version,
        "lang": lang,
    }


def _reason(assessment: dict, decision: str, lang: str) -> str | None:
    if not assessment:
        return None
    code, params = assessment["reasons"][decision]
    return reason(code, params, lang)


def render(content: dict, fmt: str) -> bytes:
    if fmt == "json":
        return json.dumps(content, ensure_ascii=False, indent=2).encode()
    page = templates("tutela.breaches").get_template("notification.html")
    lang = content["lang"]
    html = page.render(
        d=content, w=lambda key, **kw: word(key, lang, **kw), n=lambda x: number(x, lang)
    )
    return html.encode() if fmt == "html" else pdf(html)
