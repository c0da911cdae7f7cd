"""What the DPO oversees under §8: disclosures to authorities, reports of improper access,
and the periodic review of who can reach what."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tutela.access.models import AccessReport, Disclosure
from tutela.access.service import active_key_count, list_principals
from tutela.audit.models import AuditEvent
from tutela.crypto.keyring import Keyring
from tutela.db import utc_naive
from tutela.errors import Conflict, InvalidInput, NotFound
from tutela.policy.schema import Policy
from tutela.subjects.listing import external_ids

__all__ = [
    "file_report",
    "list_disclosures",
    "list_reports",
    "record_disclosure",
    "resolve_report",
    "review",
]


def _known_categories(policy: Policy, categories: Sequence[str]) -> list[str]:
    for category in categories:
        if policy.category(category) is None:
            raise InvalidInput(f"unknown category '{category}'", location="categories")
    return sorted(set(categories))


def record_disclosure(
    *,
    session: Session,
    policy: Policy,
    authority: str,
    legal_basis: str,
    subject_id: str,
    categories: Sequence[str],
    reference: str | None,
    recorded_by: str,
    at: datetime,
) -> Disclosure:
    if not authority.strip() or not legal_basis.strip():
        raise InvalidInput("an authority and a legal basis are required")
    disclosure = Disclosure(
        at=utc_naive(at),
        authority=authority.strip(),
        legal_basis=legal_basis.strip(),
        reference=reference,
        subject_id=subject_id,
        categories=_known_categories(policy, categories),
        recorded_by=recorded_by,
    )
    session.add(disclosure)
    session.flush()
    return disclosure


def list_disclosures(*, session: Session, subject_id: str | None = None) -> list[Disclosure]:
    query = select(Disclosure).order_by(Disclosure.at)
    if subject_id:
        query = query.where(Disclosure.subject_id == subject_id)
    return list(session.scalars(query))


def file_report(
    *,
    session: Session,
    policy: Policy,
    keyring: Keyring,
    reporter: str,
    subject_id: str | None,
    categories: Sequence[str],
    description: str,
    at: datetime,
) -> AccessReport:
    if not description.strip():
        raise InvalidInput("describe the access you should not have", location="description")
    report = AccessReport(
        at=utc_naive(at),
        reporter=reporter,
        subject_id=subject_id,
        categories=_known_categories(policy, categories),
        description=b"",
        status="open",
    )
    session.add(report)
    session.flush()
    report.description = keyring.seal_note(description, label=f"access-report:{report.id}")
    return report


def resolve_report(
    *, session: Session, keyring: Keyring, report_id: int, resolution: str, at: datetime
) -> AccessReport:
    report = session.get(AccessReport, report_id)
    if report is None:
        raise NotFound(f"no access report {report_id}")
    if report.status == "resolved":
        raise Conflict(f"access report {report_id} is already resolved")
    report.status = "resolved"
    report.resolved_at = utc_naive(at)
    report.resolution = keyring.seal_note(resolution, label=f"access-resolution:{report.id}")
    return report


def list_reports(
    *, session: Session, keyring: Keyring, status: str | None = None
) -> list[dict[str, Any]]:
    query = select(AccessReport).order_by(AccessReport.at)
    if status:
        query = query.where(AccessReport.status == status)
    reports = session.scalars(query).all()
    named = external_ids(session, (r.subject_id for r in reports))
    return [
        {
            "id": r.id,
            "at": r.at,
            "reporter": r.reporter,
            "external_id": named.get(r.subject_id),
            "categories": r.categories,
            "description": keyring.open_note(r.description, label=f"access-report:{r.id}"),
            "status": r.status,
            "resolved_at": r.resolved_at,
            "resolution": keyring.open_note(r.resolution, label=f"access-resolution:{r.id}")
            if r.resolution
            else None,
        }
        for r in reports
    ]


def review(*, session: Session, policy: Policy, at: datetime) -> list[dict[str, Any]]:
    """Each principal's roles, reach and last use, with what needs the DPO's attention:
    principals past their departure date that still hold keys, and grants no read used for the
    policy's `access_review.unused_after_days`."""
    moment = utc_naive(at)
    unused_days = policy.access_review.unused_after_days
    since = moment - timedelta(days=unused_days)
    last_use = dict(
        session.execute(
            select(AuditEvent.principal, func.max(AuditEvent.at)).group_by(AuditEvent.principal)
        ).all()
    )
    recent_purposes: dict[str, set[str]] = {}
    recent = (
        select(AuditEvent.principal, AuditEvent.purpose)
        .where(
            AuditEvent.at >= since, AuditEvent.outcome == "allowed", AuditEvent.purpose.is_not(None)
        )
        .distinct()
    )
    for name, purpose in session.execute(recent):
        recent_purposes.setdefault(name, set()).add(purpose)
    rows = []
    for principal in list_principals(session=session):
        reach = {p: sorted(c) for p, c in policy.reach(principal.roles).items()}
        keys = active_key_count(session=session, principal=principal)
        flags = []
        departed = principal.active_until is not None and principal.active_until <= moment
        if departed and keys:
            flags.append(f"departed on {principal.active_until:%Y-%m-%d} but holds {keys} key(s)")
        unused = [p for p in reach if p not in recent_purposes.get(principal.name, set())]
        if unused and principal.created_at <= since:
            flags.append(f"grants unused for {unused_days} days: {', '.join(unused)}")
        rows.append(
            {
                "name": principal.name,
                "roles": list(principal.roles),
                "active_from": principal.active_from,
                "active_until": principal.active_until,
                "active_keys": keys,
                "reach": reach,
                "last_use": last_use.get(principal.name),
                "flags": flags,
            }
        )
    return rows
