"""Requests end to end: verified first, then decided by the policy, with reasons and contacts."""

import hashlib
import hmac
import json
import os
import stat
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar

import pytest

from tutela.settings import get_settings


@pytest.fixture
def ana(env, cli, example, tmp_path, inbox):
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps(example) + "\n")
    assert cli("subjects", "import", str(path)).exit_code == 0
    return inbox


def verified_request(cli, inbox, type_):
    opened = json.loads(
        cli(
            "requests",
            "open",
            "--type",
            type_,
            "--email",
            "ana@example.org",
            "--channel",
            "email",
            "--json",
        ).stdout
    )
    cli("outbox", "send")
    code = inbox.code_for("ana@example.org", opened["id"])
    assert cli("requests", "verify", opened["id"], "--code", code).exit_code == 0
    return opened["id"]


def test_nothing_is_disclosed_before_identity_is_verified(ana, cli, tmp_path):
    opened = json.loads(
        cli("requests", "open", "--type", "access", "--email", "ana@example.org", "--json").stdout
    )
    refused = cli("requests", "process", opened["id"])
    assert refused.exit_code == 1 and "not verified" in refused.stderr
    out = tmp_path / "copy.html"
    assert cli("requests", "export", opened["id"], "--out", str(out)).exit_code == 1
    assert not out.exists()


def test_access_gives_a_copy_with_purposes_recipients_retention_and_trail(ana, cli, tmp_path):
    request_id = verified_request(cli, ana, "access")
    answer = json.loads(cli("requests", "process", request_id, "--json").stdout)
    assert answer["outcome"] == "done" and answer["copy"] == "ready: tutela requests export"
    assert answer["contacts"]["dpo"]["email"] == "dpo-wimi@racine.eu"
    assert "3 Place de Fontenoy" in answer["contacts"]["complaint"]["address"]

    out = tmp_path / "copy.json"
    assert (
        cli("requests", "export", request_id, "--format", "json", "--out", str(out)).exit_code == 0
    )
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    copy = json.loads(out.read_text())["copy"]
    assert copy["personal_data"]["identification"]["email"] == "ana@example.org"
    assert copy["personal_data"]["technical"][0]["ip"] == "203.0.113.7"
    assert {p["legal_basis"] for p in copy["purposes"]} >= {"consent", "contract"}
    assert copy["recipients"] and copy["retention"]
    assert any(r["until"] == "2026-03-01" for r in copy["retention"])  # prospect data: 3 years
    assert {e["action"] for e in copy["access_trail"]} >= {"open_request", "verify_identity"}
    assert "principal" not in json.dumps(copy["access_trail"])  # staff names left out

    page = tmp_path / "copy.html"
    assert cli("requests", "export", request_id, "--out", str(page)).exit_code == 0
    html = page.read_text()
    assert "ana@example.org" in html and "dpo-wimi@racine.eu" in html and "CNIL" in html
    again = cli("requests", "export", request_id, "--out", str(page))
    assert again.exit_code == 2 and "refusing to overwrite" in again.stderr


def test_objection_stops_prospecting_and_profiling(ana, cli):
    assert cli("subjects", "show", "crm-42", "--purpose", "profiling").exit_code == 0
    request_id = verified_request(cli, ana, "objection")
    answer = json.loads(cli("requests", "process", request_id, "--json").stdout)
    assert answer["outcome"] == "done"
    refused = cli("subjects", "show", "crm-42", "--purpose", "profiling")
    assert refused.exit_code == 1 and "objected to" in refused.stderr


def test_consent_withdrawal_withdraws_every_active_consent(ana, cli):
    request_id = verified_request(cli, ana, "consent_withdrawal")
    answer = json.loads(cli("requests", "process", request_id, "--json").stdout)
    assert answer["done"] == ["consent withdrawn: Profiling to find commercial prospects"]
    assert cli("subjects", "show", "crm-42", "--purpose", "profiling").exit_code == 1


