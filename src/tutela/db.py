"""Engine, sessions and the declarative base shared by every domain's tables.

SQLite is the embedded default (WAL, foreign keys, secure delete); PostgreSQL is the production
engine. Only portable column types are used, so the same migrations serve both.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
from typing import Protocol

import orjson
from sqlalchemy import Connection, Engine, MetaData, Select, Table, create_engine, event
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from tutela.clock import utc_naive  # stored datetimes: naive UTC on every engine
from tutela.errors import InvalidInput

__all__ = [
    "Base",
    "WouldWait",
    "bulk_insert",
    "dates_as_text",
    "driver",
    "holds_writer_lock",
    "lock_rows",
    "make_engine",
    "never_waiting",
    "normalise_url",
    "session_scope",
    "statements_alone",
    "transaction_apart",
    "utc_naive",
]

BUSY_TIMEOUT_MS = 10_000  # how long SQLite waits for a lock before failing
WAL_LIMIT = 64 * 1024 * 1024  # write-ahead log size that triggers a truncating checkpoint
CHECKPOINT_WAIT_MS = 100  # how long that checkpoint waits for the readers of the moment
SHORT_WAIT_S = 0.02  # how long work on the event loop may wait for the writer lock
# How it waits: tries again at once for `SPIN_S` (an audit append holds the lock for about
# 0.1 ms, and a sleep lasts 0.1 to 0.2 ms on a busy host), then every `POLL_S`.
SPIN_S = 0.0005
POLL_S = 0.00005

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
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA cache_size=-65536")  # 64 MiB of page cache: bulk paths touch indexes
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    driver(connection).execute("BEGIN")


def driver(connection: Connection):
    """The DBAPI connection under a SQLAlchemy one: statements that need no result processing
    go straight to it, as SQLAlchemy's execution costs more than SQLite's."""
    return connection.connection.dbapi_connection


_never_wait: ContextVar[bool] = ContextVar("tutela_never_wait", default=False)


class WouldWait(Exception):
    """The writer lock is taken, and the code asking for it must not wait (`never_waiting`)."""


@contextmanager
def never_waiting() -> Iterator[None]:
    """Within the block, asking for a writer lock held longer than `SHORT_WAIT_S` raises
    `WouldWait`: for work on the event loop, which must hand itself to a thread rather than
    stall every request behind a long write."""
    token = _never_wait.set(True)
    try:
        yield
    finally:
        _never_wait.reset(token)


def _flock_until(fd: int, deadline: float) -> None:
    """Take the file lock, trying again until `deadline`; `WouldWait` past it.

    A blocking flock would wake as the holder lets go, but could not give up at the deadline.
    Sleeping between tries oversleeps the short holds that are the rule: on a loaded host a
    sleep of 50 µs lasts 150 µs or more, longer than an audit append holds the lock, and the
    event loop stands still meanwhile. So it first yields the processor and tries again (the
    holder runs if it shares this core), and sleeps only once the holder proves slow.
    """
    spin_until = time.monotonic() + SPIN_S
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            moment = time.monotonic()
            if moment >= deadline:
                raise WouldWait from None
            if moment < spin_until:
                os.sched_yield()
            else:
                time.sleep(POLL_S)


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
        self._wal = path.removesuffix("-writer.lock") + "-wal" if path else None
        self._wal_check_at = WAL_LIMIT

    @contextmanager
    def hold(self) -> Iterator[None]:
        """The lock for a write transaction. Inside `never_waiting` (code on the event loop) it
        waits at most `SHORT_WAIT_S`, then raises `WouldWait`."""
        wait = not _never_wait.get()
        deadline = time.monotonic() + SHORT_WAIT_S
        if not self._mutex.acquire(timeout=-1 if wait else SHORT_WAIT_S):
            raise WouldWait
        try:
            outermost = self._depth == 0 and self._path is not None
            if outermost:
                if self._fd is None:
                    self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
                if wait:
                    fcntl.flock(self._fd, fcntl.LOCK_EX)
                else:
                    _flock_until(self._fd, deadline)
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
        finally:
            self._mutex.release()

    def bound_wal(self, engine: Engine) -> None:
        """Checkpoint and truncate the write-ahead log once it has outgrown `WAL_LIMIT`.

        SQLite's automatic checkpoints copy back only what no reader still sees, and restart
        the log only when no reader is in it: under a steady stream of reads and audited
        writes that never happens, the log grows without end and every read slows down as it
        searches it. A TRUNCATE checkpoint waits briefly for the readers of the moment; when
        one takes longer, the next try comes after another `WAL_LIMIT` of log.
        """
        if self._depth > 1 or self._wal is None:
            return  # an enclosing write transaction is still open
        try:
            size = os.stat(self._wal).st_size
        except FileNotFoundError:
            return
        if size < self._wal_check_at:
            return
        raw = engine.raw_connection()
        try:
            conn = raw.driver_connection
            conn.execute(f"PRAGMA busy_timeout={CHECKPOINT_WAIT_MS}")
            try:
                (busy, *_) = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            finally:
                conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        finally:
            raw.close()
        self._wal_check_at = size + WAL_LIMIT if busy else WAL_LIMIT


_writer_locks: weakref.WeakKeyDictionary[Engine, WriterLock] = weakref.WeakKeyDictionary()


HAND_OVER_S = 0.005  # long enough for a writer woken by flock to run and take the lock


def let_waiting_writers_pass(engine: Engine) -> None:
    """A pause between two transactions of a bulk writer (a retention run, an import) on
    SQLite. Releasing the writer lock wakes the writers waiting for it (audited reads among
    them) but does not hand it over: a loop that takes it again at once can keep them
    waiting batch after batch. PostgreSQL writers do not queue on one lock: no pause."""
    if engine in _writer_locks:
        time.sleep(HAND_OVER_S)


def holds_writer_lock(engine: Engine) -> bool:
    """Whether this thread is inside a write transaction of `engine` (SQLite)."""
    lock = _writer_locks.get(engine)
    return lock is not None and lock._owner == threading.get_ident()


# One factory for every engine: each sessionmaker is a new class, costly to set up.
_Session = sessionmaker(expire_on_commit=False)


def describe_error(exc: BaseException) -> str:
    """A database error as it may be logged or shown: its type and code; the driver's words
    only when it could not reach or open the database (they then hold no value sent)."""
    orig = getattr(exc, "orig", None) or exc
    code = getattr(orig, "sqlstate", None) or getattr(orig, "sqlite_errorname", None)
    text = f"{type(orig).__name__}{f' ({code})' if code else ''}"
    words = str(orig).splitlines()[0] if str(orig) else ""
    if type(orig).__name__ in ("OperationalError", "InterfaceError") or "no such table" in words:
        text += f": {words}"
    return text


@event.listens_for(_Session, "before_flush")
def _refuse_overlong(session: Session, _context: object, _instances: object) -> None:
    """A text longer than its column is refused by name on every engine alike (SQLite would
    store it, PostgreSQL would fail): a column's length is the longest input it takes."""
    for instance in (*session.new, *session.dirty):
        table = getattr(instance, "__table__", None)
        for column in table.columns if table is not None else ():
            length = getattr(column.type, "length", None)
            value = getattr(instance, column.key, None)
            if length and isinstance(value, str) and len(value) > length:
                raise InvalidInput(f"at most {length} characters", location=column.key)


