"""Rights requests. A request outlives the data it is about: it is the proof it was answered."""

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, Date, DateTime, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from tutela.db import Base

__all__ = ["ENDED", "OPENGDPR_STATUS", "PostMortemDirective", "RequestStatus", "RightsRequest"]


class RequestStatus(StrEnum):
    OPEN = "open"  # received; the requester's identity is not verified yet
    VERIFIED = "verified"  # identity verified; to be decided
    ANSWERED = "answered"  # decided and carried out, or nothing was held
    REFUSED = "refused"  # refused with its reasons: the right did not apply, or Art. 12(5)
    CANCELLED = "cancelled"  # withdrawn by the person, or by the system that submitted it
    UNVERIFIED = "unverified"  # closed: the requester never proved their identity


ENDED = frozenset(
    {
        RequestStatus.ANSWERED,
        RequestStatus.REFUSED,
        RequestStatus.CANCELLED,
        RequestStatus.UNVERIFIED,
    }
)

# The four statuses of the OpenGDPR specification: a refusal completes a request, a request
# whose requester never proved their identity will not be fulfilled.
OPENGDPR_STATUS = {
    RequestStatus.OPEN: "pending",
    RequestStatus.VERIFIED: "in_progress",
    RequestStatus.ANSWERED: "completed",
    RequestStatus.REFUSED: "completed",
    RequestStatus.CANCELLED: "cancelled",
    RequestStatus.UNVERIFIED: "cancelled",
}


class RightsRequest(Base):
    __tablename__ = "rights_requests"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    type: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))
    # The person concerned, when known; no foreign key: erasure must not erase the request.
    subject_id: Mapped[str | None] = mapped_column(String(32), index=True)
    # Their id in the company's systems, kept with the request as the proof of its answer.
    external_id: Mapped[str | None] = mapped_column(String(128), index=True)
    received_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date, index=True)
    extended_months: Mapped[int] = mapped_column(Integer, default=0)
    extension_reason: Mapped[str | None] = mapped_column(String(1000))
    status: Mapped[str] = mapped_column(String(16), index=True)  # a RequestStatus
    # Why the DPO should look at it (repeated requests, §10); never a refusal by itself.
    flag: Mapped[str | None] = mapped_column(String(1000))
    # What the request asks, beyond its type (a rectification's values, a post-mortem
    # directive, the scopes of an objection): sealed, and dropped once the request ends.
    particulars: Mapped[bytes | None] = mapped_column(LargeBinary)
    # Where to answer a person Tutela holds nothing on (the address they wrote from): sealed,
    # and dropped once the request ends.
    contact: Mapped[bytes | None] = mapped_column(LargeBinary)
    # OpenGDPR: the URLs told of every change of status.
    callback_urls: Mapped[list[str] | None] = mapped_column(JSON)
    # The decision once the request ended: outcome, each category's action, ground and end,
    # what was done, the reasons and who was told. Never a personal value.
    answer: Mapped[dict | None] = mapped_column(JSON)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime)
    receipt_id: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    opened_by: Mapped[str] = mapped_column(String(128))

    @property
    def ended(self) -> bool:
        return self.status in ENDED


class PostMortemDirective(Base):
    """§16: what a person wants done with their data after their death. One per person; the
    designated person's address is sealed. No foreign key: it must outlive an erasure."""

    __tablename__ = "post_mortem_directives"

    subject_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    directive: Mapped[str] = mapped_column(String(16))  # keep, erase, communicate
    designate: Mapped[bytes | None] = mapped_column(LargeBinary)
    recorded_at: Mapped[datetime] = mapped_column(DateTime)
    request_id: Mapped[str] = mapped_column(String(32))
