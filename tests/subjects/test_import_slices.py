"""Imports commit in slices (`TUTELA_IMPORT_BATCH`) that other writers pass between, yet
stay all or nothing: a long file is checked whole before anything is written. A killed
import leaves whole slices, and running it again finishes it, nothing twice."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from tutela.access.gate import Actor
from tutela.audit.models import AuditEvent
from tutela.audit.verify import verify
from tutela.clock import now
from tutela.consent.models import Consent
from tutela.crypto.models import DataKey
from tutela.db import session_scope
from tutela.subjects.flows import read_for_purpose
from tutela.subjects.importer import ImportFailed, import_file
from tutela.subjects.models import Connection, PersonalValue, Subject

BATCH = 50
PEOPLE = 3000


def people(example: dict, count: int, start: int = 0) -> list[dict]:
    out = []
    for n in range(start, start + count):
        record = json.loads(json.dumps(example))
        record["external_id"] = f"p-{n}"
        record["identification"]["email"] = f"p{n}@example.org"
        out.append(record)
    return out


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def count(engine, model) -> int:
    with session_scope(engine, write=False) as session:
        return session.scalar(select(func.count()).select_from(model))


def import_events(engine) -> list[dict]:
    with session_scope(engine, write=False) as session:
        return list(
            session.scalars(
                select(AuditEvent.detail)
                .where(AuditEvent.action == "import")
                .order_by(AuditEvent.seq)
            )
        )


def start_import(path: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tutela.cli", "subjects", "import", str(path), "--json", *extra],
        env={**os.environ, "TUTELA_IMPORT_BATCH": str(BATCH), "TUTELA_IMPORT_WORKERS": "0"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(engine, process: subprocess.Popen, at_least: int) -> int:
    """Poll until `at_least` subjects are committed; their count then."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        seen = count(engine, Subject)
        if seen >= at_least:
            return seen
        assert process.poll() is None, process.stderr.read()
        time.sleep(0.005)
    raise AssertionError("the import wrote nothing in 60 s")


def test_a_bad_record_late_in_a_long_file_stops_it_before_anything_is_written(
    env, cli, example, tmp_path, monkeypatch
):
    monkeypatch.setenv("TUTELA_IMPORT_BATCH", "10")
    records = people(example, 60)
    records[55]["identification"]["email"] = "not-an-email"
    result = cli("subjects", "import", str(write_jsonl(tmp_path / "in.jsonl", records)))
    assert result.exit_code == 1
    assert "line 56, identification.email: expected an e-mail" in result.stderr
    assert "nothing was imported" in result.stderr
    assert count(env.ctx.engine, Subject) == 0 and count(env.ctx.engine, PersonalValue) == 0
    assert import_events(env.ctx.engine) == []


def test_a_change_of_kind_late_in_a_long_file_is_found_before_anything_is_written(
    env, cli, example, tmp_path, monkeypatch
):
    known = dict(people(example, 1, start=900)[0], kind="client", source="registration_form")
    assert cli("subjects", "import", str(write_jsonl(tmp_path / "k.jsonl", [known]))).exit_code == 0
    monkeypatch.setenv("TUTELA_IMPORT_BATCH", "10")
    records = people(example, 60)
    records[3] = dict(records[3], kind="client", source="registration_form")
    records[57] = dict(records[3], kind="prospect", source="website_contact")  # back: refused
    result = cli("subjects", "import", str(write_jsonl(tmp_path / "in.jsonl", records)))
    assert result.exit_code == 1
    assert "line 58, kind: a subject of kind 'client' cannot become 'prospect'" in result.stderr
    assert count(env.ctx.engine, Subject) == 1

    records[57] = people(example, 1, start=57)[0]
    records[40] = people(example, 1, start=900)[0]  # the known client, as a prospect
    result = cli("subjects", "import", str(write_jsonl(tmp_path / "in.jsonl", records)))
    assert "line 41, kind: a subject of kind 'client' cannot become 'prospect'" in result.stderr
    assert count(env.ctx.engine, Subject) == 1

    result = cli("subjects", "import", str(tmp_path / "in.jsonl"), "--skip-invalid", "--json")
    report = json.loads(result.stdout)
    assert (report["created"], report["invalid"]) == (59, 1)
    events = import_events(env.ctx.engine)[1:]
    assert [e["lines"] for e in events] == [[n + 1, n + 10] for n in range(0, 60, 10)]
    assert sum(e["created"] for e in events) == 59


def test_a_writer_changing_the_store_midway_stops_the_import_saying_what_was_written(
    env, example, tmp_path
):
    """Checked whole first, a file can still meet a change made meanwhile by another writer:
    the import stops there, and says how much of it the committed slices hold."""
    ctx = env.ctx
    with session_scope(ctx.engine) as session:
        keyring = ctx.keyring(session)
    first = write_jsonl(tmp_path / "one.jsonl", people(example, 1, start=25))
    import_file(engine=ctx.engine, keyring=keyring, rules=ctx.rules, path=first, at=now())

    def meanwhile(session, part):
        if part.first_line == 1:  # someone makes p-25 a client while the import runs
            session.execute(
                update(Subject).where(Subject.external_id == "p-25").values(kind="client")
            )

    path = write_jsonl(tmp_path / "in.jsonl", people(example, 40))
    with pytest.raises(ImportFailed) as failed:
        import_file(
            engine=ctx.engine,
            keyring=keyring,
            rules=ctx.rules,
            path=path,
            batch=10,
            at=now(),
            on_slice=meanwhile,
        )
    assert failed.value.committed == 20
    assert str(failed.value).startswith(
        "line 26, kind: a subject of kind 'client' cannot become 'prospect'; "
        "the 20 records before it were imported"
    )
    assert count(ctx.engine, Subject) == 21  # p-0 to p-19, and p-25


