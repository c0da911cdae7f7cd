"""Rights requests: opened through the CLI (letters, e-mails) and the API, with deadlines."""

import json
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from tutela.api import create_app
from tutela.clock import today as clock_today


@pytest.fixture
def imported(env, cli, example, tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps(example) + "\n")
    assert cli("subjects", "import", str(path)).exit_code == 0
    return env


def test_a_letter_is_opened_with_its_legal_due_date(imported, cli):
    result = cli(
        "requests",
        "open",
        "--type",
        "access",
        "--external-id",
        "crm-42",
        "--received",
        "2026-01-31",
        "--channel",
        "post",
        "--json",
    )
    assert result.exit_code == 0, result.stderr
    opened = json.loads(result.stdout)
    assert (opened["type"], opened["channel"], opened["due_on"]) == ("access", "post", "2026-02-28")
    assert opened["external_id"] == "crm-42" and opened["status"] == "open"
    assert "subject_id" not in opened  # outputs name people by external id only
    shown = json.loads(cli("requests", "show", opened["id"], "--json").stdout)
    assert shown == opened


def test_the_person_is_found_by_e_mail_through_the_blind_index(imported, cli):
    opened = json.loads(
        cli("requests", "open", "--type", "erasure", "--email", "ANA@example.org", "--json").stdout
    )
    assert opened["external_id"] == "crm-42"
    unknown = json.loads(
        cli(
            "requests", "open", "--type", "confirmation", "--email", "nobody@example.org", "--json"
        ).stdout
    )
    assert unknown["external_id"] is None  # nothing held: the answer will say so


def test_extension_once_before_the_deadline(imported, cli):
    today = clock_today()
    late = json.loads(
        cli(
            "requests",
            "open",
            "--type",
            "access",
            "--external-id",
            "crm-42",
            "--received",
            str(today - timedelta(days=40)),
            "--json",
        ).stdout
    )
    refused = cli("requests", "extend", late["id"], "--months", "2", "--reason", "volume")
    assert refused.exit_code == 1 and "has passed" in refused.stderr
    fresh = json.loads(
        cli("requests", "open", "--type", "access", "--external-id", "crm-42", "--json").stdout
    )
    extended = json.loads(
        cli(
            "requests",
            "extend",
            fresh["id"],
            "--months",
            "2",
            "--reason",
            "complex request",
            "--json",
        ).stdout
    )
    assert extended["extended_months"] == 2 and extended["extension_reason"] == "complex request"
    assert extended["due_on"] > fresh["due_on"]
    again = cli("requests", "extend", fresh["id"], "--months", "1", "--reason", "more")
    assert again.exit_code == 1 and "already extended" in again.stderr

    overdue = json.loads(cli("requests", "list", "--overdue", "--json").stdout)
    assert [r["id"] for r in overdue] == [late["id"]]
    soon = json.loads(cli("requests", "list", "--due-within", "30", "--json").stdout)
    assert late["id"] in [r["id"] for r in soon] and fresh["id"] not in [r["id"] for r in soon]
    erasures = json.loads(cli("requests", "list", "--type", "erasure", "--json").stdout)
    theirs = json.loads(cli("requests", "list", "--external-id", "crm-42", "--json").stdout)
    nobody = json.loads(cli("requests", "list", "--external-id", "crm-43", "--json").stdout)
    assert erasures == [] and nobody == [] and len(theirs) == 2
    events = json.loads(cli("audit", "show", "--json").stdout)
    assert {"open_request", "extend_request"} <= {e["action"] for e in events}


def test_bad_requests_are_refused_by_name(imported, cli):
    assert (
        "unknown request type"
        in cli("requests", "open", "--type", "wish", "--external-id", "crm-42").stderr
    )
    future = str(clock_today() + timedelta(days=2))
    assert (
        "in the future"
        in cli(
            "requests", "open", "--type", "access", "--external-id", "crm-42", "--received", future
        ).stderr
    )
    both = cli(
        "requests",
        "open",
        "--type",
        "access",
        "--external-id",
        "crm-42",
        "--email",
        "ana@example.org",
    )
    assert both.exit_code == 2


def test_the_api_opens_lists_and_extends(imported):
    with TestClient(create_app(imported.ctx)) as client:
        client.headers["Authorization"] = f"Bearer {imported.admin_key}"
        opened = client.post(
            "/requests",
            json={"type": "portability", "external_id": "crm-42", "received": "2026-03-31"},
        )
        assert opened.status_code == 201 and opened.json()["due_on"] == "2026-04-30"
        assert client.post("/requests", json={"type": "access"}).status_code == 422
        listed = client.get("/requests").json()
        assert [r["id"] for r in listed] == [opened.json()["id"]]
        fresh = client.post("/requests", json={"type": "access", "email": "ana@example.org"})
        extended = client.post(
            f"/requests/{fresh.json()['id']}/extension",
            json={"months": 1, "reason": "many systems to search"},
        )
        assert extended.status_code == 200 and extended.json()["extended_months"] == 1
        assert client.get("/requests/nope").status_code == 404
