"""Identity first: a one-time code e-mailed (over real SMTP) to the address on file, or a
staff attestation for letters; codes hashed, expiring, limited in attempts."""

import json
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from tutela.api import create_app
from tutela.clock import today as clock_today
from tutela.outbox.models import OutboxMessage


@pytest.fixture
def imported(env, cli, example, tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps(example) + "\n")
    assert cli("subjects", "import", str(path)).exit_code == 0
    return env


def open_online(cli):
    result = cli(
        "requests",
        "open",
        "--type",
        "access",
        "--email",
        "ana@example.org",
        "--channel",
        "email",
        "--json",
    )
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)["id"]


def test_a_code_goes_to_the_address_on_file_and_verifies(imported, cli, inbox):
    request_id = open_online(cli)
    assert json.loads(cli("outbox", "send", "--json").stdout) == {
        "sent": 1,
        "retry": 0,
        "failed": 0,
    }
    (mail,) = inbox.messages
    assert mail.rcpt_tos == ["ana@example.org"]
    code = inbox.code_for("ana@example.org")
    listed = cli("outbox", "list", "--json").stdout
    assert "ana@example.org" not in listed and code not in listed
    with imported.ctx.engine.connect() as conn:
        (body,) = conn.execute(select(OutboxMessage.body)).one()
    assert body is None  # the text, code included, is dropped once delivered

    verified = cli("requests", "verify", request_id, "--code", code, "--json")
    assert verified.exit_code == 0, verified.stderr
    assert json.loads(cli("requests", "show", request_id, "--json").stdout)["status"] == "verified"
    again = cli("requests", "verify", request_id, "--code", code)
    assert again.exit_code == 1 and "already verified" in again.stderr


def test_wrong_codes_are_counted_and_end_the_request(imported, cli, inbox):
    request_id = open_online(cli)
    cli("outbox", "send")
    code = inbox.code_for("ana@example.org")
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for left in (4, 3, 2, 1, 0):
        result = cli("requests", "verify", request_id, "--code", wrong)
        assert result.exit_code == 1 and f"({left} attempt(s) left)" in result.stderr
    locked = cli("requests", "verify", request_id, "--code", code)
    assert locked.exit_code == 1 and "must make a new request" in locked.stderr
    closed = json.loads(cli("requests", "show", request_id, "--json").stdout)
    assert closed["status"] == "unverified"  # the attempts ran out: the request ended
    assert closed["answer"]["outcome"] == "unverified" and closed["answered_at"]


def test_a_letter_is_verified_by_staff_who_checked_the_id(imported, cli, inbox):
    opened = json.loads(
        cli(
            "requests",
            "open",
            "--type",
            "erasure",
            "--external-id",
            "crm-42",
            "--channel",
            "post",
            "--json",
        ).stdout
    )
    assert json.loads(cli("outbox", "send", "--json").stdout)["sent"] == 0  # no code by post
    result = cli("requests", "verify", opened["id"], "--id-checked-by", "Claire, DPO office")
    assert result.exit_code == 0, result.stderr
    events = json.loads(cli("audit", "show", "--json").stdout)
    assert events[-1]["action"] == "verify_identity" and events[-1]["outcome"] == "done"


