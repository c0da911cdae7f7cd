"""Audit events as `audit show` and the console list them: people named by external id
(None once erased), categories as a list."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from tutela.audit.models import AuditEvent
from tutela.subjects.listing import external_ids

__all__ = ["as_rows"]


def as_rows(session: Session, found: Sequence[AuditEvent]) -> list[dict]:
    named = external_ids(session, (e.subject_id for e in found))
    return [
        {
            "seq": e.seq,
            "at": e.at,
            "principal": e.principal,
            "action": e.action,
            "external_id": named.get(e.subject_id),  # None once the person is erased
            "subject_id": e.subject_id,
            "categories": e.categories.split(",") if e.categories else [],
            "purpose": e.purpose,
            "outcome": e.outcome,
            "reason": e.reason,
            "policy_version": e.policy_version,
            "detail": e.detail,
        }
        for e in found
    ]
