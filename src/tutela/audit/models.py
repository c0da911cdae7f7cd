"""The audit trail: a keyed hash chain of events, and its head (the last link) for locking."""

from datetime import datetime

from sqlalchemy import JSON, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tutela.db import Base

__all__ = ["AuditEvent", "AuditEventSubject", "AuditHead"]


class AuditEvent(Base):
    """One access attempt or change. Never updated or deleted; holds no personal value.

    `seq` is assigned by the chain, not by the database, so a missing event leaves a gap.
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_subject", "subject_id"),
        # A principal's events in a window: `audit show --principal`, a breach's scope.
        Index("ix_audit_events_principal_at", "principal", "at"),
    )

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(DateTime)
    principal: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[str | None] = mapped_column(String(32))
    categories: Mapped[str] = mapped_column(String(500))
    # Text: the trail records what was asked and why it was refused, whatever their length.
    purpose: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    policy_version: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    # The master key whose chain key links this event (`audit.chain`).
    chain_key_id: Mapped[str | None] = mapped_column(String(16))


class AuditHead(Base):
    """The chain's last sequence number and hash. Appending locks this one row, so appends
    from several processes or threads serialise instead of forking the chain."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


class AuditEventSubject(Base):
    """Which subjects a bulk event concerns (a retention batch), to find it by subject.

    The event itself lists them in its hashed detail; this index only makes them findable.
    """

    __tablename__ = "audit_event_subjects"
    __table_args__ = ({"sqlite_with_rowid": False},)

    subject_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
