"""The consent ledger: one row per consent given, closed when withdrawn or expired."""

from datetime import datetime
from typing import ClassVar

from sqlalchemy import DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tutela.db import Base

__all__ = ["ChoiceProof", "Consent", "Objection", "Suppression"]


class Consent(Base):
    __tablename__ = "consents"
    __table_args__: ClassVar = {"sqlite_with_rowid": False}

    subject_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("subjects.id", ondelete="CASCADE"), primary_key=True
    )
    purpose: Mapped[str] = mapped_column(String(64), primary_key=True)
    given_at: Mapped[datetime] = mapped_column(DateTime, primary_key=True)
    channel: Mapped[str | None] = mapped_column(String(64))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime)


class Objection(Base):
    """An objection to prospecting or profiling (§12, §15): it refuses the purposes the
    policy marks with its scope, whatever their legal basis, until withdrawn."""

    __tablename__ = "objections"
    __table_args__: ClassVar = {"sqlite_with_rowid": False}

    subject_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("subjects.id", ondelete="CASCADE"), primary_key=True
    )
    scope: Mapped[str] = mapped_column(String(32), primary_key=True)
    made_at: Mapped[datetime] = mapped_column(DateTime, primary_key=True)
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime)


class Suppression(Base):
    """Blind indexes of people who objected or were erased: data about them bought or
    researched later is not imported (§5.3, §12). A keyed digest, never the value."""

    __tablename__ = "suppression_list"

    blind_index: Mapped[str] = mapped_column(String(32), primary_key=True)
    reason: Mapped[str] = mapped_column(String(32))  # objection, erasure
    added_at: Mapped[datetime] = mapped_column(DateTime)


class ChoiceProof(Base):
    """A browser's proof that its user holds a person's e-mail address, to manage that
    person's consents and objections on the portal: a one-time code e-mailed to the address
    (kept as a keyed digest), then a short grant. Known by the hash of its cookie only; an
    address nobody or several people hold names nobody, and never proves anything."""

    __tablename__ = "choice_proofs"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    subject_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("subjects.id", ondelete="CASCADE"), index=True
    )
    code_digest: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)  # the code's, then the grant's
    proved_at: Mapped[datetime | None] = mapped_column(DateTime)
