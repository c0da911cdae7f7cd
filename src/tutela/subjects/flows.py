"""Work on subjects that spans domains: every path goes through the gate and the audit trail.

- read for a purpose: gate, audit (allowed or denied), then decrypt only what is allowed
  (`reading.audited_read`, the one way data is decrypted for someone);
- write records (API): gate for each record's categories, save, audit each change;
- import a file: save slice by slice, audit each slice with it;
- generate demo data: save, audit the operation;
- erase: shred, audit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tutela.access.gate import Actor, SubjectFacts, authorize, refusal_for_anyone
from tutela.audit import service as audit
from tutela.audit.service import Event
from tutela.crypto.keyring import Keyring
from tutela.db import Connected
from tutela.errors import Denied, InvalidInput, Unreadable
from tutela.policy.schema import Policy
from tutela.subjects import service
from tutela.subjects.facts import subject_facts
from tutela.subjects.importer import ImportReport, Slice, import_file
from tutela.subjects.reading import audited_read
from tutela.subjects.schemas import SubjectView
from tutela.subjects.validation import RecordRules, ValidRecord
from tutela.subjects.writer import Written

__all__ = ["import_subjects", "read_for_purpose", "save_batches", "write_records"]


def read_for_purpose(
    *,
    session: Connected,
    keyring: Keyring,
    policy: Policy,
    actor: Actor,
    external_id: str,
    purpose: str,
    categories: Sequence[str] | None = None,
    at: datetime,
) -> SubjectView:
    """What `actor` may see of one subject for `purpose`, every attempt audited.

    The person and the facts the purpose depends on are read once, decided once, and the
    decision recorded in one event, committed before anything is decrypted. A refusal that
    holds whoever the person is says why (Denied); one that depends on the person is
    answered as an unknown id is (Unreadable), and the trail keeps why.
    """
    anyone = refusal_for_anyone(
        policy=policy, actor=actor, purpose=purpose, categories=categories, at=at
    )
    if anyone:
        audit.log_apart(
            session, policy, at, Event(actor.name, "read", "denied", purpose=purpose, reason=anyone)
        )
        raise Denied(anyone)
    subject = service.lookup(session=session, external_id=external_id)
    if subject is None:
        reason = "unknown subject"
        audit.log_apart(
            session, policy, at, Event(actor.name, "read", "denied", purpose=purpose, reason=reason)
        )
        raise Unreadable(external_id, purpose, reason=reason)
    facts = subject_facts(session=session, policy=policy, ref=subject, purpose=purpose, at=at)
    read = audited_read(
        session=session,
        keyring=keyring,
        policy=policy,
        actor=actor,
        subject=subject,
        facts=facts,
        purpose=purpose,
        categories=categories,
        at=at,
    )
    if not read.decision.granted:
        raise Unreadable(external_id, purpose, reason=read.decision.reason)
    return SubjectView(
        external_id=subject.external_id,
        kind=subject.kind,
        purpose=purpose,
        data=read.data,
        provenance=read.provenance,
        withheld=read.decision.withheld,
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
    engine: Engine,
    keyring: Keyring,
    rules: RecordRules,
    actor: Actor,
    path: Path,
    fmt: str | None,
    skip_invalid: bool,
    workers: int | None,
    batch: int,
    at: datetime,
    progress: Callable[[int], None],
    checking: Callable[[int], None] = lambda _n: None,
) -> ImportReport:
    """Import a file as the operator, `batch` records per transaction; each transaction is
    audited as one event with the lines it covers and its counts, committed with them."""

    def audit_slice(session: Session, part: Slice) -> None:
        lines = [part.first_line, part.last_line] if part.first_line is not None else []
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
                    "lines": lines,
                    "read": part.report.read,
                    "created": part.report.created,
                    "updated": part.report.updated,
                    "invalid": len(part.report.invalid),
                },
            ),
        )

    return import_file(
        engine=engine,
        keyring=keyring,
        rules=rules,
        path=path,
        fmt=fmt,
        skip_invalid=skip_invalid,
        workers=workers,
        batch=batch,
        at=at,
        progress=progress,
        checking=checking,
        on_slice=audit_slice,
    )


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
