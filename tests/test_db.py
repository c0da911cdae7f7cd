"""The database layer: transactions apart from reads, the bounded write-ahead log, and
statements run at the driver."""

from __future__ import annotations

import os
import threading
from datetime import datetime

import pytest
from psycopg.pq import TransactionStatus
from sqlalchemy import bindparam, select, text

from tutela import db
from tutela.access.models import Principal
from tutela.audit.service import Event, log_apart
from tutela.clock import now
from tutela.db import make_engine, session_scope, transaction_apart
from tutela.prepared import Prepared


def _events(session) -> int:
    return session.scalar(text("SELECT count(*) FROM audit_events"))


def test_a_reading_session_records_apart_and_reads_on(env):
    with session_scope(env.ctx.engine, write=False) as session:
        before = _events(session)
        log_apart(session, env.ctx.policy, now(), Event("t", "read", "allowed"))
        assert _events(session) == before + 1  # the next read sees its own event
    with session_scope(env.ctx.engine, write=False) as other:
        assert _events(other) == before + 1  # and it was committed


def test_a_failure_inside_the_apart_transaction_keeps_nothing_of_it(env):
    head = text("SELECT seq FROM audit_head")
    with session_scope(env.ctx.engine, write=False) as session:
        before = session.scalar(head)
        with pytest.raises(RuntimeError), transaction_apart(session) as apart:
            apart.connection().execute(text("UPDATE audit_head SET seq = seq + 100"))
            raise RuntimeError("boom")
        assert session.scalar(head) == before


def test_a_writing_session_records_apart_in_a_nested_transaction(env):
    with pytest.raises(RuntimeError), session_scope(env.ctx.engine) as session:
        before = _events(session)
        log_apart(session, env.ctx.policy, now(), Event("t", "write", "denied"))
        raise RuntimeError("the caller's own work is rolled back")
    with session_scope(env.ctx.engine, write=False) as session:
        assert _events(session) == before + 1


def test_the_write_ahead_log_stays_bounded_under_steady_reads(tmp_path, monkeypatch):
    """Readers that never stop would keep SQLite's own checkpoints from restarting the log."""
    monkeypatch.setattr(db, "WAL_LIMIT", 256 * 1024)
    engine = make_engine(f"sqlite:///{tmp_path / 'wal.db'}")
    with session_scope(engine) as session:
        session.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)"))
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            with session_scope(engine, write=False) as session:
                session.execute(text("SELECT count(*) FROM t")).all()
                with transaction_apart(session) as apart:
                    apart.execute(text("INSERT INTO t (v) VALUES (randomblob(4000))"))

    readers = [threading.Thread(target=read) for _ in range(3)]
    for reader in readers:
        reader.start()
    largest = 0
    try:
        for _ in range(600):
            with session_scope(engine) as session:
                session.execute(text("INSERT INTO t (v) VALUES (randomblob(4000))"))
            largest = max(largest, os.stat(f"{tmp_path / 'wal.db'}-wal").st_size)
    finally:
        stop.set()
        for reader in readers:
            reader.join()
    with session_scope(engine, write=False) as session:
        written = session.scalar(text("SELECT count(*) FROM t"))
    engine.dispose()
    assert written * 4000 > 4 * 1024 * 1024  # far more than the log may hold
    assert largest < 2 * 1024 * 1024


def test_prepared_rows_have_the_types_the_orm_gives(env):
    moment = datetime(2026, 3, 1, 12, 30, 15, 123456)
    with session_scope(env.ctx.engine) as session:
        session.add(
            Principal(
                name="typed",
                roles=["application", "support"],
                active_until=moment,
                created_at=moment,
            )
        )
    statement = select(Principal.name, Principal.roles, Principal.active_until).where(
        Principal.name == "typed"
    )
    with session_scope(env.ctx.engine, write=False) as session:
        orm = tuple(session.execute(statement).one())
        raw = Prepared(statement).first(session.connection())
    assert raw == orm == ("typed", ["application", "support"], moment)


def test_on_postgresql_a_lookup_alone_lets_psycopg_keep_its_prepared_statements(
    postgres_schema,
):
    """The key lookup every request runs must not end in a ROLLBACK: psycopg answers one by
    deallocating every statement it prepared on the connection, so none ever stays."""
    engine = make_engine(postgres_schema, pool_size=1, max_overflow=0)
    try:
        lookup = Prepared(select(Principal.name).where(Principal.name == bindparam("name")))
        for _ in range(8):  # psycopg prepares a statement from its sixth run on a connection
            assert lookup.first_alone(engine, {"name": "nobody"}) is None
        with engine.connect() as conn:
            prepared = conn.execute(text("SELECT count(*) FROM pg_prepared_statements")).scalar()
        assert prepared >= 1
    finally:
        engine.dispose()


def test_a_read_connection_holds_no_transaction_before_or_after_its_audit(env):
    """Its audit commits in the middle, so a transaction around the read would buy no
    snapshot, only a BEGIN and a COMMIT (two round trips on PostgreSQL)."""
    lookup = Prepared(select(Principal.name).where(Principal.name == bindparam("name")))

    def idle(connected) -> bool:
        raw = db.driver(connected.connection())
        if env.is_sqlite:
            return not raw.in_transaction
        return raw.info.transaction_status == TransactionStatus.IDLE

    with session_scope(env.ctx.engine, write=False) as session:
        before = _events(session)
    with db.read_connection(env.ctx.engine) as connected:
        assert lookup.rows(connected.connection(), {"name": "nobody"}) == []
        assert idle(connected)
        log_apart(connected, env.ctx.policy, now(), Event("t", "read", "allowed"))
        assert idle(connected)
        assert lookup.rows(connected.connection(), {"name": "nobody"}) == []
    with session_scope(env.ctx.engine, write=False) as session:
        assert _events(session) == before + 1  # committed before the read went on
    with env.ctx.engine.connect() as conn:  # the pooled connection takes transactions again
        assert env.is_sqlite or db.driver(conn).autocommit is False