def test_a_person_with_no_data_is_told_so(ana, cli):
    opened = json.loads(
        cli(
            "requests",
            "open",
            "--type",
            "confirmation",
            "--email",
            "nobody@example.org",
            "--channel",
            "post",
            "--json",
        ).stdout
    )
    cli("requests", "verify", opened["id"], "--id-checked-by", "Claire")
    answer = json.loads(cli("requests", "process", opened["id"], "--json").stdout)
    assert answer["outcome"] == "nothing_held"
    assert json.loads(cli("requests", "show", opened["id"], "--json").stdout)["status"] == "closed"


def test_a_prospects_erasure_leaves_nothing_not_even_the_key(ana, cli):
    request_id = verified_request(cli, ana, "erasure")
    answer = json.loads(cli("requests", "process", request_id, "--json").stdout)
    assert answer["done"][0] == "all your personal data was erased, and the key that encrypted it"
    assert "suppression list" in answer["done"][1]
    gone = cli("subjects", "show", "crm-42", "--purpose", "rights_requests")
    assert gone.exit_code == 1 and "no subject" in gone.stderr
    assert json.loads(cli("requests", "show", request_id, "--json").stdout)["status"] == "closed"


def test_a_clients_erasure_keeps_what_the_law_needs_and_says_until_when(env, cli, inbox, tmp_path):
    client = {
        "external_id": "c-1",
        "kind": "client",
        "source": "registration_form",
        "identification": {"first_name": "Léa", "last_name": "Martin", "email": "lea@example.org"},
        "lifecycle": {"subscription_started_at": "2024-01-01"},
        "contract": {"plan": "wimi_teamwork", "contract_reference": "C-1"},
        "enriched": {"segment": "smb"},
        "connections": [{"at": "2026-01-01T10:00:00Z", "ip": "198.51.100.3"}],
        "payments": [{"at": "2026-01-02T10:00:00Z", "method": "card", "card_last4": "4242"}],
    }
    path = tmp_path / "c.jsonl"
    path.write_text(json.dumps(client) + "\n")
    assert cli("subjects", "import", str(path)).exit_code == 0
    opened = json.loads(
        cli(
            "requests",
            "open",
            "--type",
            "erasure",
            "--external-id",
            "c-1",
            "--channel",
            "post",
            "--json",
        ).stdout
    )
    cli("requests", "verify", opened["id"], "--id-checked-by", "Claire")
    answer = json.loads(cli("requests", "process", opened["id"], "--json").stdout)
    assert answer["done"] == [
        "erased: enriched, technical",
        "notices queued for recipients (Art. 19): subprocessor_staff, hosting, crm",
    ]
    kept = "\n".join(answer["reasons"])
    assert "Kept: contract, for Management of the accounting and billing (legal obligation)" in kept
    assert "60 months after the end of your subscription" in kept  # proof of contract
    assert "Kept: banking" in kept and "Kept: identification" in kept
    assert "Your subscription is running" in kept
    left = json.loads(
        cli("subjects", "show", "c-1", "--purpose", "legal_archiving", "--json").stdout
    )["data"]
    assert set(left) == {"identification", "contract", "banking"}


def test_objection_and_prospect_erasure_keep_purchased_data_out(ana, cli, tmp_path):
    """§5.3: a purchased database must not bring back someone who objected or was erased."""
    request_id = verified_request(cli, ana, "erasure")
    cli("requests", "process", request_id)
    bought = {
        "external_id": "db-9",
        "kind": "prospect",
        "source": "purchased_database",
        "identification": {"last_name": "Roy", "email": "Ana@Example.org"},
    }
    other = {
        "external_id": "db-10",
        "kind": "prospect",
        "source": "purchased_database",
        "identification": {"last_name": "Lee", "email": "lee@example.org"},
    }
    path = tmp_path / "bought.jsonl"
    path.write_text(json.dumps(bought) + "\n" + json.dumps(other) + "\n")
    report = json.loads(cli("subjects", "import", str(path), "--json").stdout)
    assert (report["created"], report["suppressed"]) == (1, 1)
    assert cli("subjects", "show", "db-9", "--purpose", "rights_requests").exit_code == 1
    # Coming back on her own, through the registration form, is her choice: not suppressed.
    own = {
        "external_id": "crm-77",
        "kind": "prospect",
        "source": "registration_form",
        "identification": {"first_name": "Ana", "last_name": "Roy", "email": "ana@example.org"},
    }
    path.write_text(json.dumps(own) + "\n")
    report = json.loads(cli("subjects", "import", str(path), "--json").stdout)
    assert (report["created"], report["suppressed"]) == (1, 0)


