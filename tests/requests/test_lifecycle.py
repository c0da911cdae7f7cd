"""The whole life of a request: refused with reasons, cancelled, closed as unverified; every
ended request keeps its decision; the answer reaches the person by e-mail or by letter."""

import json
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from conftest import client_record, import_people, items, open_verified, process
from tutela.api import create_app
from tutela.clock import today
from tutela.db import session_scope
from tutela.subjects.models import Subject


def show(cli, request_id) -> dict:
    return json.loads(cli("requests", "show", request_id, "--json").stdout)


def test_a_request_is_refused_with_its_reasons_and_the_complaint_route(ana, cli):
    opened = cli("requests", "open", "--type", "access", "--external-id", "crm-42",
                 "--channel", "email", "--json")  # fmt: skip
    request_id = json.loads(opened.stdout)["id"]
    empty = cli("requests", "refuse", request_id, "--reason", " ")
    assert empty.exit_code == 1 and "reasons" in empty.stderr
    refused = json.loads(
        cli(
            "requests", "refuse", request_id, "--reason", "the fifth copy this month", "--json"
        ).stdout
    )
    assert refused["outcome"] == "refused" and refused["reply"] == "email"
    assert "Art. 12(5)" in refused["reasons"][0] and "fifth copy" in refused["reasons"][0]
    assert "Art. 12(4)" in refused["reasons"][1]
    shown = show(cli, request_id)
    assert shown["status"] == "refused" and shown["answer"]["reasons"] == refused["reasons"]
    cli("outbox", "send")
    (mail,) = [m for m in ana.messages if b"the answer to your access request" in m.content]
    assert b"fifth copy" in mail.content and b"CNIL" in mail.content
    assert cli("requests", "process", request_id).exit_code == 1  # ended


def test_a_request_is_cancelled_at_the_persons_wish(ana, cli):
    request_id = open_verified(cli, "erasure", "crm-42")
    cancelled = cli("requests", "cancel", request_id, "--json")
    assert cancelled.exit_code == 0 and json.loads(cancelled.stdout)["status"] == "cancelled"
    assert cli("requests", "process", request_id).exit_code == 1
    assert cli("subjects", "show", "crm-42", "--purpose", "rights_requests").exit_code == 0
    again = cli("requests", "cancel", request_id)
    assert again.exit_code == 1 and "cancelled" in again.stderr


def test_a_request_never_verified_is_closed_after_the_policys_delay(ana, cli):
    received = today() - timedelta(days=31)
    opened = cli("requests", "open", "--type", "access", "--external-id", "crm-42",
                 "--channel", "email", "--received", str(received), "--json")  # fmt: skip
    stale = json.loads(opened.stdout)["id"]
    fresh = json.loads(
        cli("requests", "open", "--type", "access", "--external-id", "crm-42", "--json").stdout
    )["id"]
    closed = json.loads(cli("requests", "close-unverified", "--json").stdout)["closed"]
    assert closed == [stale]
    assert show(cli, stale)["status"] == "unverified" and show(cli, fresh)["status"] == "open"
    assert "within 30 days" in show(cli, stale)["answer"]["reasons"][0]
    later = str(today() + timedelta(days=31))
    report = json.loads(cli("worker", "--once", "--as-of", later, "--json").stdout)
    assert report["requests_closed_unverified"] == 1 and show(cli, fresh)["status"] == "unverified"
    cli("outbox", "send")
    assert [m for m in ana.messages if b"your personal data request is closed" in m.content]


def test_lists_by_status_and_outputs_name_people_by_external_id(env, ana, cli):
    answered = open_verified(cli, "confirmation", "crm-42")
    process(cli, answered)
    pending = json.loads(
        cli("requests", "open", "--type", "access", "--external-id", "crm-42", "--json").stdout
    )["id"]
    by_status = {
        status: [
            r["id"]
            for r in json.loads(cli("requests", "list", "--status", status, "--json").stdout)
        ]
        for status in ("answered", "open")
    }
    assert by_status == {"answered": [answered], "open": [pending]}
    in_progress = [r["id"] for r in json.loads(cli("requests", "list", "--json").stdout)]
    assert in_progress == [pending]
    listed = cli("requests", "list", "--status", "answered", "--json").stdout
    with session_scope(env.ctx.engine, write=False) as session:
        subject_id = session.scalar(select(Subject.id))
    assert subject_id not in listed and subject_id not in cli("requests", "show", answered).stdout
    assert json.loads(listed)[0]["external_id"] == "crm-42"


def test_a_letter_answers_a_request_received_by_post(env, cli, tmp_path):
    import_people(cli, tmp_path, client_record())
    request_id = open_verified(cli, "erasure", "c-1")
    answer = process(cli, request_id)
    assert answer["reply"] == "letter"
    page = tmp_path / "letter.html"
    assert (
        cli("requests", "letter", request_id, "--format", "html", "--out", str(page)).exit_code == 0
    )
    html = page.read_text()
    assert "Proof of erasure" in html and answer["receipt"] in html
    assert "2027-04-02" in html and "dpo-wimi@racine.eu" in html and "CNIL" in html
    pdf = tmp_path / "letter.pdf"
    assert cli("requests", "letter", request_id, "--out", str(pdf)).exit_code == 0
    assert pdf.read_bytes().startswith(b"%PDF")


def test_process_decides_as_of_the_day_given(env, cli, tmp_path):
    import_people(cli, tmp_path, client_record(subscription_ended_at="2026-06-30"))
    request_id = open_verified(cli, "erasure", "c-1")
    answer = process(cli, request_id, "--as-of", "2027-05-01")
    assert answer["as_of"] == "2027-05-01"
    assert items(answer)["banking"]["action"] == "erase"  # its 13 months ended 2027-04-02
    assert items(answer)["contract"]["until"] == "2031-06-30"


def test_the_api_refuses_cancels_and_gives_the_letter(ana, env):
    with TestClient(create_app(env.ctx)) as client:
        client.headers["Authorization"] = f"Bearer {env.admin_key}"
        first = client.post("/requests", json={"type": "access", "external_id": "crm-42"}).json()
        refused = client.post(f"/requests/{first['id']}/refusal", json={"reason": "abusive"})
        assert refused.status_code == 200 and refused.json()["outcome"] == "refused"
        letter = client.get(f"/requests/{first['id']}/letter")
        assert letter.status_code == 200 and "abusive" in letter.text
        second = client.post("/requests", json={"type": "access", "external_id": "crm-42"}).json()
        cancelled = client.post(f"/requests/{second['id']}/cancellation")
        assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
        listed = client.get("/requests", params={"status": "cancelled"}).json()
        assert [r["id"] for r in listed] == [second["id"]]
        assert client.get("/requests", params={"status": "closed"}).status_code == 422