def test_an_audited_read_passes_between_the_slices_of_a_running_import(env, cli, example, tmp_path):
    """On SQLite a read's audit event needs the writer lock; on PostgreSQL the trail's head
    row. Neither is held from one slice to the next."""
    engine = env.ctx.engine
    assert (
        cli("subjects", "import", str(write_jsonl(tmp_path / "b.jsonl", [example]))).exit_code == 0
    )
    process = start_import(write_jsonl(tmp_path / "in.jsonl", people(example, PEOPLE)))
    try:
        wait_for(engine, process, 1 + BATCH)
        with session_scope(engine, write=False) as session:
            view = read_for_purpose(
                session=session,
                keyring=env.ctx.keyring(session),
                policy=env.ctx.policy,
                actor=Actor.console(),
                external_id="crm-42",
                purpose="market_research",
                at=now(),
            )
        assert view.data["identification"]["email"] == "ana@example.org"
        assert count(engine, Subject) < 1 + PEOPLE  # read and audited while it still ran
        out, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert json.loads(out)["created"] == PEOPLE


def test_a_killed_import_leaves_whole_slices_and_running_it_again_finishes_it(
    env, example, tmp_path
):
    engine = env.ctx.engine
    path = write_jsonl(tmp_path / "in.jsonl", people(example, PEOPLE))
    process = start_import(path)
    try:
        wait_for(engine, process, 10 * BATCH)
        process.send_signal(signal.SIGKILL)
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()  # closes its pipes
    assert process.returncode == -signal.SIGKILL, "the import ended before it could be killed"

    written = count(engine, Subject)
    assert 0 < written < PEOPLE and written % BATCH == 0  # whole slices only
    fields = len(example["identification"]) + len(example["enriched"])
    assert count(engine, DataKey) == written
    assert count(engine, PersonalValue) == written * fields
    assert count(engine, Connection) == count(engine, Consent) == written
    events = import_events(engine)
    assert sum(e["created"] for e in events) == written  # each slice audited with it
    with session_scope(engine, write=False) as session:
        assert verify(session, keys=env.ctx.keyset().chain_keys()).intact

    again = start_import(path)
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    report = json.loads(out)
    assert (report["created"], report["updated"]) == (PEOPLE - written, written)
    assert count(engine, Subject) == count(engine, DataKey) == PEOPLE
    assert count(engine, PersonalValue) == PEOPLE * fields
    assert count(engine, Connection) == count(engine, Consent) == PEOPLE  # nothing twice
    with session_scope(engine, write=False) as session:
        assert verify(session, keys=env.ctx.keyset().chain_keys()).intact


@pytest.mark.parametrize("batch", ["1000", "10"])  # one slice; a long file checked first
def test_an_update_whose_dates_cross_those_stored_is_refused_naming_the_field(
    env, cli, example, tmp_path, monkeypatch, batch
):
    """As through the API: a file that moves a person's subscription end before the start
    already stored, or whose later line crosses an earlier one, is refused at that line."""
    known = dict(people(example, 1, start=900)[0], kind="client", source="registration_form")
    known["lifecycle"] = {"subscription_started_at": "2023-01-15"}
    assert cli("subjects", "import", str(write_jsonl(tmp_path / "k.jsonl", [known]))).exit_code == 0
    monkeypatch.setenv("TUTELA_IMPORT_BATCH", batch)
    records = people(example, 30)
    records[20] = dict(known, lifecycle={"subscription_ended_at": "2023-01-14"})
    path = write_jsonl(tmp_path / "in.jsonl", records)
    result = cli("subjects", "import", str(path))
    assert result.exit_code == 1
    assert (
        "line 21, lifecycle.subscription_ended_at: cannot be before subscription_started_at"
        in result.stderr
    )
    assert "2023-01-1" not in result.stderr and count(env.ctx.engine, Subject) == 1

    records[20] = dict(known, lifecycle={"subscription_started_at": "2024-01-01"})
    records[25] = dict(known, lifecycle={"subscription_ended_at": "2023-06-01"})  # before it
    result = cli("subjects", "import", str(write_jsonl(tmp_path / "in.jsonl", records)))
    assert "line 26, lifecycle.subscription_ended_at: cannot be before" in result.stderr

    result = cli("subjects", "import", str(tmp_path / "in.jsonl"), "--skip-invalid", "--json")
    report = json.loads(result.stdout)
    assert (report["created"], report["updated"], report["invalid"]) == (28, 1, 1)
    with session_scope(env.ctx.engine, write=False) as session:
        person = session.scalar(select(Subject).where(Subject.external_id == "p-900"))
        assert str(person.subscription_started_at) == "2024-01-01"
        assert person.subscription_ended_at is None
