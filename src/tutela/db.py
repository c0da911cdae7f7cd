"""Engine, sessions and the declarative base shared by every domain's tables.

SQLite is the embedded default (WAL, foreign keys, secure delete); PostgreSQL is the production
engine. Only portable column types are used, so the same migrations serve both.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import Engine, MetaData, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from tutela.errors import TutelaError

__all__ = ["Base", "make_engine", "normalise_url", "session_scope", "utc_naive"]

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def normalise_url(url: str) -> str:
    """Accept plain `postgresql://` URLs and use psycopg 3 for them."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    dbapi_connection.isolation_level = None  # transactions are begun by `_sqlite_begin`
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Deleted rows are overwritten, not left in free pages: erasure must not be undoable.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA cache_size=-65536")  # 64 MiB of page cache: bulk paths touch indexes
    cursor.close()


def _sqlite_begin(connection) -> None:
    # Take the write lock at the start: a transaction that reads, then audits, never finds
    # its snapshot overtaken by another writer (SQLITE_BUSY_SNAPSHOT); writers queue instead.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str, **kwargs) -> Engine:
    engine = create_engine(normalise_url(url), **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One transaction: committed when the block ends, rolled back when it raises, except
    for a refusal (`keeps_transaction`): the audit event recording it must stay."""
    factory = sessionmaker(engine, expire_on_commit=False)
    with factory() as session:
        session.begin()
        try:
            yield session
        except TutelaError as exc:
            if exc.keeps_transaction:
                session.commit()
            else:
                session.rollback()
            raise
        except BaseException:
            session.rollback()
            raise
        session.commit()


def utc_naive(moment: datetime) -> datetime:
    """Datetimes are stored as naive UTC on every engine; aware ones are converted first."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment
