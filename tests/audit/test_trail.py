"""The audit trail: every access and change is recorded, without personal values, in a hash
chain that exposes any alteration, deletion, insertion or reordering."""

import json
import time

import pytest
from sqlalchemy import delete, insert, select, update

from tutela.audit import verify as audit_verify
from tutela.audit.models import AuditEvent
from tutela.audit.service import Event, record
from tutela.audit.verify import verify
from tutela.clock import now
from tutela.db import session_scope


def import_example(cli, tmp_path, example):
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps(example) + "\n")
    assert cli("subjects", "import", str(path)).exit_code == 0


@pytest.fixture
def trail(env, cli, example, tmp_path):
    """A trail of a dozen events of every kind."""
    import_example(cli, tmp_path, example)
    cli("subjects", "show", "crm-42", "--purpose", "market_research")
    cli("subjects", "show", "crm-42", "--purpose", "newsletter")  # denied: no consent
    cli("subjects", "show", "crm-404", "--purpose", "support")  # denied: unknown
    cli("consents", "give", "crm-42", "--purpose", "newsletter")
    cli("subjects", "show", "crm-42", "--purpose", "newsletter")
    with session_scope(env.ctx.engine) as session:
        record(
            session,
            [Event("t", f"test{i}", "done") for i in range(6)],
            at=now(),
            policy_version="test",
        )
    return env


def events(env):
    with session_scope(env.ctx.engine) as session:
        return session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()


def test_every_access_and_change_is_recorded(trail):
    rows = events(trail)
    actions = [(e.action, e.outcome, e.purpose) for e in rows]
    assert ("create_principal", "done", None) not in actions
    assert ("add_principal", "done", None) in actions  # the administrator, by init
    assert ("import", "done", None) in actions
    assert ("read", "allowed", "market_research") in actions
    assert ("read", "denied", "newsletter") in actions
    assert ("give_consent", "done", "newsletter") in actions
    assert ("read", "allowed", "newsletter") in actions
    denied = next(e for e in rows if e.outcome == "denied" and e.purpose == "newsletter")
    assert "no active consent" in denied.reason
    unknown = next(e for e in rows if e.reason == "unknown subject")
    assert unknown.subject_id is None
    read = next(e for e in rows if e.purpose == "market_research")
    assert read.categories == "enriched,identification" and read.principal.startswith("console:")
    assert read.policy_version == trail.ctx.policy.version


def test_the_trail_holds_no_personal_value(trail, example):
    # Ids and hashes are hex by construction (a short value like 4242 may occur in them by
    # chance); every column that holds text is searched.
    text = (
        "principal",
        "action",
        "categories",
        "purpose",
        "outcome",
        "reason",
        "policy_version",
        "detail",
    )
    dump = json.dumps([[str(getattr(e, c)) for c in text] for e in events(trail)])
    for value in (*example["identification"].values(), "203.0.113.7", "4242"):
        assert value not in dump
    assert "crm-42" not in dump  # not even the external id: subjects are named by internal id
    ids = {e.subject_id for e in events(trail)} - {None}
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)


