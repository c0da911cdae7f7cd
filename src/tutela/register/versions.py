"""The store's policy versions (§24): the latest activated is the policy in force.

A store made before versions existed, or just created, has none: the policy file is in
force, and `tutela init` records it as the first version.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, inspect, select
from sqlalchemy.orm import Session

from tutela.db import session_scope, utc_naive
from tutela.register.models import PolicyVersion

__all__ = ["digest", "history", "in_force", "latest_seq", "record", "text_of"]


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def in_force(session: Session) -> PolicyVersion | None:
    return session.scalars(
        select(PolicyVersion).order_by(PolicyVersion.seq.desc()).limit(1)
    ).first()


def latest_seq(engine: Engine) -> tuple[int, str] | None:
    """(sequence, text) of the version in force, or None when the store holds none (or is
    not migrated yet: the file is then in force)."""
    if engine.dialect.name == "sqlite" and not _sqlite_file_exists(engine):
        return None  # nothing to read, and no empty file to leave behind
    with session_scope(engine, write=False) as session:
        if not inspect(session.connection()).has_table(PolicyVersion.__tablename__):
            return None
        row = session.execute(
            select(PolicyVersion.seq, PolicyVersion.text)
            .order_by(PolicyVersion.seq.desc())
            .limit(1)
        ).first()
        return (row[0], row[1]) if row else None


def _sqlite_file_exists(engine: Engine) -> bool:
    database = engine.url.database
    return not database or database == ":memory:" or Path(database).exists()


def history(session: Session) -> list[PolicyVersion]:
    return list(session.scalars(select(PolicyVersion).order_by(PolicyVersion.seq)))


def text_of(session: Session, version: str) -> str | None:
    return session.scalar(select(PolicyVersion.text).where(PolicyVersion.version == version))


def record(
    *, session: Session, version: str, text: str, by: str, at: datetime, reason: str | None
) -> PolicyVersion:
    row = PolicyVersion(
        version=version,
        digest=digest(text),
        text=text,
        activated_at=utc_naive(at),
        activated_by=by,
        reason=reason,
    )
    session.add(row)
    session.flush()
    return row
