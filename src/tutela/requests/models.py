"""Rights requests. A request outlives the data it is about: it is the proof it was answered."""

from datetime import date, datetime

from sqlalchemy import Date, DateTime, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from tutela.db import Base

__all__ = ["PostMortemDirective", "RightsRequest"]


class RightsRequest(Base):
    __tablename__ = "rights_requests"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    type: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))
    # The person concerned, when known; no foreign key: erasure must not erase the request.
    subject_id: Mapped[str | None] = mapped_column(String(32), index=True)
    received_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date, index=True)
    extended_months: Mapped[int] = mapped_column(Integer, default=0)
    extension_reason: Mapped[str | None] = mapped_column(String(1000))
    status: Mapped[str] = mapped_column(String(16), index=True)  # open, verified, closed
    # Why the DPO should look at it (repeated requests, §10); never a refusal by itself.
    flag: Mapped[str | None] = mapped_column(String(1000))
    # What the request asks, beyond its type (a rectification's values, a post-mortem
    # directive): personal data, sealed, and dropped once the request is processed.
    changes: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    opened_by: Mapped[str] = mapped_column(String(128))


class PostMortemDirective(Base):
    """§16: what a person wants done with their data after their death. One per person; the
    designated person's address is sealed. No foreign key: it must outlive an erasure."""

    __tablename__ = "post_mortem_directives"

    subject_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    directive: Mapped[str] = mapped_column(String(16))  # keep, erase, communicate
    designate: Mapped[bytes | None] = mapped_column(LargeBinary)
    recorded_at: Mapped[datetime] = mapped_column(DateTime)
    request_id: Mapped[str] = mapped_column(String(32))