def make_engine(url: str, **kwargs) -> Engine:
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite") and parsed.database not in (None, "", ":memory:"):
        # A connection per concurrent request: readers do not queue for one. Last in, first
        # out: each connection keeps its own page cache, and the one just used is warm.
        kwargs.setdefault("pool_size", 20)
        kwargs.setdefault("max_overflow", 40)
        kwargs.setdefault("pool_use_lifo", True)
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        database = engine.url.database
        in_memory = not database or database == ":memory:"
        _writer_locks[engine] = WriterLock(None if in_memory else f"{database}-writer.lock")
    return engine


@contextmanager
def session_scope(engine: Engine, *, write: bool = True, commit: bool = True) -> Iterator[Session]:
    """One transaction: committed when the block ends, rolled back when it raises, or
    always with `commit=False` (a dry run does its work, then leaves nothing of it).

    `write=False` is for work that only reads: on SQLite it does not wait for the writer lock,
    and reads its snapshot while writers go on.
    """
    lock = _writer_locks.get(engine) if write else None
    with lock.hold() if lock else nullcontext():
        with _Session(bind=engine) as session:
            transaction = session.begin()
            try:
                yield session
            except BaseException:
                transaction.rollback()
                raise
            if commit:
                transaction.commit()
            else:
                transaction.rollback()
        if lock:
            lock.bound_wal(engine)


class Connected(Protocol):
    """What the read path and the trail's appends ask of a transaction: its connection (for
    `Prepared` statements) and its engine. A Session is one; `read_connection` and, on
    PostgreSQL, `transaction_apart` give a lighter one."""

    def connection(self) -> Connection: ...

    def get_bind(self) -> Engine: ...


