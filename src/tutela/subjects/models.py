"""People concerned and their personal data. Every value column holds ciphertext only."""

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from tutela.db import Base

__all__ = ["Connection", "Payment", "PersonalValue", "Subject"]


def _subject_fk() -> ForeignKey:
    return ForeignKey("subjects.id", ondelete="CASCADE")


class Subject(Base):
    """A client or prospect. Lifecycle dates are kept in clear: retention is computed from them."""

    __tablename__ = "subjects"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    external_id: Mapped[str] = mapped_column(String(128), unique=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    source: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    first_contact_at: Mapped[date | None] = mapped_column(Date)
    last_contact_at: Mapped[date | None] = mapped_column(Date)
    subscription_started_at: Mapped[date | None] = mapped_column(Date)
    subscription_ended_at: Mapped[date | None] = mapped_column(Date)
    last_connection_at: Mapped[date | None] = mapped_column(Date)
    last_transaction_at: Mapped[date | None] = mapped_column(Date)
    date_of_death: Mapped[date | None] = mapped_column(Date)


class PersonalValue(Base):
    """One field of one category of a subject, encrypted, with where it came from."""

    __tablename__ = "personal_data"
    __table_args__ = (
        UniqueConstraint("subject_id", "category", "field"),
        Index("ix_personal_data_blind_index", "blind_index"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_id: Mapped[str] = mapped_column(String(32), _subject_fk())
    category: Mapped[str] = mapped_column(String(64))
    field: Mapped[str] = mapped_column(String(64))
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    blind_index: Mapped[str | None] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(64))
    form: Mapped[str | None] = mapped_column(String(64))
    collected_at: Mapped[datetime] = mapped_column(DateTime)
    provided_by_subject: Mapped[bool] = mapped_column(Boolean)


class Connection(Base):
    """A connection log (technical data, §6.2): its time in clear, its details encrypted."""

    __tablename__ = "connections"
    __table_args__ = (Index("ix_connections_subject_at", "subject_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_id: Mapped[str] = mapped_column(String(32), _subject_fk())
    at: Mapped[datetime] = mapped_column(DateTime)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)


class Payment(Base):
    """Payment details of one transaction (banking data, §6.1), encrypted."""

    __tablename__ = "payments"
    __table_args__ = (Index("ix_payments_subject_at", "subject_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_id: Mapped[str] = mapped_column(String(32), _subject_fk())
    at: Mapped[datetime] = mapped_column(DateTime)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    retain_consent: Mapped[bool] = mapped_column(Boolean)
