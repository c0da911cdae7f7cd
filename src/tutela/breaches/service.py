"""Recording a breach, scoping it from the data, and its deadline (§21, Art. 33).

The scope is exact: by principal and window it is the people whose data that principal read
then, and the categories it read, from the trail; by category, everyone holding that
category; or a list of people. Each is stored with the records of those categories held for
them when scoped, the counts Art. 33(3)(a) asks for.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tutela.access.gate import Actor
from tutela.audit import service as audit
from tutela.audit.models import AuditEvent
from tutela.audit.service import Event
from tutela.breaches.models import Breach, BreachPerson
from tutela.clock import utc_naive
from tutela.crypto.keyring import Keyring
from tutela.errors import Conflict, Denied, InvalidInput, NotFound
from tutela.policy.schema import Policy
from tutela.subjects.models import Connection, Payment, PersonalValue, Subject

__all__ = [
    "NATURES",
    "clock_runs",
    "every",
    "exposed",
    "get",
    "local",
    "open_breach",
    "readable",
    "scope",
    "summary",
]

NATURES = ("confidentiality", "integrity", "availability")  # the three of the EDPB's guidelines


def _settings(policy: Policy):
    if policy.breaches is None:
        raise Denied("the policy declares no breach handling (`breaches`)")
    return policy.breaches


def note_label(breach_id: str, name: str) -> str:
    """What a sealed text of a breach (description, measures...) is bound to."""
    return f"breach:{breach_id}:{name}"


def note(keyring: Keyring, breach: Breach, name: str) -> str | None:
    """A sealed text of the breach, opened; None if it has none."""
    blob = getattr(breach, name)
    return keyring.open_note(blob, label=note_label(breach.id, name)) if blob else None


def open_breach(
    *,
    session: Session,
    keyring: Keyring,
    policy: Policy,
    actor: Actor,
    aware_at: datetime,
    natures: list[str],
    description: str,
    encrypted: bool,
    at: datetime,
) -> Breach:
    settings = _settings(policy)
    wrong = sorted(set(natures) - set(NATURES))
    if not natures or wrong:
        raise InvalidInput(f"expected one or more of: {', '.join(NATURES)}", location="nature")
    if aware_at.tzinfo is None:
        raise InvalidInput(
            "expected a time with its offset (2026-12-04T09:30+01:00)", location="aware_at"
        )
    if aware_at > at:
        raise InvalidInput("must not be in the future", location="aware_at")
    if not description.strip() or len(description) > 10_000:
        raise InvalidInput("expected 1 to 10,000 characters", location="description")
    breach = Breach(
        id=f"B-{aware_at.astimezone(ZoneInfo(settings.time_zone)).year}-{secrets.token_hex(3)}",
        aware_at=utc_naive(aware_at),
        deadline_at=utc_naive(aware_at + timedelta(hours=settings.authority_deadline_hours)),
        natures=sorted(set(natures)),
        description=b"",
        encrypted=encrypted,
        status="open",
        opened_at=utc_naive(at),
        opened_by=actor.name,
    )
    breach.description = keyring.seal_note(
        description.strip(), label=note_label(breach.id, "description")
    )
    session.add(breach)
    session.flush()
    detail = {"breach": breach.id, "natures": breach.natures, "encrypted": encrypted}
    audit.log(session, policy, at, Event(actor.name, "breach_open", "done", detail=detail))
    return breach


def every(session: Session) -> list[Breach]:
    """Every breach, in the order the controller became aware of them."""
    return list(session.scalars(select(Breach).order_by(Breach.aware_at, Breach.id)))


def get(session: Session, breach_id: str) -> Breach:
    breach = session.get(Breach, breach_id)
    if breach is None:
        raise NotFound(f"no breach {breach_id}")
    return breach


def local(policy: Policy, moment: datetime) -> str:
    """A stored (naive UTC) time in the policy's time zone, with its offset."""
    zone = ZoneInfo(_settings(policy).time_zone)
    return moment.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone).isoformat(timespec="minutes")


def clock_runs(breach: Breach) -> bool:
    """Whether the authority still awaits this breach's notification: none submitted yet,
    and not assessed (afresh) as unlikely to result in a risk."""
    if breach.status == "closed" or breach.notified_at is not None:
        return False
    done = breach.assessment
    return done is None or done.get("stale", False) or done["notify_authority"]


def summary(
    session: Session, keyring: Keyring | None, policy: Policy, breach: Breach, at: datetime
) -> dict:
    """What `breaches list` and `show` say of a breach: its clock in UTC and local time, the
    people and records concerned by category (and, with a keyring, the description)."""
    left = breach.deadline_at - utc_naive(at)
    counts: dict[str, dict[str, int]] = defaultdict(lambda: {"people": 0, "records": 0})
    people = session.scalars(select(BreachPerson).where(BreachPerson.breach_id == breach.id)).all()
    for person in people:
        for category in person.categories:
            counts[category]["people"] += 1
            counts[category]["records"] += person.records.get(category, 0)
    records = sum(c["records"] for c in counts.values())
    out = {
        "id": breach.id,
        "status": breach.status,
        "natures": breach.natures,
        "encrypted": breach.encrypted,
        "aware_at": breach.aware_at,
        "deadline_at": breach.deadline_at,
        "deadline_local": local(policy, breach.deadline_at),
        "hours_left": round(left.total_seconds() / 3600, 1) if clock_runs(breach) else None,
        "overdue": clock_runs(breach) and left.total_seconds() < 0,
        "people": len(people),
        "records": records,
        "by_category": dict(sorted(counts.items())),
        "opened_by": breach.opened_by,
        "closed_at": breach.closed_at,
        "level": (breach.assessment or {}).get("level"),
    }
    if keyring is not None:
        out["description"] = note(keyring, breach, "description")
    return out


