"""The copy given with an access or portability answer, made at export, once per export.

An access copy (Art. 15) gives the data held, archive included, with what applies to this
person now: the purposes their data serves (their kind, their consents, their objections,
the limits on their data, their death), where each value came from, who actually received it
(from the trail, the disclosures and the subprocessors) and which other recipients may, how
long each category is kept, their consents and their own access trail. A portability copy
(Art. 20) gives only the fields the decision names.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tutela.access.gate import Actor, SubjectFacts, authorize
from tutela.access.models import Principal
from tutela.access.recipients import OPERATOR, received
from tutela.audit import service as audit
from tutela.consent.service import history
from tutela.crypto.keyring import Keyring
from tutela.policy.schema import Policy
from tutela.requests.models import RightsRequest
from tutela.retention.ends import end_of
from tutela.subjects import service as subjects
from tutela.subjects.facts import subject_facts
from tutela.subjects.models import DataLimit
from tutela.subjects.reading import audited_read

__all__ = ["copy_for"]


def copy_for(
    *,
    session: Session,
    keyring: Keyring,
    policy: Policy,
    actor: Actor,
    request: RightsRequest,
    given: dict[str, list[str]],
    at: datetime,
    apart: bool = True,
) -> dict[str, Any]:
    """The copy of the data the answer gives (`given`: category -> fields, none meaning
    every field), read through the gate for the rights purpose as `actor`, audited as every
    read is (`apart` as for `audited_read`)."""
    subject = request.subject_id and subjects.get_by_id(
        session=session, subject_id=request.subject_id
    )
    if not subject or not given:
        return {"personal_data": {}}
    ref = subjects.lookup(session=session, external_id=subject.external_id)
    facts = subject_facts(session=session, policy=policy, ref=ref, purpose=None, at=at)
    read = audited_read(
        session=session,
        keyring=keyring,
        policy=policy,
        actor=actor,
        subject=ref,
        facts=facts,
        purpose=policy.rights_requests.purpose,
        categories=sorted(given),
        at=at,
        apart=apart,
        detail={"request": request.id},
    )
    read.decision.require()
    data, provenance = read.data, read.provenance
    if request.type == "portability":
        mine = {c: {f: v for f, v in data[c].items() if f in given[c]} for c in given if c in data}
        return {"personal_data": {c: v for c, v in mine.items() if v}}
    held = subjects.holdings(session=session, policy=policy, subject_id=ref.id)
    return {
        "personal_data": data,
        "provenance": provenance,
        "purposes": _purposes(policy, facts, set(held), at),
        "recipients": _recipients(session, policy, ref.id, facts.kind, set(held)),
        "retention": _retention(session, policy, facts, held, ref.id),
        "sources": _sources(policy, provenance),
        "consents": history(session=session, subject_id=ref.id),
        "access_trail": _trail(session, policy, ref.id),
    }


def _purposes(policy: Policy, facts: SubjectFacts, held: set[str], at: datetime) -> list[dict]:
    """The purposes this person's data serves now, through the same gate as every read."""
    serving = []
    for purpose in policy.purposes:
        decision = authorize(
            policy=policy,
            actor=Actor(OPERATOR, None),
            action="read",
            facts=facts,
            purpose=purpose.id,
            at=at,
        )
        used = sorted(held & set(decision.allowed))
        if decision.granted and used:
            serving.append(
                {
                    "purpose": purpose.name,
                    "id": purpose.id,
                    "legal_basis": purpose.legal_basis,
                    "categories": used,
                }
            )
    return serving


def _recipients(
    session: Session, policy: Policy, subject_id: str, kind: str, held: set[str]
) -> dict[str, list[dict]]:
    """Who received the data (by service, never by name of staff), and who else may."""
    got = received(session=session, policy=policy, subject_id=subject_id, kind=kind, held=held)
    names = {r.id for r in got}
    may = [
        {"name": r.name, "kind": r.kind}
        for r in policy.recipients
        if r.id not in names
        and any(
            held & set(g.categories)
            and any(kind in policy.purpose(p).subject_kinds for p in g.purposes)
            for g in r.grants
        )
    ]
    return {
        "received": [
            {"name": r.name, "kind": r.kind, "categories": sorted(r.categories)} for r in got
        ],
        "may_receive": may,
    }


def _retention(
    session: Session, policy: Policy, facts: SubjectFacts, held: dict, subject_id: str
) -> list[dict]:
    """Until when each category held is kept: the rules' end, or what an erasure kept."""
    kept = {
        limit.category: limit
        for limit in session.scalars(
            select(DataLimit).where(
                DataLimit.subject_id == subject_id, DataLimit.basis == "erasure"
            )
        )
    }
    rows = []
    for category, holding in sorted(held.items()):
        end = end_of(
            policy,
            category=category,
            kind=facts.kind,
            lifecycle=facts.lifecycle,
            latest=holding.latest,
        )
        row = {
            "category": category,
            "until": end.until.isoformat() if end and end.until else None,
            "period": end.period if end else None,
            "rule": end.rule if end else None,
        }
        if category in kept:
            row["kept_for"] = kept[category].grounds
        rows.append(row)
    return rows


def _sources(policy: Policy, provenance: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """What the person gave, what the business recorded when they used its forms, and what
    came from other sources (Art. 14, 15(1)(g))."""
    given: dict[str, list[str]] = {}
    recorded: dict[str, set[str]] = {}
    elsewhere: dict[str, set[str]] = {}
    for category, fields in provenance.items():
        for field, origin in fields.items():
            source = policy.source(origin["source"])
            name = source.name if source else origin["source"]
            if origin["provided_by_subject"]:
                given.setdefault(category, []).append(field)
            elif source is not None and source.provided_by_subject:
                recorded.setdefault(name, set()).add(category)
            else:
                elsewhere.setdefault(name, set()).add(category)
    return {
        "given_by_you": {c: sorted(f) for c, f in sorted(given.items())},
        "recorded_by_us": [
            {"during": n, "categories": sorted(c)} for n, c in sorted(recorded.items())
        ],
        "other_sources": [
            {"source": n, "categories": sorted(c)} for n, c in sorted(elsewhere.items())
        ],
    }


def _trail(session: Session, policy: Policy, subject_id: str) -> list[dict]:
    """The person's own trail: what was done, by which service and why; never staff names."""
    events = audit.events(session, subject_id=subject_id, limit=100_000)
    roles = dict(
        session.execute(
            select(Principal.name, Principal.roles).where(
                Principal.name.in_({e.principal for e in events})
            )
        ).all()
    )

    def by(principal: str) -> str:
        services = [r.name for role in roles.get(principal) or () if (r := policy.recipient(role))]
        return ", ".join(services) or policy.controller.name

    return [
        {
            "at": e.at.isoformat() + "Z",
            "action": e.action,
            "outcome": e.outcome,
            "by": by(e.principal),
            "purpose": e.purpose,
            "categories": e.categories.split(",") if e.categories else [],
        }
        for e in events
    ]
