"""Legal holds, and the aggregate counts that survive anonymisation."""

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tutela.db import Base

__all__ = ["AnonymisedCount", "LegalHold"]


class LegalHold(Base):
    """Suspends deletion and anonymisation of a subject's categories (a debt, a dispute: §7)."""

    __tablename__ = "legal_holds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("subjects.id", ondelete="CASCADE"), index=True
    )
    categories: Mapped[list[str]] = mapped_column(JSON)  # empty: every category
    purpose: Mapped[str] = mapped_column(String(64))
    reference: Mapped[str] = mapped_column(String(200))  # a case number, never personal data
    placed_at: Mapped[datetime] = mapped_column(DateTime)
    placed_by: Mapped[str] = mapped_column(String(128))
    released_at: Mapped[datetime | None] = mapped_column(DateTime)
    released_by: Mapped[str | None] = mapped_column(String(128))


class AnonymisedCount(Base):
    """How many people an anonymisation removed, by kind, source, country and month of first
    contact:
    what §9 keeps "anonymously, primarily for statistical use". Nothing links back."""

    __tablename__ = "anonymised_counts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(64))
    country: Mapped[str] = mapped_column(String(7))  # ISO code, or "unknown"
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM of first contact, or "unknown"
    count: Mapped[int] = mapped_column(Integer)
