"""Reading the consent ledger."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from tutela.consent.models import Consent

__all__ = ["active_purposes"]


def active_purposes(*, session: Session, subject_id: str, at: datetime) -> set[str]:
    """Purposes the subject has a consent for that is given, not withdrawn and not expired at `at`."""
    rows = session.scalars(
        select(Consent.purpose).where(
            Consent.subject_id == subject_id,
            Consent.given_at <= at,
            or_(Consent.withdrawn_at.is_(None), Consent.withdrawn_at > at),
            or_(Consent.expires_at.is_(None), Consent.expires_at > at),
        )
    )
    return set(rows)