def test_an_intact_trail_verifies(trail, cli):
    result = cli("audit", "verify", "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["intact"] and report["checked"] == len(events(trail)) == report["head_seq"]


def _tamper(env, change):
    with session_scope(env.ctx.engine) as session:
        change(session)


@pytest.mark.parametrize(
    ("name", "change", "first_bad", "problem"),
    [
        (
            "update",
            lambda s: s.execute(
                update(AuditEvent).where(AuditEvent.seq == 5).values(outcome="tampered")
            ),
            5,
            "was altered",
        ),
        (
            "update a hash",
            lambda s: s.execute(
                update(AuditEvent).where(AuditEvent.seq == 4).values(hash="f" * 64)
            ),
            4,
            "was altered",
        ),
        (
            "delete",
            lambda s: s.execute(delete(AuditEvent).where(AuditEvent.seq == 6)),
            6,
            "is missing",
        ),
        (
            "delete the last",
            lambda s: s.execute(
                delete(AuditEvent).where(
                    AuditEvent.seq
                    == s.scalar(select(AuditEvent.seq).order_by(AuditEvent.seq.desc()).limit(1))
                )
            ),
            None,
            "head is event",
        ),
    ],
)
def test_tampering_is_detected_naming_the_first_bad_event(
    trail, cli, name, change, first_bad, problem
):
    total = len(events(trail))
    _tamper(trail, change)
    result = cli("audit", "verify", "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert not report["intact"] and problem in report["problem"]
    assert report["first_bad_event"] == (first_bad or total)
    human = cli("audit", "verify")
    assert human.exit_code == 1 and "broken at event" in human.stderr


def test_an_inserted_event_is_detected(trail, cli):
    rows = events(trail)
    with session_scope(trail.ctx.engine) as session:
        # Make room after event 3, then slip in a forged event carrying a plausible link.
        session.execute(
            update(AuditEvent).where(AuditEvent.seq > 3).values(seq=AuditEvent.seq + 1000)
        )
        forged = {c.name: getattr(rows[3], c.name) for c in AuditEvent.__table__.columns}
        forged.update(seq=4, action="forged", prev_hash=rows[2].hash)
        session.execute(insert(AuditEvent), [forged])
    report = json.loads(cli("audit", "verify", "--json").stdout)
    assert report["first_bad_event"] == 4 and not report["intact"]


def test_reordered_events_are_detected(trail, cli):
    rows = events(trail)
    a, b = rows[4], rows[5]
    fields = [c.name for c in AuditEvent.__table__.columns if c.name != "seq"]
    with session_scope(trail.ctx.engine) as session:
        for target, source in ((a.seq, b), (b.seq, a)):
            session.execute(
                update(AuditEvent)
                .where(AuditEvent.seq == target)
                .values({f: getattr(source, f) for f in fields})
            )
    report = json.loads(cli("audit", "verify", "--json").stdout)
    assert report["first_bad_event"] == a.seq and not report["intact"]


def test_audit_show_filters_by_subject_principal_and_day(trail, cli):
    mine = json.loads(cli("audit", "show", "--subject", "crm-42", "--json").stdout)
    assert mine and all(e["subject_id"] == mine[0]["subject_id"] for e in mine)
    assert {e["action"] for e in mine} >= {"read", "give_consent"}
    by_t = json.loads(cli("audit", "show", "--principal", "t", "--json").stdout)
    assert len(by_t) == 6
    assert json.loads(cli("audit", "show", "--since", "2999-01-01", "--json").stdout) == []


def test_verify_is_a_whole_chain_check(trail):
    with session_scope(trail.ctx.engine) as session:
        report = verify(session, keys=trail.ctx.keyset().chain_keys())
    assert report.intact and report.checked == report.head_seq


@pytest.fixture
def long_trail(env, monkeypatch):
    """A trail checked in spans of five events, one of them by a worker process."""
    with session_scope(env.ctx.engine) as session:
        record(
            session,
            [Event("t", f"test{i}", "done", detail={"i": i}) for i in range(40)],
            at=now(),
            policy_version="test",
        )
    monkeypatch.setattr(audit_verify, "SPAN", 5)
    monkeypatch.setattr(audit_verify, "_worker_count", lambda _session, _head: 1)
    here = audit_verify._check_span
    env.checked_here = []

    def slowly(connection, start, end, keys):  # leaves the worker time to start and take spans
        time.sleep(0.1)
        env.checked_here.append(start)
        return here(connection, start, end, keys)

    monkeypatch.setattr(audit_verify, "_check_span", slowly)
    return env


def _verify(env):
    with session_scope(env.ctx.engine, write=False) as session:
        return verify(session, keys=env.ctx.keyset().chain_keys())


def test_a_trail_checked_in_spans_and_processes_verifies(long_trail):
    report = _verify(long_trail)
    assert report.intact and report.checked == report.head_seq > 40
    spans = -(-report.head_seq // 5)
    assert 0 < len(long_trail.checked_here) < spans  # the worker took the others


@pytest.mark.parametrize(
    ("change", "first_bad", "problem"),
    [
        (update(AuditEvent).where(AuditEvent.seq == 33).values(action="forged"), 33, "altered"),
        (delete(AuditEvent).where(AuditEvent.seq == 31), 31, "missing"),  # a span's first
        (update(AuditEvent).where(AuditEvent.seq == 26).values(prev_hash="0" * 64), 26, "follow"),
        (update(AuditEvent).where(AuditEvent.seq == 27).values(hash="f" * 64), 27, "altered"),
    ],
)
def test_spans_are_stitched_so_a_break_anywhere_is_named(long_trail, change, first_bad, problem):
    with session_scope(long_trail.ctx.engine) as session:
        session.execute(change)
    report = _verify(long_trail)
    assert not report.intact and report.first_bad == first_bad and problem in report.problem
    assert report.checked == first_bad - 1