def scope(
    *,
    session: Session,
    policy: Policy,
    actor: Actor,
    breach: Breach,
    at: datetime,
    principal: str | None = None,
    window: tuple[datetime, datetime] | None = None,
    category: str | None = None,
    kind: str | None = None,
    subject_ids: Iterable[str] | None = None,
    encrypted: bool = False,
) -> dict[str, list[str]]:
    """Record the people the breach concerns (subject id -> categories), found one way.

    What a principal read through the gate leaked readable; a category or a list leaked
    only as ciphertexts when the breach or this scope says so (a stolen backup, keys safe)."""
    if breach.status == "closed":
        raise Conflict(f"breach {breach.id} is closed")
    if principal is not None:
        if window is None or window[0] >= window[1]:
            raise InvalidInput("expected a window: --from before --until", location="from")
        found, how = read_by(session, principal, window), "principal"
    elif category is not None:
        if policy.category(category) is None:
            raise InvalidInput(f"unknown category '{category}'", location="category")
        found, how = holding(session, policy, category, kind), "category"
    elif subject_ids is not None:  # every category held for each of them
        listed = {sid: [c.id for c in policy.categories] for sid in subject_ids}
        held = _records(session, policy, listed)
        found, how = {sid: sorted(held.get(sid, {})) for sid in listed}, "list"
    else:
        raise InvalidInput(
            "scope by principal and window, by category, or by a list", location="scope"
        )
    ciphertexts = how != "principal" and (encrypted or breach.encrypted)
    records = _records(session, policy, found)
    # A category given to the principal but empty for this person disclosed nothing of them.
    found = {sid: [c for c in cats if records[sid].get(c)] for sid, cats in found.items()}
    found = {sid: cats for sid, cats in found.items() if cats}
    for subject_id, categories in found.items():
        row = session.get(BreachPerson, (breach.id, subject_id))
        if row is None:
            row = BreachPerson(
                breach_id=breach.id,
                subject_id=subject_id,
                categories=[],
                found_by=how,
                records=0,
                readable=[],
            )
            session.add(row)
        leaked = set(row.readable or []) | (set() if ciphertexts else set(categories))
        row.readable = sorted(leaked)  # readable once, readable
        row.categories = sorted(set(row.categories) | set(categories))
        row.records = {c: records[subject_id].get(c, 0) for c in row.categories}
    if breach.assessment is not None and found:  # assessed on fewer facts: assess again
        breach.assessment = {**breach.assessment, "stale": True}
    session.flush()
    event = Event(
        actor.name,
        "breach_scope",
        "done",
        categories=sorted({c for cats in found.values() for c in cats}),
        detail={"breach": breach.id, "by": how, "people": len(found), "encrypted": ciphertexts},
        subjects=sorted(found),
    )
    audit.log(session, policy, at, event)
    return found


def readable(breach: Breach, person: BreachPerson) -> list[str]:
    """The categories of the person's data that leaked readable."""
    if person.readable is not None:
        return person.readable
    return [] if breach.encrypted else person.categories


def exposed(breach: Breach, person: BreachPerson) -> list[str]:
    """The categories of the person's data the breach puts at risk. Encryption keeps data
    confidential (Art. 34(3)(a)); it does not keep it intact or available."""
    if set(breach.natures) == {"confidentiality"}:
        return readable(breach, person)
    return person.categories


def read_by(
    session: Session, principal: str, window: tuple[datetime, datetime]
) -> dict[str, list[str]]:
    """The people whose data `principal` read within the window, and what it read: the
    allowed reads of the trail (a refused read disclosed nothing)."""
    start, end = utc_naive(window[0]), utc_naive(window[1])
    rows = session.execute(
        select(AuditEvent.subject_id, AuditEvent.categories).where(
            AuditEvent.principal == principal,
            AuditEvent.at >= start,
            AuditEvent.at < end,
            AuditEvent.action == "read",
            AuditEvent.outcome == "allowed",
            AuditEvent.subject_id.is_not(None),
        )
    )
    found: dict[str, set[str]] = defaultdict(set)
    for subject_id, categories in rows:
        found[subject_id] |= set(filter(None, categories.split(",")))
    return {sid: sorted(cats) for sid, cats in found.items() if cats}


def holding(
    session: Session, policy: Policy, category: str, kind: str | None
) -> dict[str, list[str]]:
    """Everyone holding data of the category (of the kind, when given), now."""
    storage = policy.category(category).storage
    table = {"record": PersonalValue, "connections": Connection, "payments": Payment}[storage]
    query = select(table.subject_id).distinct()
    if storage == "record":
        query = query.where(PersonalValue.category == category)
    if kind is not None:
        query = query.join(Subject, Subject.id == table.subject_id).where(Subject.kind == kind)
    return {sid: [category] for sid in session.scalars(query)}


def _records(
    session: Session, policy: Policy, found: dict[str, list[str]]
) -> dict[str, dict[str, int]]:
    """For each person, the records held of each category (field values, connections,
    payments), to count what the breach concerns."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    owners = {c.storage: c.id for c in policy.categories if c.storage != "record"}
    ids = sorted(found)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        values = session.execute(
            select(PersonalValue.subject_id, PersonalValue.category, func.count())
            .where(PersonalValue.subject_id.in_(chunk))
            .group_by(PersonalValue.subject_id, PersonalValue.category)
        )
        for sid, category, n in values:
            counts[sid][category] += n
        for storage, table in (("connections", Connection), ("payments", Payment)):
            if storage not in owners:
                continue
            rows = session.execute(
                select(table.subject_id, func.count())
                .where(table.subject_id.in_(chunk))
                .group_by(table.subject_id)
            )
            for sid, n in rows:
                counts[sid][owners[storage]] += n
    return counts
