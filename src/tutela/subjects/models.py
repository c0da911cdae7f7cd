"""People concerned and their personal data. Every value column holds ciphertext only."""

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from tutela.db import Base

__all__ = ["Connection", "DataLimit", "ErasureReceipt", "Payment", "PersonalValue", "Subject"]


def _subject_fk() -> ForeignKey:
    return ForeignKey("subjects.id", ondelete="CASCADE")


# Subject-owned tables are clustered on their natural key, which starts with the subject id:
# on SQLite (WITHOUT ROWID) one B-tree per table, appended to in id order; on PostgreSQL the
# same primary keys shard by subject.
CLUSTERED = {"sqlite_with_rowid": False}


class Subject(Base):
    """A client or prospect. Lifecycle dates are kept in clear: retention is computed from them."""

    __tablename__ = "subjects"
    __table_args__ = CLUSTERED

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    external_id: Mapped[str] = mapped_column(String(128), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
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
    # When the limits on the person's data (`DataLimit`) last changed; None: no limit. Reads
    # look the limits up only when it is set, and notice when it changed under them.
    limited_at: Mapped[datetime | None] = mapped_column(DateTime)


class PersonalValue(Base):
    """One field of one category of a subject, encrypted, with where it came from."""

    __tablename__ = "personal_data"
    __table_args__ = (
        # Most values are not indexed: a partial index stays small and cheap to insert into.
        Index(
            "ix_personal_data_blind_index",
            "blind_index",
            sqlite_where=text("blind_index IS NOT NULL"),
            postgresql_where=text("blind_index IS NOT NULL"),
        ),
        CLUSTERED,
    )

    subject_id: Mapped[str] = mapped_column(String(32), _subject_fk(), primary_key=True)
    category: Mapped[str] = mapped_column(String(64), primary_key=True)
    field: Mapped[str] = mapped_column(String(64), primary_key=True)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    blind_index: Mapped[str | None] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(64))
    form: Mapped[str | None] = mapped_column(String(64))
    collected_at: Mapped[datetime] = mapped_column(DateTime)
    provided_by_subject: Mapped[bool] = mapped_column(Boolean)
    # Set when the value moves to the intermediate archive (§9): from then on only archive
    # purposes of roles with archive access read it.
    archived_at: Mapped[datetime | None] = mapped_column(DateTime)


class Connection(Base):
    """A connection log (technical data, §6.2): its time in clear, its details encrypted."""

    __tablename__ = "connections"
    __table_args__ = CLUSTERED

    subject_id: Mapped[str] = mapped_column(String(32), _subject_fk(), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, primary_key=True)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)


class Payment(Base):
    """Payment details of one transaction (banking data, §6.1), encrypted."""

    __tablename__ = "payments"
    __table_args__ = CLUSTERED

    subject_id: Mapped[str] = mapped_column(String(32), _subject_fk(), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, primary_key=True)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    retain_consent: Mapped[bool] = mapped_column(Boolean)
    archived_at: Mapped[datetime | None] = mapped_column(DateTime)


class DataLimit(Base):
    """Part of a person's data serves only some grounds: a restriction (Art. 18), or what an
    erasure request kept, for a legal obligation, legal claims, a running contract or a legal
    hold. `category` is a policy category, or `*` for every one."""

    __tablename__ = "data_limits"
    __table_args__ = CLUSTERED

    subject_id: Mapped[str] = mapped_column(String(32), _subject_fk(), primary_key=True)
    category: Mapped[str] = mapped_column(String(64), primary_key=True)
    basis: Mapped[str] = mapped_column(String(16), primary_key=True)  # restriction, erasure
    grounds: Mapped[list[str]] = mapped_column(JSON)
    until: Mapped[date | None] = mapped_column(Date)  # when the rules end it; None: not known
    request_id: Mapped[str | None] = mapped_column(String(32))
    since: Mapped[datetime] = mapped_column(DateTime)


class ErasureReceipt(Base):
    """The proof of an erasure, by request or by retention: what was erased (categories and
    counts), what was kept and until when, the data keys destroyed, the trail events that
    record it and the policy version. It holds no personal value, and no foreign key: it
    outlives the person."""

    __tablename__ = "erasure_receipts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    request_id: Mapped[str | None] = mapped_column(String(32), index=True)
    rule: Mapped[str | None] = mapped_column(String(64))
    policy_version: Mapped[str] = mapped_column(String(32))
    body: Mapped[dict] = mapped_column(JSON)
