"""Principals (staff, applications, external recipients) and their hashed API keys."""

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from tutela.db import Base

__all__ = ["AccessReport", "ApiKey", "Disclosure", "Principal"]


class Principal(Base):
    __tablename__ = "principals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    roles: Mapped[list[str]] = mapped_column(JSON)
    active_from: Mapped[datetime | None] = mapped_column(DateTime)
    active_until: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class ApiKey(Base):
    """Only the SHA-256 of a key is kept: keys are 256-bit random, so a fast hash suffices."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    principal_id: Mapped[int] = mapped_column(ForeignKey("principals.id", ondelete="CASCADE"))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)


class Disclosure(Base):
    """Personal data communicated to an authority legally entitled to it (§8)."""

    __tablename__ = "disclosures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    authority: Mapped[str] = mapped_column(String(200))
    legal_basis: Mapped[str] = mapped_column(String(1000))
    reference: Mapped[str | None] = mapped_column(String(200))
    subject_id: Mapped[str] = mapped_column(String(32), index=True)
    categories: Mapped[list[str]] = mapped_column(JSON)
    recorded_by: Mapped[str] = mapped_column(String(128))


class AccessReport(Base):
    """A principal's report of access it believes it should not have (§8). The description
    is free text, so it is stored encrypted under the notes key."""

    __tablename__ = "access_reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    reporter: Mapped[str] = mapped_column(String(128))
    subject_id: Mapped[str | None] = mapped_column(String(32))
    categories: Mapped[list[str]] = mapped_column(JSON)
    description: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime)
    resolution: Mapped[bytes | None] = mapped_column(LargeBinary)
