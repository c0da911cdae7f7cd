"""Listing people: only the kinds the caller's roles may read for some purpose, their
lifecycle dates (and deaths) only to roles that oversee, and every list audited, naming each
person listed, as a read is.

Who is in the store is itself personal data: a role that may read no one for any purpose
lists no one.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tutela.access.gate import Actor
from tutela.audit import service as audit
from tutela.audit.service import Event
from tutela.errors import Denied, InvalidInput
from tutela.policy.schema import Policy
from tutela.subjects.models import Subject
from tutela.subjects.schemas import Lifecycle, SubjectPage, SubjectSummary
from tutela.subjects.writer import LIFECYCLE

__all__ = ["external_ids", "list_people"]


def list_people(
    *,
    session: Session,
    policy: Policy,
    actor: Actor,
    kind: str | None,
    limit: int,
    offset: int,
    at: datetime,
) -> SubjectPage:
    """A page of people, in external id order; the list is recorded before it is given."""
    if kind is not None and policy.subject_kind(kind) is None:
        raise InvalidInput(f"unknown subject kind '{kind}'", location="kind")
    kinds = policy.listable_kinds(actor.roles)
    if kind is not None:
        kinds = frozenset({kind}) & kinds if kinds is not None else frozenset({kind})
    if kinds is not None and not kinds:
        reason = (
            f"no role of '{actor.name}' is granted a purpose for "
            f"{'a ' + kind if kind else 'anyone'}: there is no one it may list"
        )
        audit.log_apart(session, policy, at, Event(actor.name, "list", "denied", reason=reason))
        raise Denied(reason)
    where = [Subject.kind.in_(sorted(kinds))] if kinds is not None else []
    total = session.scalar(select(func.count()).select_from(Subject).where(*where)) or 0
    rows = session.scalars(
        select(Subject).where(*where).order_by(Subject.external_id).limit(limit).offset(offset)
    ).all()
    dated = policy.has_oversight(actor.roles)
    audit.log_apart(
        session,
        policy,
        at,
        Event(
            actor.name,
            "list",
            "allowed",
            detail={
                "kinds": sorted(kinds) if kinds is not None else "all",
                "offset": offset,
                "listed": len(rows),
                "lifecycle": dated,
            },
            subjects=[s.id for s in rows],
        ),
    )
    return SubjectPage(total=total, subjects=[_summary(s, dated=dated) for s in rows])


def external_ids(session: Session, subject_ids: Iterable[str | None]) -> dict[str, str]:
    """The external id of each subject still held, to name people as people type them in
    outputs that store internal ids (the trail, holds, reports); the erased are absent."""
    wanted = sorted({i for i in subject_ids if i})
    found: dict[str, str] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        found.update(
            session.execute(
                select(Subject.id, Subject.external_id).where(Subject.id.in_(chunk))
            ).all()
        )
    return found


def _summary(subject: Subject, *, dated: bool) -> SubjectSummary:
    lifecycle = Lifecycle(**{name: getattr(subject, name) for name in LIFECYCLE}) if dated else None
    return SubjectSummary(
        external_id=subject.external_id,
        kind=subject.kind,
        source=subject.source,
        created_at=subject.created_at,
        updated_at=subject.updated_at,
        lifecycle=lifecycle,
    )
