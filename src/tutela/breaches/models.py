"""The breach register (Art. 33(5)) and the people each breach concerns."""

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from tutela.db import Base

__all__ = ["Breach", "BreachPerson"]


class Breach(Base):
    """One breach, notified or not. Its description is sealed like any confidential note."""

    __tablename__ = "breaches"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)  # B-2026-0001
    aware_at: Mapped[datetime] = mapped_column(DateTime)  # when the controller became aware
    deadline_at: Mapped[datetime] = mapped_column(DateTime)  # to notify the authority
    natures: Mapped[list[str]] = mapped_column(JSON)  # confidentiality, integrity, availability
    description: Mapped[bytes] = mapped_column(LargeBinary)  # sealed
    encrypted: Mapped[bool] = mapped_column(Boolean)  # only encrypted data, keys safe
    status: Mapped[str] = mapped_column(String(16), index=True)
    opened_at: Mapped[datetime] = mapped_column(DateTime)
    opened_by: Mapped[str] = mapped_column(String(128))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    warned_at: Mapped[datetime | None] = mapped_column(DateTime)  # the DPO told it nears
    overdue_told_at: Mapped[datetime | None] = mapped_column(DateTime)  # ... that it passed


class BreachPerson(Base):
    """A person a breach concerns, with the categories of their data it concerns."""

    __tablename__ = "breach_people"

    breach_id: Mapped[str] = mapped_column(
        String(16), ForeignKey("breaches.id", ondelete="CASCADE"), primary_key=True
    )
    subject_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    categories: Mapped[list[str]] = mapped_column(JSON)
    found_by: Mapped[str] = mapped_column(String(16))  # principal, category, list
    records: Mapped[dict[str, int]] = mapped_column(JSON)  # by category, held when scoped
