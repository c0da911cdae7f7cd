"""The breach register (Art. 33(5)) and the people each breach concerns."""

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from tutela.db import Base

__all__ = ["Breach", "BreachNotification", "BreachPerson"]


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
    assessment: Mapped[dict | None] = mapped_column(JSON)  # severity.Assessment, as a dict
    assessed_at: Mapped[datetime | None] = mapped_column(DateTime)
    measures: Mapped[bytes | None] = mapped_column(LargeBinary)  # sealed: taken or proposed
    consequences: Mapped[bytes | None] = mapped_column(LargeBinary)  # sealed: the DPO's words
    notified_at: Mapped[datetime | None] = mapped_column(DateTime)  # first notification
    told_at: Mapped[datetime | None] = mapped_column(DateTime)  # the people told (Art. 34)
    told_how: Mapped[str | None] = mapped_column(String(16))  # individually, publicly


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
    # The categories that leaked readable; the others only as ciphertexts, the keys safe
    # (a stolen backup: Art. 34(3)(a)). None for a breach scoped before this was recorded.
    readable: Mapped[list[str] | None] = mapped_column(JSON)
    message_id: Mapped[int | None] = mapped_column(Integer)  # their message in the outbox
    told_at: Mapped[datetime | None] = mapped_column(DateTime)


class BreachNotification(Base):
    """One notification to the supervisory authority: the initial one, then follow-ups as
    more is known (Art. 33(4)), each with the draft as submitted (sealed)."""

    __tablename__ = "breach_notifications"
    __table_args__ = (UniqueConstraint("breach_id", "phase"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    breach_id: Mapped[str] = mapped_column(
        String(16), ForeignKey("breaches.id", ondelete="CASCADE")
    )
    phase: Mapped[int] = mapped_column(Integer)  # 1: initial; then follow-ups
    submitted_at: Mapped[datetime] = mapped_column(DateTime)
    submitted_by: Mapped[str] = mapped_column(String(128))
    reference: Mapped[str | None] = mapped_column(String(128))  # the authority's
    delay_reason: Mapped[bytes | None] = mapped_column(LargeBinary)  # sealed (Art. 33(1))
    draft: Mapped[bytes] = mapped_column(LargeBinary)  # sealed JSON
