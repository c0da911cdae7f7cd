"""A trail no database writer can rewrite: links keyed under the key file, and signed
checkpoints kept outside the database that show a cut tail."""

import hmac
import json
import logging
import secrets

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import delete, select, update

from tutela.audit.chain import GENESIS, link, mac
from tutela.audit.models import AuditEvent, AuditHead
from tutela.audit.service import Event, record
from tutela.audit.verify import chain_rows, link_message
from tutela.clock import now
from tutela.db import session_scope
from tutela.outbox.models import OutboxMessage


@pytest.fixture
def trail(env):
    with session_scope(env.ctx.engine) as session:
        record(
            session,
            [Event("t", f"test{i}", "done", detail={"i": i}) for i in range(20)],
            at=now(),
            policy_version="test",
        )
    return env


def _head(env) -> int:
    with session_scope(env.ctx.engine, write=False) as session:
        return session.get(AuditHead, 1).seq


def _rechain(env, start: int, *, key: bytes | None, key_id: str | None, change=None) -> None:
    """What a database writer can do: alter event `start`, then compute every link from it
    on again, under a key of their own (or none) and move the head to the new last link."""
    with session_scope(env.ctx.engine) as session:
        if change is not None:
            session.execute(change)
        head = session.get(AuditHead, 1)
        prev = session.scalar(select(AuditEvent.hash).where(AuditEvent.seq == start - 1))
        prev = prev or GENESIS
        rows = [r for batch in chain_rows(session.connection(), start, head.seq) for r in batch]
        for seq, at, *fields, detail, _, _, _ in rows:
            this = mac(key)(link_message(prev, seq, at, fields, detail))
            session.execute(
                update(AuditEvent)
                .where(AuditEvent.seq == seq)
                .values(prev_hash=prev, hash=this, chain_key_id=key_id)
            )
            prev = this
        head.hash = prev


def _verify(cli, *args):
    result = cli("audit", "verify", "--json", *args)
    return result.exit_code, json.loads(result.stdout)


def test_a_fresh_trail_is_keyed_and_verifies(trail, cli):
    code, report = _verify(cli)
    assert code == 0 and report["intact"] and report["checked"] == _head(trail)
    with session_scope(trail.ctx.engine, write=False) as session:
        ids = set(session.scalars(select(AuditEvent.chain_key_id)))
    assert ids == {trail.ctx.keyset().active.key_id}


@pytest.mark.parametrize(
    ("key", "named"),
    [(None, False), (None, True), ("an attacker's", True)],
    ids=["plain SHA-256, unkeyed", "plain SHA-256, naming the store's key", "HMAC, other key"],
)
def test_altering_and_rechaining_is_detected(trail, cli, key, named):
    own = trail.ctx.keyset().active.key_id
    change = update(AuditEvent).where(AuditEvent.seq == 8).values(outcome="denied")
    key = secrets.token_bytes(32) if key else None
    _rechain(trail, 8, key=key, key_id=own if named else None, change=change)
    code, report = _verify(cli)
    assert code == 1 and not report["intact"]
    assert report["first_bad_event"] == 8 and report["checked"] == 7


def test_an_event_the_key_file_never_chained_is_refused_by_name(trail, cli):
    _rechain(trail, 5, key=secrets.token_bytes(32), key_id="0123456789abcdef")
    code, report = _verify(cli)
    assert code == 1 and report["first_bad_event"] == 5
    assert "not chained under any key of this store" in report["problem"]


