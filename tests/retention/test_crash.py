"""A retention run killed at any moment (SIGKILL) leaves no subject half-processed, and the
next run finishes the job."""

import os
import signal
import subprocess
import sys
import time

from sqlalchemy import func, select

from tutela.audit.models import AuditEvent, AuditEventSubject
from tutela.audit.verify import verify
from tutela.clock import now
from tutela.db import make_engine, session_scope
from tutela.subjects import service
from tutela.subjects.models import Connection, PersonalValue, Subject
from tutela.subjects.validation import validate_record

PEOPLE = 1200


def _population(env):
    records = [
        {
            "external_id": f"k-{i}",
            "kind": "prospect",
            "source": "website_contact",
            "identification": {"last_name": "Roy", "email": f"k{i}@example.org"},
            "lifecycle": {"last_contact_at": "2020-01-01"},
            "connections": [{"at": "2020-01-01T10:00:00Z", "ip": "198.51.100.7"}],
        }
        for i in range(PEOPLE)
    ]
    with session_scope(env.ctx.engine) as session:
        service.save(
            session=session,
            keyring=env.ctx.keyring(session),
            rules=env.ctx.rules,
            records=[validate_record(r, env.ctx.rules) for r in records],
            at=now(),
        )


def _state(engine, keys):
    """Per subject: (identification held, technical held, anonymised event, deleted event)."""
    with session_scope(engine, write=False) as session:
        ids = set(session.scalars(select(Subject.id)))
        ident = set(
            session.scalars(
                select(PersonalValue.subject_id).where(PersonalValue.category == "identification")
            )
        )
        tech = set(session.scalars(select(Connection.subject_id)))
        events = session.execute(
            select(AuditEventSubject.subject_id, AuditEvent.action)
            .join_from(AuditEvent, AuditEventSubject, AuditEventSubject.seq == AuditEvent.seq)
            .where(AuditEvent.action.in_(["anonymise", "delete"]))
        ).all()
        report = verify(session, keys=keys)
    anonymised = {s for s, a in events if a == "anonymise"}
    deleted = {s for s, a in events if a == "delete"}
    return ids, ident, tech, anonymised, deleted, report


def _consistent(ids, ident, tech, anonymised, deleted, report):
    assert report.intact, report.problem
    everyone = ids | anonymised | deleted
    for sid in everyone:
        # Data is gone exactly when its action was recorded: never one without the other.
        assert (sid in ident) == (sid not in anonymised)
        assert (sid in tech) == (sid not in deleted)
        # A subject row remains exactly while it still holds something.
        assert (sid in ids) == (sid in ident or sid in tech)


def test_a_killed_run_leaves_nothing_half_done_and_the_next_finishes(env):
    _population(env)
    environment = {**os.environ, "TUTELA_RETENTION_BATCH": "15"}
    process = subprocess.Popen(
        [sys.executable, "-m", "tutela.cli", "retention", "run", "--as-of", "2026-06-30", "--json"],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    watcher = make_engine(env.url)
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            with watcher.connect() as conn:
                done = conn.execute(
                    select(func.count())
                    .select_from(AuditEvent)
                    .where(AuditEvent.action == "anonymise")
                ).scalar()
            if done >= 30:
                break
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
        process.wait()
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == -signal.SIGKILL, "the run ended before it could be killed"

    state = _state(watcher, env.ctx.keyset().chain_keys())
    ids, ident, tech, anonymised, deleted, _ = state
    assert 0 < len(anonymised) < PEOPLE  # killed midway
    _consistent(*state)

    finished = subprocess.run(
        [sys.executable, "-m", "tutela.cli", "retention", "run", "--as-of", "2026-06-30"],
        env=environment,
        capture_output=True,
        text=True,
    )
    assert finished.returncode == 0, finished.stderr
    state = _state(watcher, env.ctx.keyset().chain_keys())
    _consistent(*state)
    ids, ident, tech, anonymised, deleted, _ = state
    assert not ids and not ident and not tech
    assert len(anonymised) == len(deleted) == PEOPLE
    watcher.dispose()