def test_an_objection_to_prospecting_suppresses_too(ana, cli, tmp_path):
    assert cli("consents", "object", "crm-42", "--scope", "prospecting").exit_code == 0
    bought = {
        "external_id": "db-1",
        "kind": "prospect",
        "source": "market_research",
        "identification": {"last_name": "Roy", "email": "ana@example.org"},
    }
    path = tmp_path / "bought.jsonl"
    path.write_text(json.dumps(bought) + "\n")
    report = json.loads(cli("subjects", "import", str(path), "--json").stdout)
    assert report["suppressed"] == 1 and report["created"] == 0


def test_portability_gives_only_what_the_person_gave_as_json_and_csv(ana, cli, tmp_path):
    request_id = verified_request(cli, ana, "portability")
    answer = json.loads(cli("requests", "process", request_id, "--json").stdout)
    assert answer["outcome"] == "done"
    out = tmp_path / "mine.json"
    assert (
        cli("requests", "export", request_id, "--format", "json", "--out", str(out)).exit_code == 0
    )
    data = json.loads(out.read_text())["copy"]["personal_data"]
    assert data == {
        "identification": {
            "first_name": "Ana",
            "last_name": "Roy",
            "email": "ana@example.org",
            "phone": "+33 6 12 34 56 78",
        }
    }
    table = tmp_path / "mine.csv"
    assert (
        cli("requests", "export", request_id, "--format", "csv", "--out", str(table)).exit_code == 0
    )
    lines = table.read_text().splitlines()
    assert lines[0] == "category,field,value" and "identification,email,ana@example.org" in lines
    assert not any(line.startswith(("enriched", "technical")) for line in lines)


def test_restriction_is_applied_unless_the_contract_needs_the_data(ana, cli, tmp_path):
    request_id = verified_request(cli, ana, "restriction")
    answer = json.loads(cli("requests", "process", request_id, "--json").stdout)
    assert answer["outcome"] == "done" and answer["done"][0].startswith("processing restricted")
    refused = cli("subjects", "show", "crm-42", "--purpose", "market_research")
    assert refused.exit_code == 1 and "restricted" in refused.stderr

    client = {
        "external_id": "c-2",
        "kind": "client",
        "source": "registration_form",
        "identification": {"first_name": "Léa", "last_name": "Martin", "email": "lea@example.org"},
        "lifecycle": {"subscription_started_at": "2024-01-01"},
    }
    path = tmp_path / "c.jsonl"
    path.write_text(json.dumps(client) + "\n")
    cli("subjects", "import", str(path))
    opened = json.loads(
        cli(
            "requests",
            "open",
            "--type",
            "restriction",
            "--external-id",
            "c-2",
            "--channel",
            "post",
            "--json",
        ).stdout
    )
    cli("requests", "verify", opened["id"], "--id-checked-by", "Claire")
    answer = json.loads(cli("requests", "process", opened["id"], "--json").stdout)
    assert answer["outcome"] == "refused"
    assert "necessary to the contract" in answer["reasons"][0] and "§13" in answer["reasons"][0]
    assert cli("subjects", "show", "c-2", "--purpose", "support").exit_code == 0


def test_a_request_is_answered_once(ana, cli):
    request_id = verified_request(cli, ana, "objection")
    assert cli("requests", "process", request_id).exit_code == 0
    again = cli("requests", "process", request_id)
    assert again.exit_code == 1 and "already answered" in again.stderr
    late = cli("requests", "extend", request_id, "--months", "1", "--reason", "more time")
    assert late.exit_code == 1 and "no deadline to extend" in late.stderr


