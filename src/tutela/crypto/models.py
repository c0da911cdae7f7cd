"""Key material at rest: per-subject data keys and named keys, each wrapped by the master key."""

from datetime import datetime
from typing import ClassVar

from sqlalchemy import DateTime, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from tutela.db import Base

__all__ = ["DataKey", "MasterKeyRecord", "WrappedKey"]


class DataKey(Base):
    """A subject's AES-256 data key, wrapped. Deleting this row shreds every ciphertext of theirs."""

    __tablename__ = "data_keys"
    __table_args__: ClassVar = {"sqlite_with_rowid": False}

    subject_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("subjects.id", ondelete="CASCADE"), primary_key=True
    )
    wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    master_key_id: Mapped[str] = mapped_column(String(16))


class WrappedKey(Base):
    """A named service key (the blind-index key), wrapped by the master key."""

    __tablename__ = "wrapped_keys"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    master_key_id: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime)


class MasterKeyRecord(Base):
    """A master key as the store knows it: its public id and state, never its material.

    Exactly one is `active`: every process wraps new keys under it, and checks it before it
    does. During a rotation the previous one is `retiring`; it is `retired` once no wrapped
    key uses it any more.
    """

    __tablename__ = "master_keys"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))  # active, retiring, retired
    created_at: Mapped[datetime] = mapped_column(DateTime)
    retired_at: Mapped[datetime | None] = mapped_column(DateTime)
