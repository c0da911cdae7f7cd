"""Two workers and two API processes on one PostgreSQL: the day is swept once, and every
message is sent once, whichever worker gets to it."""

import email
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter

import pytest
from sqlalchemy import func, select

from tutela.audit.models import AuditEvent, AuditEventSubject
from tutela.clock import now
from tutela.db import session_scope
from tutela.outbox.models import OutboxMessage
from tutela.outbox.service import enqueue_email
from tutela.subjects.models import Subject

DUE = 150  # prospects silent since 2015: anonymised, their logs deleted
LIVE = 12  # people who open a rights request through the API meanwhile
QUEUED = 50  # messages waiting before the workers start
ROUNDS = 3

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def person(example: dict, external_id: str, *, due: bool) -> dict:
    record = json.loads(json.dumps(example))
    record["external_id"] = external_id
    record["identification"]["email"] = f"{external_id}@example.org"
    if due:
        record["lifecycle"]["first_contact_at"] = "2014-06-01"
        record["lifecycle"]["last_contact_at"] = "2015-01-01"
        record["connections"][0]["at"] = "2015-01-01T09:00:00Z"
        record["payments"] = []
    else:
        record["lifecycle"]["last_contact_at"] = str(now().date())
        record["connections"] = []
        record["payments"] = []
    return record


def serve(port: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "tutela.cli", "serve", "--port", str(port), "--workers", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return process
        except OSError:
            assert process.poll() is None, "the server stopped"
            time.sleep(0.1)
    process.kill()
    raise AssertionError("the server did not start in 30 s")


def open_request(port: int, key: str, address: str) -> None:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/requests",
        data=json.dumps({"type": "access", "email": address}).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 201


def workers() -> list[subprocess.Popen]:
    command = [sys.executable, "-m", "tutela.cli", "worker", "--once", "--json"]
    return [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]


def reports(started: list[subprocess.Popen]) -> list[dict]:
    out = []
    for process in started:
        stdout, stderr = process.communicate(timeout=60)
        assert process.returncode == 0, stderr
        out.append(json.loads(stdout))
    return out


def test_two_workers_sweep_the_day_once_and_send_each_message_once(
    env, cli, example, tmp_path, inbox
):
    people = [person(example, f"due-{n}", due=True) for n in range(DUE)]
    people += [person(example, f"live-{n}", due=False) for n in range(LIVE)]
    path = tmp_path / "people.jsonl"
    path.write_text("".join(json.dumps(p) + "\n" for p in people))
    assert cli("subjects", "import", str(path)).exit_code == 0
    with session_scope(env.ctx.engine) as session:
        due = set(session.scalars(select(Subject.id).where(Subject.external_id.like("due-%"))))
        keyring = env.ctx.keyring(session)
        for n in range(QUEUED):
            enqueue_email(
                session=session,
                keyring=keyring,
                to=f"queued-{n}@example.org",
                subject=f"notice {n}",
                body="A notice.",
                at=now(),
            )

    port = free_port()
    server = serve(port)
    done = []
    try:
        live = iter(range(LIVE))
        for _ in range(ROUNDS):  # the API queues codes while the workers sweep and send
            started = workers()
            for n in [next(live) for _ in range(LIVE // ROUNDS)]:
                open_request(port, env.admin_key, f"live-{n}@example.org")
            done += reports(started)
        done += reports(workers())  # what the API queued last
    finally:
        server.terminate()
        server.wait()

    sweeps = [r for r in done if "skipped" not in r]
    assert len(sweeps) == 1, done
    assert {"rule": "prospect_data", "action": "anonymise", "subjects": DUE} in sweeps[0]["actions"]
    assert sum(r["outbox"]["sent"] for r in done) == QUEUED + LIVE + 1  # and the checkpoint
    assert sum(r["outbox"]["retry"] + r["outbox"]["failed"] for r in done) == 0

    with session_scope(env.ctx.engine, write=False) as session:
        outbox = session.execute(select(OutboxMessage.status, OutboxMessage.attempts)).all()
        assert Counter(outbox) == {("sent", 1): QUEUED + LIVE + 1}
        by_action = Counter(
            session.scalars(select(AuditEvent.action).where(AuditEvent.principal == "worker"))
        )
        assert by_action["sweep"] == by_action["checkpoint"] == 1
        anonymised = session.execute(
            select(AuditEventSubject.subject_id, func.count())
            .join(AuditEvent, AuditEvent.seq == AuditEventSubject.seq)
            .where(AuditEvent.action == "anonymise", AuditEventSubject.subject_id.in_(list(due)))
            .group_by(AuditEventSubject.subject_id)
        ).all()
    assert len(anonymised) == DUE and {n for _, n in anonymised} == {1}

    received = Counter(
        (tuple(m.rcpt_tos), email.message_from_bytes(m.content)["Subject"]) for m in inbox.messages
    )
    assert sum(received.values()) == QUEUED + LIVE + 1
    assert set(received.values()) == {1}  # nobody got the same message twice
    assert sum(env.ctx.policy.dpo.email in to for to, _ in received) == 1
    assert len(os.listdir(tmp_path / "checkpoints")) == 1