def test_rectification_makes_substantial_changes_and_refuses_convenience_ones(ana, env, cli):
    changes = {
        "identification.last_name": "Martin",  # identity: corrected
        "identification.company": "ACME",  # not civil status, identity or contact
        "identification.email": "ANA@Example.org",  # the same address, in another form
        "identification.phone": "not a number",
    }
    opened = cli(
        "requests", "open", "--type", "rectification", "--external-id", "crm-42",
        "--channel", "post", "--json",
        *[arg for key, value in changes.items() for arg in ("--change", f"{key}={value}")],
    )  # fmt: skip
    assert opened.exit_code == 0, opened.stderr
    request_id = json.loads(opened.stdout)["id"]
    assert cli("requests", "verify", request_id, "--id-checked-by", "Claire").exit_code == 0
    answer = json.loads(cli("requests", "process", request_id, "--json").stdout)
    assert answer["outcome"] == "done"
    assert answer["done"][0] == "corrected: identification.last_name"
    assert answer["done"][1].startswith(
        "notices queued for recipients (Art. 19): partners, debt_collection"
    )
    reasons = " ".join(answer["reasons"])
    assert "identification.company" in reasons and "convenience" in reasons
    assert "identification.email: a change of form only" in reasons
    assert "identification.phone: not a valid phone" in reasons
    assert "CNIL" in json.dumps(answer["contacts"])
    shown = json.loads(
        cli("subjects", "show", "crm-42", "--purpose", "contact_assistance", "--json").stdout
    )
    assert shown["data"]["identification"]["last_name"] == "Martin"
    assert shown["data"]["identification"]["email"] == "ana@example.org"
    assert shown["provenance"]["identification"]["last_name"]["provided_by_subject"] is True
    with env.ctx.engine.connect() as conn:
        (sealed,) = conn.exec_driver_sql("SELECT changes FROM rights_requests").one()
    assert sealed is None  # the values asked for are not kept beside the data
    assert "Martin" not in cli("audit", "show", "--json").stdout


def test_a_rectification_says_what_to_correct(ana, cli):
    bare = cli("requests", "open", "--type", "rectification", "--external-id", "crm-42")
    assert bare.exit_code != 0 and "values to correct" in bare.stderr
    stray = cli(
        "requests", "open", "--type", "access", "--external-id", "crm-42",
        "--change", "identification.last_name=X",
    )  # fmt: skip
    assert stray.exit_code != 0


