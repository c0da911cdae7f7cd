"""Engine, sessions and the declarative base shared by every domain's tables.

SQLite is the embedded default (WAL, foreign keys, secure delete); PostgreSQL is the production
engine. Only portable column types are used, so the same migrations serve both.
"""

from __future__ import annotations

import fcntl
import os
import threading
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, MetaData, Table, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

__all__ = [
    "Base",
    "bulk_insert",
    "dates_as_text",
    "holds_writer_lock",
    "make_engine",
    "normalise_url",
    "session_scope",
    "utc_naive",
]

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
    cursor.execute("PRAGMA page_size=16384")  # new files only; fewer, fuller pages for bulk rows
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Deleted rows are overwritten, not left in free pages: erasure must not be undoable.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA cache_size=-65536")  # 64 MiB of page cache: bulk paths touch indexes
    cursor.close()


def _sqlite_begin(connection) -> None:
    connection.exec_driver_sql("BEGIN")


class WriterLock:
    """Serialises SQLite writers, in this process (a mutex) and across processes (flock).

    SQLite admits one writer at a time and makes the others poll with growing sleeps; waiting
    on this lock instead wakes the next writer as soon as the previous one commits. Holding it
    for a whole write transaction also means no other writer commits between its reads and
    its writes, so a write never fails on a stale snapshot.
    """

    def __init__(self, path: str | None) -> None:
        self._mutex = threading.RLock()  # a thread that holds it may open a nested writer
        self._depth = 0
        self._owner: int | None = None
        self._path = path
        self._fd: int | None = None

    @contextmanager
    def hold(self) -> Iterator[None]:
        with self._mutex:
            outermost = self._depth == 0 and self._path is not None
            if outermost:
                if self._fd is None:
                    self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
                fcntl.flock(self._fd, fcntl.LOCK_EX)
            self._depth += 1
            self._owner = threading.get_ident()
            try:
                yield
            finally:
                self._depth -= 1
                if not self._depth:
                    self._owner = None
                if outermost:
                    fcntl.flock(self._fd, fcntl.LOCK_UN)


_writer_locks: weakref.WeakKeyDictionary[Engine, WriterLock] = weakref.WeakKeyDictionary()


def holds_writer_lock(engine: Engine) -> bool:
    """Whether this thread is inside a write transaction of `engine` (SQLite)."""
    lock = _writer_locks.get(engine)
    return lock is not None and lock._owner == threading.get_ident()


# One factory for every engine: each sessionmaker is a new class, costly to set up.
_Session = sessionmaker(expire_on_commit=False)


def make_engine(url: str, **kwargs) -> Engine:
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite") and parsed.database not in (None, "", ":memory:"):
        # A connection per concurrent request: readers do not queue for one.
        kwargs.setdefault("pool_size", 20)
        kwargs.setdefault("max_overflow", 40)
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        database = engine.url.database
        in_memory = not database or database == ":memory:"
        _writer_locks[engine] = WriterLock(None if in_memory else f"{database}-writer.lock")
    return engine


@contextmanager
def session_scope(engine: Engine, *, write: bool = True) -> Iterator[Session]:
    """One transaction: committed when the block ends, rolled back when it raises.

    `write=False` is for work that only reads: on SQLite it does not wait for the writer lock,
    and reads its snapshot while writers go on.
    """
    lock = _writer_locks.get(engine) if write else None
    with lock.hold() if lock else nullcontext(), _Session(bind=engine) as session, session.begin():
        yield session


def dates_as_text(session: Session) -> bool:
    """Whether the engine stores dates as text (SQLite), which bulk rows must then give."""
    return session.get_bind().dialect.name == "sqlite"


def bulk_insert(conn: Connection, table: Table, columns: Sequence[str], rows: list) -> None:
    """One executemany at the driver: bulk rows skip SQLAlchemy's per-row processing, so they
    must hold what the driver stores as is (dates as text on SQLite, JSON as text)."""
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    sql = (
        f"INSERT INTO {table.name} ({', '.join(columns)}) "
        f"VALUES ({', '.join([mark] * len(columns))})"
    )
    conn.exec_driver_sql(sql, rows)


def utc_naive(moment: datetime) -> datetime:
    """Datetimes are stored as naive UTC on every engine; aware ones are converted first."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment
