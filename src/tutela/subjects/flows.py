"""Work on subjects that spans domains: every path goes through the gate and the audit trail.

- read for a purpose: gate, audit (allowed or denied), then decrypt only what is allowed;
- write records (API): gate for each record's categories, save, audit each change;
- import a file and generate demo data: save, audit the operation;
- erase: shred, audit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from tutela.access.gate import Actor, SubjectFacts, authorize
from tutela.audit import service as audit
from tutela.audit.service import Event
from tutela.crypto.keyring import Keyring
from tutela.errors import Denied, InvalidInput, NotFound
from tutela.policy.schema import Policy
from tutela.subjects import service
from tutela.subjects.facts import subject_facts
from tutela.subjects.importer import ImportReport, import_file
from tutela.subjects.schemas import SubjectView
from tutela.subjects.validation import RecordRules, ValidRecord
from tutela.subjects.writer import Written

__all__ = ["import_subjects", "read_for_purpose", "save_batches", "write_records"]


def read_for_purpose(
    *,
    session: Session,
    keyring: Keyring,
    policy: Policy,
    actor: Actor,
    external_id: str,
    purpose: str,
    categories: Sequence[str] | None = None,
    at: datetime,
    _again: bool = True,
) -> SubjectView:
    """What `actor` may see of one subject for `purpose`; every attempt is audited.

    The event is committed before anything is decrypted, and the read goes on in a fresh
    snapshot: if the subject changed meanwhile (limited, erased, a consent withdrawn),
    the read is decided again on what is now true.
    """
    subject = service.lookup(session=session, external_id=external_id)
    if subject is None:
        audit.log_apart(
            session,
            policy,
            at,
            Event(actor.name, "read", "denied", purpose=purpose, reason="unknown subject"),
        )
        raise NotFound(f"no subject with external id '{external_id}'")
    facts = subject_facts(session=session, policy=policy, ref=subject, purpose=purpose, at=at)
    decision = authorize(
        policy=policy,
        actor=actor,
        action="read",
        facts=facts,
        purpose=purpose,
        categories=categories,
        at=at,
    )
    audit.log_apart(  # recorded, and committed, before anything is decrypted
        session,
        policy,
        at,
        Event(
            actor.name,
            "read",
            "allowed" if decision.granted else "denied",
            subject_id=subject.id,
            categories=decision.allowed,
            purpose=purpose,
            reason=decision.reason,
            detail={"withheld": sorted(decision.withheld)} if decision.withheld else {},
        ),
    )
    decision.require()
    again = service.lookup(session=session, external_id=external_id)
    if again != subject or (
        subject_facts(session=session, policy=policy, ref=again, purpose=purpose, at=at) != facts
    ):
        if not _again:
            reason = "the subject's data changed during the read; try again"
            audit.log_apart(
                session,
                policy,
                at,
                Event(
                    actor.name,
                    "read",
                    "denied",
                    subject_id=subject.id,
                    purpose=purpose,
                    reason=reason,
                ),
            )
            raise Denied(reason)
        return read_for_purpose(
            session=session,
            keyring=keyring,
            policy=policy,
            actor=actor,
            external_id=external_id,
            purpose=purpose,
            categories=categories,
            at=at,
            _again=False,
        )
    data, provenance = service.read(
        session=session,
        cipher=keyring.cipher_for(subject.id, subject.wrapped_key),
        policy=policy,
        categories=decision.allowed,
        archived=decision.archive,
    )
    return SubjectView(
        id=subject.id,
        external_id=subject.external_id,
        kind=subject.kind,
        purpose=purpose,
        data=data,
        provenance=provenance,
        withheld=decision.withheld,
    )


def _categories_of(record: ValidRecord, policy: Policy) -> list[str]:
    names = {category for category, *_ in record.values}
    stored = service.storage_categories(policy)
    if record.connections:
        names.add(stored["connections"])
    if record.payments:
        names.add(stored["payments"])
    return sorted(names)


def write_records(
    *,
    session: Session,
    keyring: Keyring,
    rules: RecordRules,
    actor: Actor,
    records: Sequence[ValidRecord],
    at: datetime,
) -> list[Written]:
    """Create or update subjects on behalf of `actor`; each change is audited."""
    policy = rules.policy
    categories = {r.external_id: _categories_of(r, policy) for r in records}
    for record in records:
        decision = authorize(
            policy=policy,
            actor=actor,
            action="write",
            facts=SubjectFacts(kind=record.kind),
            purpose=None,
            categories=categories[record.external_id],
            at=at,
        )
        if not decision.granted:
            audit.log_apart(
                session,
                policy,
                at,
                Event(
                    actor.name,
                    "write",
                    "denied",
                    categories=sorted(decision.withheld),
                    reason=decision.reason,
                ),
            )
            decision.require()
    written, refused = service.save(
        session=session, keyring=keyring, rules=rules, records=records, at=at
    )
    if refused:
        _, location, problem = refused[0]
        raise InvalidInput(problem, location=location)
    audit.log(
        session,
        policy,
        at,
        *(
            Event(
                actor.name,
                "create" if w.created else "update",
                "done",
                subject_id=w.id,
                categories=categories[w.external_id],
            )
            for w in written
        ),
    )
    return written


def import_subjects(
    *,
    session: Session,
    keyring: Keyring,
    rules: RecordRules,
    actor: Actor,
    path: Path,
    fmt: str | None,
    skip_invalid: bool,
    workers: int | None,
    at: datetime,
    progress: Callable[[int], None],
) -> ImportReport:
    """Import a file as the operator; the import is audited as one event with its counts."""
    report = import_file(
        session=session,
        keyring=keyring,
        rules=rules,
        path=path,
        fmt=fmt,
        skip_invalid=skip_invalid,
        workers=workers,
        at=at,
        progress=progress,
    )
    audit.log(
        session,
        rules.policy,
        at,
        Event(
            actor.name,
            "import",
            "done",
            detail={
                "file": path.name,
                "read": report.read,
                "created": report.created,
                "updated": report.updated,
                "invalid": len(report.invalid),
            },
        ),
    )
    return report


def save_batches(
    *,
    session: Session,
    keyring: Keyring,
    rules: RecordRules,
    actor: Actor,
    batches: Iterable[Sequence[ValidRecord]],
    action: str,
    at: datetime,
    progress: Callable[[int], None],
) -> dict[str, int]:
    """Save generated records (demo data) in batches; audited as one event with its counts."""
    totals = {"created": 0, "updated": 0}
    for batch in batches:
        written, _ = service.save(
            session=session, keyring=keyring, rules=rules, records=batch, at=at
        )
        totals["created"] += sum(w.created for w in written)
        totals["updated"] += sum(not w.created for w in written)
        progress(len(batch))
    audit.log(session, rules.policy, at, Event(actor.name, action, "done", detail=dict(totals)))
    return totals