class Hook(BaseHTTPRequestHandler):
    """A recipient's webhook: keeps what it receives."""

    received: ClassVar[list] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Hook.received.append((dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def partners_hook(monkeypatch):
    server = HTTPServer(("127.0.0.1", 0), Hook)
    Hook.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}/art19"
    monkeypatch.setenv("TUTELA_WEBHOOKS", json.dumps({"partners": {"url": url, "secret": "s3"}}))
    get_settings.cache_clear()
    yield Hook.received
    server.shutdown()
    server.server_close()
    get_settings.cache_clear()


def test_recipients_are_told_of_a_rectification_by_signed_webhook(ana, cli, partners_hook):
    opened = cli(
        "requests", "open", "--type", "rectification", "--external-id", "crm-42",
        "--channel", "post", "--change", "identification.last_name=Martin", "--json",
    )  # fmt: skip
    request_id = json.loads(opened.stdout)["id"]
    cli("requests", "verify", request_id, "--id-checked-by", "Claire")
    assert cli("requests", "process", request_id).exit_code == 0
    counts = json.loads(cli("outbox", "send", "--json").stdout)
    assert counts["sent"] == 1 and counts["retry"] == 6  # six recipients have no webhook yet
    ((headers, body),) = partners_hook
    stamp = headers["X-Tutela-Timestamp"]
    expected = hmac.new(b"s3", stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    assert headers["X-Tutela-Signature"] == f"sha256={expected}"
    notice = json.loads(body)
    assert notice["type"] == "rectification" and notice["external_id"] == "crm-42"
    assert notice["values"] == {"identification": {"last_name": "Martin"}}
    trail = json.loads(cli("audit", "show", "--json").stdout)
    told = [e for e in trail if e["action"] == "notify_recipient"]
    assert {(e["detail"]["recipient"], e["outcome"]) for e in told} >= {
        ("partners", "done"),
        ("crm", "failed"),
    }
    assert "Martin" not in json.dumps(trail) and "Martin" not in cli("outbox", "list").stdout


def directive(cli, *options):
    opened = cli(
        "requests", "open", "--type", "post_mortem", "--external-id", "crm-42",
        "--channel", "post", "--json", *options,
    )  # fmt: skip
    assert opened.exit_code == 0, opened.stderr
    request_id = json.loads(opened.stdout)["id"]
    cli("requests", "verify", request_id, "--id-checked-by", "Claire")
    return json.loads(cli("requests", "process", request_id, "--json").stdout)


def test_a_post_mortem_directive_to_erase_is_carried_out_when_death_is_recorded(ana, cli):
    recorded = directive(cli, "--directive", "erase")
    assert recorded["done"] == ["post-mortem directive recorded: your data is erased once your death is recorded"]  # fmt: skip
    assert cli("subjects", "show", "crm-42", "--purpose", "contact_assistance").exit_code == 0
    death = cli("requests", "death", "crm-42", "--on", "2026-11-01", "--proof", "CERT-1", "--json")
    outcome = json.loads(death.stdout)
    assert outcome["directive"] == "erase"
    assert "all your personal data was erased" in outcome["done"][0]
    assert cli("subjects", "show", "crm-42", "--purpose", "contact_assistance").exit_code != 0
    actions = {e["action"] for e in json.loads(cli("audit", "show", "--json").stdout)}
    assert {"record_death", "answer_request"} <= actions


def test_a_directive_to_communicate_tells_the_person_designated(ana, cli):
    directive(cli, "--directive", "communicate", "--designate", "heir@example.org")
    outcome = json.loads(
        cli("requests", "death", "crm-42", "--on", "2026-11-01", "--proof", "C2", "--json").stdout
    )
    assert outcome["directive"] == "communicate" and outcome["designate_told"]
    cli("outbox", "send")
    (told,) = [m for m in ana.messages if m.rcpt_tos == ["heir@example.org"]]
    assert outcome["request"].encode() in told.content
    access = json.loads(cli("requests", "show", outcome["request"], "--json").stdout)
    assert access["type"] == "access" and access["status"] == "verified"


def test_a_revoked_directive_does_nothing_at_death(ana, cli):
    directive(cli, "--directive", "erase")
    assert directive(cli, "--directive", "revoke")["done"] == [
        "your post-mortem directive is revoked"
    ]
    outcome = json.loads(
        cli("requests", "death", "crm-42", "--on", "2026-11-01", "--proof", "C3", "--json").stdout
    )
    assert outcome == {"directive": None}
    assert cli("subjects", "show", "crm-42", "--purpose", "contact_assistance").exit_code == 0
    missing = cli(
        "requests", "open", "--type", "post_mortem", "--external-id", "crm-42",
        "--directive", "communicate",
    )  # fmt: skip
    assert missing.exit_code != 0 and "designated" in missing.stderr


def test_each_recipient_is_sent_only_the_categories_it_may_hold(env):
    from sqlalchemy import select

    from tutela.clock import now
    from tutela.db import session_scope
    from tutela.outbox.models import OutboxMessage
    from tutela.requests import flows
    from tutela.requests.models import RightsRequest

    changed = {"identification": {"last_name": "Martin"}, "banking": {"card_last4": "4242"}}
    request = RightsRequest(id="r" * 32, type="rectification", subject_id=None)
    with session_scope(env.ctx.engine) as session:
        keyring = env.ctx.keyring(session)
        told = flows._tell_recipients(
            session, keyring, env.ctx.rules, request, "crm-42", changed, now()
        )
        notices = {}
        for message in session.scalars(select(OutboxMessage)):
            recipient = keyring.open_note(message.recipient, label=f"outbox-to:{message.id}")
            body = keyring.open_note(message.body, label=f"outbox-body:{message.id}")
            notices[recipient] = json.loads(body)
    assert set(told) == set(notices) and {"partners", "payment_provider"} <= set(told)
    assert notices["partners"]["values"] == {"identification": {"last_name": "Martin"}}
    assert notices["partners"]["categories"] == ["identification"]
    assert set(notices["payment_provider"]["values"]) == {"identification", "banking"}
