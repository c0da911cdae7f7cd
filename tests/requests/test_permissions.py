"""Who may steer requests: roles granted the rights-requests purpose; a door (the company's
applications) opens online requests for the people and follows only those; nobody else."""

import json

import pytest
from fastapi.testclient import TestClient

from tutela.api import create_app


@pytest.fixture
def api(ana, env, cli):
    keys = {
        name: json.loads(cli("principals", "add", name, "--role", role, "--json").stdout)["api_key"]
        for name, role in (("mia", "marketing"), ("app", "application"), ("app2", "application"))
    }
    with TestClient(create_app(env.ctx)) as client:
        client.keys = {**keys, "admin": env.admin_key}
        yield client


def as_(client, name):
    return {"Authorization": f"Bearer {client.keys[name]}"}


def test_a_marketing_role_cannot_touch_requests(api, cli):
    opened = api.post("/requests", json={"type": "access", "external_id": "crm-42"},
                      headers=as_(api, "admin")).json()  # fmt: skip
    rid = opened["id"]
    mia = as_(api, "mia")
    attempts = {
        "list": api.get("/requests", headers=mia),
        "open": api.post(
            "/requests", json={"type": "access", "external_id": "crm-42"}, headers=mia
        ),
        "show": api.get(f"/requests/{rid}", headers=mia),
        "extend": api.post(
            f"/requests/{rid}/extension", json={"months": 1, "reason": "x"}, headers=mia
        ),
        "verify": api.post(f"/requests/{rid}/verification", json={"code": "123456"}, headers=mia),
        "process": api.post(f"/requests/{rid}/processing", headers=mia),
        "refuse": api.post(f"/requests/{rid}/refusal", json={"reason": "x"}, headers=mia),
        "cancel": api.post(f"/requests/{rid}/cancellation", headers=mia),
        "copy": api.get(f"/requests/{rid}/copy", headers=mia),
        "receipt": api.get(f"/requests/{rid}/receipt", headers=mia),
        "lift": api.post("/subjects/crm-42/restriction-lifting", json={"reason": "x"}, headers=mia),
    }
    assert {k: r.status_code for k, r in attempts.items()} == {k: 403 for k in attempts}
    assert all("rights_requests" in r.json()["detail"] for r in attempts.values())
    outbox = json.loads(cli("outbox", "list", "--json").stdout)
    assert not [m for m in outbox if "more time" in m["subject"]]  # nobody was e-mailed
    listed = cli("requests", "list", "--as", "mia")
    assert listed.exit_code == 1 and "rights_requests" in listed.stderr


def test_a_door_opens_online_requests_and_follows_only_its_own(api, ana, cli):
    app = as_(api, "app")
    letter = api.post(
        "/requests",
        json={"type": "access", "external_id": "crm-42", "channel": "post"},
        headers=app,
    )
    assert letter.status_code == 403 and "online" in letter.json()["detail"]
    mine = api.post("/requests", json={"type": "access", "email": "ana@example.org"}, headers=app)
    assert mine.status_code == 201
    # Before the person proves who they are, the door learns nothing of who they are.
    assert mine.json()["external_id"] is None and mine.json()["flag"] is None
    rid = mine.json()["id"]
    theirs = api.post("/requests", json={"type": "erasure", "email": "ana@example.org"},
                      headers=as_(api, "app2")).json()["id"]  # fmt: skip
    assert [r["id"] for r in api.get("/requests", headers=app).json()] == [rid]
    assert api.get(f"/requests/{rid}", headers=app).status_code == 200
    assert api.get(f"/requests/{theirs}", headers=app).status_code == 404  # not found, not 403
    stolen = api.post(f"/requests/{theirs}/verification", json={"code": "000000"}, headers=app)
    assert stolen.status_code == 404  # another door cannot use up its attempts
    cli("outbox", "send")
    code = ana.code_for("ana@example.org", rid)
    verified = api.post(f"/requests/{rid}/verification", json={"code": code}, headers=app)
    assert verified.status_code == 200 and verified.json()["status"] == "verified"
    assert api.post(f"/requests/{rid}/processing", headers=app).status_code == 403
    assert (
        api.post(
            f"/requests/{rid}/extension", json={"months": 1, "reason": "x"}, headers=app
        ).status_code
        == 403
    )
    cancelled = api.post(f"/requests/{rid}/cancellation", headers=app)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert api.get("/requests", headers=as_(api, "admin")).json()[0]["id"] == theirs