def test_a_checkpoint_is_signed_kept_outside_and_mailed_to_the_dpo(trail, cli, caplog):
    with caplog.at_level(logging.INFO, logger="tutela.audit"):
        result = cli("audit", "checkpoint", "--json")
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    taken, path = out["checkpoint"], trail.workdir / out["file"]
    assert taken["seq"] == _head(trail) - 1 and taken["format"] == "tutela-audit-checkpoint/1"
    assert json.loads(path.read_text()) == taken
    assert any(taken["signature"] in r.getMessage() for r in caplog.records)  # the log line
    with session_scope(trail.ctx.engine, write=False) as session:
        mails = session.scalars(select(OutboxMessage)).all()
        assert [m.subject for m in mails] == [f"Tutela: audit checkpoint at event {taken['seq']}"]
        keyring = trail.ctx.keyring(session)
        to = keyring.open_note(mails[0].recipient, label=f"outbox-to:{mails[0].id}")
        attached = keyring.open_note(mails[0].attachment, label=f"outbox-attachment:{mails[0].id}")
    assert to == trail.ctx.policy.dpo.email
    assert json.loads(json.loads(attached)[2]) == taken
    events = json.loads(cli("audit", "show", "--json").stdout)
    assert [e["detail"]["seq"] for e in events if e["action"] == "checkpoint"] == [taken["seq"]]
    code, report = _verify(cli, "--checkpoint", str(path))
    assert code == 0 and report["checkpoint"] == {
        "seq": taken["seq"],
        "taken_at": taken["taken_at"],
    }


def _checkpoint(cli, tmp_path, name="cp.json"):
    path = tmp_path / name
    assert cli("audit", "checkpoint", "--out", str(path), "--no-email").exit_code == 0
    return path


def test_cutting_the_tail_and_moving_the_head_back_is_shown_by_a_checkpoint(trail, cli, tmp_path):
    path = _checkpoint(cli, tmp_path)
    seen = json.loads(path.read_text())["seq"]
    with session_scope(trail.ctx.engine) as session:
        session.execute(delete(AuditEvent).where(AuditEvent.seq > seen - 4))
        kept = session.scalar(select(AuditEvent.hash).where(AuditEvent.seq == seen - 4))
        session.execute(update(AuditHead).values(seq=seen - 4, hash=kept))
    assert _verify(cli)[0] == 0  # what is left still holds together
    code, report = _verify(cli, "--checkpoint", str(path))
    assert code == 1 and report["first_bad_event"] == seen - 3
    assert "no longer holds" in report["problem"]
    human = cli("audit", "verify", "--checkpoint", str(path))
    assert human.exit_code == 1 and f"saw event {seen}" in human.stderr


def test_a_rewritten_event_under_the_checkpoint_is_named(trail, cli, tmp_path):
    """Whoever holds the key file can chain again; the checkpoint still shows it."""
    path = _checkpoint(cli, tmp_path)
    master = trail.ctx.keyset().active
    change = update(AuditEvent).where(AuditEvent.seq == 3).values(outcome="denied")
    _rechain(trail, 3, key=master.chain_key, key_id=master.key_id, change=change)
    assert _verify(cli)[0] == 0
    code, report = _verify(cli, "--checkpoint", str(path))
    assert code == 1 and "rewritten" in report["problem"]


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("seq", 2, "signature does not match"),
        ("hash", "0" * 64, "signature does not match"),
        ("public_key", "QUFB", "not signed by this store"),
        ("key_id", "0123456789abcdef", "does not hold"),
    ],
)
def test_an_altered_checkpoint_proves_nothing(trail, cli, tmp_path, field, value, problem):
    path = _checkpoint(cli, tmp_path)
    document = json.loads(path.read_text())
    path.write_text(json.dumps({**document, field: value}))
    code, report = _verify(cli, "--checkpoint", str(path))
    assert code == 1 and problem in report["problem"]


def test_a_checkpoint_folder_gives_its_newest_and_a_log_line_is_a_checkpoint(trail, cli, tmp_path):
    first = json.loads(cli("audit", "checkpoint", "--no-email", "--json").stdout)
    second = json.loads(cli("audit", "checkpoint", "--no-email", "--json").stdout)
    assert second["checkpoint"]["seq"] > first["checkpoint"]["seq"]
    code, report = _verify(cli, "--checkpoint", "checkpoints")
    assert code == 0 and report["checkpoint"]["seq"] == second["checkpoint"]["seq"]
    line = tmp_path / "log.txt"
    line.write_text(
        "2026-12-01 INFO tutela.audit audit checkpoint " + json.dumps(first["checkpoint"])
    )
    assert _verify(cli, "--checkpoint", str(line))[0] == 0
    line.write_text("not a checkpoint")
    refused = cli("audit", "verify", "--checkpoint", str(line))
    assert refused.exit_code == 1 and "not a Tutela audit checkpoint" in refused.stderr


