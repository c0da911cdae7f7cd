"""Reading a subject for a declared purpose: gate, then decrypt only what the gate allows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from tutela.access.gate import authorize
from tutela.consent.service import active_purposes
from tutela.crypto.keyring import Keyring
from tutela.db import utc_naive
from tutela.policy.schema import Policy
from tutela.subjects import service
from tutela.subjects.schemas import SubjectView

__all__ = ["read_for_purpose"]


def read_for_purpose(
    *,
    session: Session,
    keyring: Keyring,
    policy: Policy,
    external_id: str,
    purpose: str,
    roles: Sequence[str] | None,
    categories: Sequence[str] | None = None,
    at: datetime,
) -> SubjectView:
    subject = service.get(session=session, external_id=external_id)
    decision = authorize(
        policy=policy,
        roles=roles,
        subject_kind=subject.kind,
        purpose=purpose,
        categories=categories,
        consented_purposes=active_purposes(
            session=session, subject_id=subject.id, at=utc_naive(at)
        ),
    ).require()
    data, provenance = service.read(
        session=session,
        keyring=keyring,
        policy=policy,
        subject=subject,
        categories=decision.allowed,
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