def test_an_unreachable_smtp_server_is_retried_later(imported, cli, monkeypatch, unused_port):
    open_online(cli)
    monkeypatch.setenv("TUTELA_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("TUTELA_SMTP_PORT", str(unused_port))  # nothing listens there
    assert json.loads(cli("outbox", "send", "--json").stdout) == {
        "sent": 0,
        "retry": 1,
        "failed": 0,
    }
    (message,) = json.loads(cli("outbox", "list", "--json").stdout)
    assert message["status"] == "pending" and message["attempts"] == 1
    assert "cannot reach the SMTP server" in message["last_error"]
    # Not due again before its backoff: a second run right away tries nothing.
    assert json.loads(cli("outbox", "send", "--json").stdout)["retry"] == 0


def test_the_api_checks_codes_and_keeps_count(imported, cli, inbox):
    with TestClient(create_app(imported.ctx)) as client:
        client.headers["Authorization"] = f"Bearer {imported.admin_key}"
        opened = client.post("/requests", json={"type": "access", "email": "ana@example.org"})
        request_id = opened.json()["id"]
        cli("outbox", "send")
        code = inbox.code_for("ana@example.org")
        wrong = f"{(int(code) + 1) % 10**6:06d}"
        refused = client.post(f"/requests/{request_id}/verification", json={"code": wrong})
        assert refused.status_code == 403 and "4 attempt(s) left" in refused.json()["detail"]
        ok = client.post(f"/requests/{request_id}/verification", json={"code": code})
        assert ok.status_code == 200 and ok.json()["status"] == "verified"


def test_an_extension_is_told_to_the_person_with_its_reasons(imported, cli, inbox):
    request_id = open_online(cli)
    extended = cli(
        "requests", "extend", request_id, "--months", "1", "--reason", "many archives", "--json"
    )
    assert json.loads(extended.stdout)["person_told"] == "email"
    cli("outbox", "send")
    notice = [m for m in inbox.messages if b"more time" in m.content]
    assert len(notice) == 1 and notice[0].rcpt_tos == ["ana@example.org"]
    due = json.loads(cli("requests", "show", request_id, "--json").stdout)["due_on"]
    assert due.encode() in notice[0].content and b"many archives" in notice[0].content
    assert b"CNIL" in notice[0].content  # every message names where to complain


def test_repeated_requests_are_flagged_for_the_dpo_never_refused(imported, cli):
    def open_access(days_ago: int) -> dict:
        received = str(clock_today() - timedelta(days=days_ago))
        result = cli(
            "requests", "open", "--type", "access", "--external-id", "crm-42",
            "--received", received, "--channel", "post", "--json",
        )  # fmt: skip
        assert result.exit_code == 0, result.stderr
        return json.loads(result.stdout)

    assert open_access(200)["flag"] is None
    assert open_access(60)["flag"] is None  # one earlier request, long before the window
    assert open_access(30)["flag"] is None  # one earlier in the window: allowed
    third = open_access(0)
    assert "3 access requests within 90 days" in third["flag"] and third["status"] == "open"
    assert str(clock_today() - timedelta(days=60)) in third["flag"]
    other = cli("requests", "open", "--type", "erasure", "--external-id", "crm-42", "--json")
    assert json.loads(other.stdout)["flag"] is None  # another type counts apart
    listed = cli("requests", "list").stdout
    assert "repeated" in listed


def test_a_message_claimed_by_a_sender_that_died_is_sent_again(imported, cli, inbox):
    open_online(cli)
    with imported.ctx.engine.begin() as conn:  # as a sender killed between claim and mark
        conn.execute(update(OutboxMessage).values(status="sending"))
    assert json.loads(cli("outbox", "send", "--json").stdout)["sent"] == 1
    assert inbox.messages[0].rcpt_tos == ["ana@example.org"]
    (message,) = json.loads(cli("outbox", "list", "--json").stdout)
    assert message["status"] == "sent"


def test_the_api_processes_and_gives_the_copy_only_once_verified(imported, cli, inbox):
    with TestClient(create_app(imported.ctx)) as client:
        client.headers["Authorization"] = f"Bearer {imported.admin_key}"
        opened = client.post("/requests", json={"type": "access", "email": "ana@example.org"})
        request_id = opened.json()["id"]
        early = client.get(f"/requests/{request_id}/copy")
        assert early.status_code == 403 and "ana@example.org" not in early.text
        assert client.post(f"/requests/{request_id}/processing").status_code == 403
        cli("outbox", "send")
        code = inbox.code_for("ana@example.org")
        client.post(f"/requests/{request_id}/verification", json={"code": code})
        answer = client.post(f"/requests/{request_id}/processing").json()
        assert answer["outcome"] == "done" and answer["copy"] == f"/requests/{request_id}/copy"
        assert "CNIL" in json.dumps(answer["contacts"])
        copy = client.get(f"/requests/{request_id}/copy", params={"format": "json"})
        assert copy.json()["copy"]["personal_data"]["identification"]["email"] == "ana@example.org"
        page = client.get(f"/requests/{request_id}/copy", params={"format": "html"})
        assert (
            page.headers["content-type"].startswith("text/html") and "ana@example.org" in page.text
        )
        confirmation = client.post(
            "/requests", json={"type": "confirmation", "email": "ana@example.org"}
        ).json()
        assert confirmation["type"] == "confirmation"
    exports = [
        e for e in json.loads(cli("audit", "show", "--json").stdout) if e["action"] == "export"
    ]
    # Each copy given is audited: the one e-mailed with the answer, then the two fetched;
    # the refused one is not an export.
    assert len(exports) == 3


def test_only_a_role_granted_rights_requests_processes_or_copies(imported, cli):
    added = json.loads(cli("principals", "add", "mia", "--role", "marketing", "--json").stdout)
    opened = cli("requests", "open", "--type", "access", "--external-id", "crm-42", "--json")
    request_id = json.loads(opened.stdout)["id"]
    cli("requests", "verify", request_id, "--id-checked-by", "Claire")
    with TestClient(create_app(imported.ctx)) as client:
        client.headers["Authorization"] = f"Bearer {added['api_key']}"
        for refused in (
            client.post(f"/requests/{request_id}/processing"),
            client.get(f"/requests/{request_id}/copy"),
        ):
            assert refused.status_code == 403 and "rights_requests" in refused.json()["detail"]
            assert "ana@example.org" not in refused.text


def test_concurrent_guesses_use_up_exactly_the_attempts(imported, cli, inbox):
    """Many wrong codes at once (threads, each its own transaction): exactly five are
    checked, then the request is closed; no attempt is lost to a race (PostgreSQL too)."""
    import threading

    from tutela.access.gate import Actor
    from tutela.clock import now
    from tutela.db import session_scope
    from tutela.errors import Conflict
    from tutela.requests import intake

    request_id = open_online(cli)
    cli("outbox", "send")
    wrong = f"{(int(inbox.code_for('ana@example.org')) + 1) % 10**6:06d}"
    ctx, outcomes, lock = imported.ctx, [], threading.Lock()

    def guess():
        try:
            with session_scope(ctx.engine) as session:
                refused = intake.verify(
                    session=session, keyring=ctx.keyring(session), rules=ctx.rules,
                    actor=Actor.console(), request_id=request_id, code=wrong,
                    id_checked_by=None, at=now(),
                )  # fmt: skip
            outcome = refused
        except Conflict as exc:
            outcome = str(exc)
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=guess) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    checked = [o for o in outcomes if o.startswith("wrong code")]
    assert len(checked) == 5 and len(outcomes) == 20
    assert sorted(checked) == sorted(f"wrong code ({n} attempt(s) left)" for n in range(5))
    assert (
        json.loads(cli("requests", "show", request_id, "--json").stdout)["status"] == "unverified"
    )
