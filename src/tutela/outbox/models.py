"""Queued messages. Recipient and body are personal data (an address, a one-time code):
both are stored encrypted, and the body is dropped once the message is delivered."""

from datetime import datetime

from sqlalchemy import DateTime, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from tutela.db import Base

__all__ = ["OutboxMessage"]


class OutboxMessage(Base):
    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))  # email, webhook, callback
    recipient: Mapped[bytes] = mapped_column(LargeBinary)
    subject: Mapped[str] = mapped_column(String(200))  # a fixed title, never personal data
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
    # A file sent with an e-mail (the copy of an access answer): sealed, dropped once sent.
    attachment: Mapped[bytes | None] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16), index=True)  # pending, sending, sent, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    # What a message to a person is for (`breach:B-2026-1a2b3c`) and whom: its delivery is
    # then audited in that person's trail.
    tag: Mapped[str | None] = mapped_column(String(64))
    subject_id: Mapped[str | None] = mapped_column(String(32))
