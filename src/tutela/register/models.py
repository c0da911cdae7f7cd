"""The policy versions activated in this store (§24), each with its text and its hash."""

from datetime import datetime

from sqlalchemy import DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tutela.db import Base

__all__ = ["PolicyNotice", "PolicyVersion"]


class PolicyVersion(Base):
    """One activation: the latest is the policy in force. The text holds no personal data."""

    __tablename__ = "policy_versions"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[str] = mapped_column(String(32), unique=True)  # as in the trail
    digest: Mapped[str] = mapped_column(String(64))  # SHA-256 of the text
    text: Mapped[str] = mapped_column(Text)
    activated_at: Mapped[datetime] = mapped_column(DateTime)
    activated_by: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str | None] = mapped_column(Text)  # required to weaken security (§20)


class PolicyNotice(Base):
    """The people a new purpose concerns are told of it (Art. 13(3)): one job per purpose of
    an activated version, carried out by the worker a batch of people at a time."""

    __tablename__ = "policy_notices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[str] = mapped_column(String(32))
    purpose: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), index=True)  # pending, done
    after_subject: Mapped[str | None] = mapped_column(String(32))  # where the next batch starts
    queued: Mapped[int] = mapped_column(Integer, default=0)  # e-mails queued so far
    created_at: Mapped[datetime] = mapped_column(DateTime)
    done_at: Mapped[datetime | None] = mapped_column(DateTime)