def test_a_broken_trail_gets_no_checkpoint(trail, cli, tmp_path):
    with session_scope(trail.ctx.engine) as session:
        session.execute(update(AuditEvent).where(AuditEvent.seq == 4).values(action="forged"))
    result = cli("audit", "checkpoint", "--out", str(tmp_path / "cp.json"))
    assert result.exit_code == 1 and "broken at event 4" in result.stderr
    assert not (tmp_path / "cp.json").exists()


def test_a_missing_head_row_is_reported_not_a_traceback(trail, cli):
    with session_scope(trail.ctx.engine) as session:
        session.execute(delete(AuditHead))
    result = cli("audit", "verify")
    assert result.exit_code == 1 and "head row is missing" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_a_rotation_keeps_the_trail_and_its_checkpoints_verifiable(trail, cli, tmp_path):
    path = _checkpoint(cli, tmp_path)
    old = trail.ctx.keyset().active.key_id
    assert cli("keys", "rotate").exit_code == 0
    cli("subjects", "list")  # a new event, chained under the new key
    assert cli("keys", "rotate").exit_code == 0  # and the first key retires for good
    keys = trail.ctx.keyset()
    assert old in keys.retired and old not in {m.key_id for m in keys.masters}
    code, report = _verify(cli, "--checkpoint", str(path))
    assert code == 0 and report["intact"]
    with session_scope(trail.ctx.engine, write=False) as session:
        ids = set(session.scalars(select(AuditEvent.chain_key_id)))
    assert old in ids and len(ids) >= 2


def test_init_keys_a_trail_written_before_keyed_chains(trail, cli):
    _rechain(trail, 1, key=None, key_id=None)  # as an earlier version wrote it
    unkeyed_head = _head(trail)
    with session_scope(trail.ctx.engine, write=False) as session:
        old_hash = session.get(AuditHead, 1).hash
    assert _verify(cli)[0] == 1  # unkeyed links prove nothing
    result = cli("init", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["trail_keyed"] is True
    code, report = _verify(cli)
    assert code == 0 and report["checked"] == unkeyed_head + 1
    (keyed,) = [
        e for e in json.loads(cli("audit", "show", "--json").stdout) if e["action"] == "key_trail"
    ]
    assert keyed["detail"] == {"unkeyed_head_seq": unkeyed_head, "unkeyed_head_hash": old_hash}
    assert json.loads(cli("init", "--json").stdout)["trail_keyed"] is None  # once


def test_init_leaves_a_broken_unkeyed_trail_as_it_is(trail, cli):
    _rechain(trail, 1, key=None, key_id=None)
    with session_scope(trail.ctx.engine) as session:
        session.execute(update(AuditEvent).where(AuditEvent.seq == 6).values(action="forged"))
    result = cli("init")
    assert result.exit_code == 1 and "broken at event 6" in result.stderr
    with session_scope(trail.ctx.engine, write=False) as session:
        assert set(session.scalars(select(AuditEvent.chain_key_id))) == {None}


@given(key=st.binary(min_size=1, max_size=64), prev=st.text(max_size=64), seq=st.integers(0, 2**62))
def test_a_link_is_the_hmac_sha256_of_the_standard_library(key, prev, seq):
    row = ("2026-12-01 10:00:00.000000", "t", "read", None, "", None, "done", "", "v", {})
    message = prev.encode() + orjson.dumps([seq, *row], option=orjson.OPT_SORT_KEYS)
    assert link(key, prev, seq, row) == hmac.digest(key, message, "sha256").hex()