class _OnConnection:
    """Work at the connection (`read_connection`, `transaction_apart`)."""

    __slots__ = ("_connection",)

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def connection(self) -> Connection:
        return self._connection

    def get_bind(self) -> Engine:
        return self._connection.engine


@contextmanager
def read_connection(engine: Engine) -> Iterator[Connected]:
    """A connection whose statements each read a snapshot of their own, with no ORM session
    and no transaction around them (`statements_alone`): for the audited single-subject
    read. Its audit event commits in the middle (`transaction_apart`), so one snapshot could
    not span the read anyway; a transaction would only add a BEGIN and a COMMIT (two round
    trips on PostgreSQL, where READ COMMITTED gives each statement its own snapshot inside
    one too)."""
    with engine.connect() as connection, statements_alone(driver(connection), engine.dialect):
        yield _OnConnection(connection)


@contextmanager
def statements_alone(dbapi, dialect: Dialect) -> Iterator[None]:
    """Each statement on the driver connection `dbapi` commits as it runs, for the while.
    psycopg would otherwise open a transaction with a BEGIN round trip, and the pool's
    ROLLBACK on return would make it deallocate every statement it prepared: it is put in
    autocommit. SQLite's connections always run so here (`_sqlite_pragmas`)."""
    if dialect.name != "postgresql":
        yield
        return
    dbapi.autocommit = True
    try:
        yield
    finally:
        dbapi.autocommit = False


@contextmanager
def transaction_apart(session: Connected) -> Iterator[Connected]:
    """A write transaction of its own, committed when the block ends, for a caller whose
    `session` has not written yet: what it records stays whatever that session does next.

    On SQLite the caller lends its connection. A reading session's snapshot ends first (held
    while waiting for the writer lock, it would keep the write-ahead log from being
    checkpointed, which may be what the writer ahead is doing), and it reads on with a fresh
    one; a `read_connection` has none to end. Elsewhere the transaction has a connection of
    its own.
    """
    engine = session.get_bind()
    lock = _writer_locks.get(engine)
    if lock is None:  # PostgreSQL: a connection of its own, no ORM session needed
        with engine.begin() as connection:
            yield _OnConnection(connection)
        return
    if holds_writer_lock(engine):
        with session_scope(engine) as apart:
            yield apart
        return
    raw = driver(session.connection())
    reading = raw.in_transaction  # a session's snapshot; a `read_connection` has none
    if reading:
        raw.execute("COMMIT")
    try:
        with lock.hold():
            raw.execute("BEGIN")
            try:
                yield session
                raw.execute("COMMIT")
            except BaseException:
                if raw.in_transaction:
                    raw.execute("ROLLBACK")
                raise
            # Written now: the rest of this work may no longer start again elsewhere, so a
            # later wait for the lock is a wait (`never_waiting`), not a `WouldWait`.
            _never_wait.set(False)
            lock.bound_wal(engine)
    finally:
        if reading:
            raw.execute("BEGIN")


def lock_rows(session: Session, rows: Select) -> None:
    """Lock the rows `rows` selects until the transaction ends, where another writer could
    change them meanwhile (PostgreSQL); SQLite's writer lock already keeps them still."""
    if session.get_bind().dialect.name != "sqlite":
        session.execute(rows.with_for_update())


def dates_as_text(session: Connected) -> bool:
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
    cursor = driver(conn).cursor()
    try:
        if len(rows) == 1:  # psycopg runs executemany in a pipeline: more work for one row
            cursor.execute(sql, rows[0])
        else:
            cursor.executemany(sql, rows)
    finally:
        cursor.close()


def insert_ids(
    conn: Connection, table: Table, column: str, ids: Sequence[str], **same: object
) -> None:
    """Many ids into one column of `table`, the other columns given the same values for
    every row: the ids travel as one parameter that the database unpacks itself (a JSON
    array on SQLite, an array on PostgreSQL), several times faster than a row each."""
    if not ids:
        return
    names = ", ".join((column, *same))
    if conn.dialect.name == "sqlite":
        sql = (
            f"INSERT INTO {table.name} ({names}) SELECT value{', ?' * len(same)} FROM json_each(?)"
        )
        params = (*same.values(), orjson.dumps(list(ids)).decode())
    else:
        sql = f"INSERT INTO {table.name} ({names}) SELECT unnest(%s::text[]){', %s' * len(same)}"
        params = (list(ids), *same.values())
    cursor = driver(conn).cursor()
    try:
        cursor.execute(sql, params)
    finally:
        cursor.close()
