"""Lists reveal nothing a caller's grants do not allow, and every list is audited, naming each
person listed."""

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tutela.access.service import create_principal, issue_key
from tutela.api import create_app
from tutela.audit import service as audit
from tutela.clock import now
from tutela.db import session_scope
from tutela.subjects.models import Subject

CLIENT = {
    "external_id": "c-7",
    "kind": "client",
    "source": "registration_form",
    "identification": {"first_name": "Léa", "last_name": "Martin", "email": "lea@example.org"},
    "lifecycle": {"subscription_started_at": "2024-01-01", "date_of_death": "2026-01-05"},
}


@pytest.fixture
def store(env, example):
    with TestClient(create_app(env.ctx)) as client:
        client.headers["Authorization"] = f"Bearer {env.admin_key}"
        assert client.post("/subjects", json=example).status_code == 201
        assert client.post("/subjects", json=CLIENT).status_code == 201
        yield client


def _as(env, name, roles):
    with session_scope(env.ctx.engine) as session:
        principal = create_principal(
            session=session, policy=env.ctx.policy, name=name, roles=roles, at=now()
        )
        return {
            "Authorization": f"Bearer {issue_key(session=session, principal=principal, at=now())}"
        }


def test_a_role_that_may_read_no_one_lists_no_one(env, store):
    refused = store.get("/subjects", headers=_as(env, "auth", ["authorities"]))
    assert refused.status_code == 403 and "no one it may list" in refused.json()["detail"]


def test_a_role_lists_only_the_kinds_it_may_read_and_no_dates(env, store):
    collectors = store.get("/subjects", headers=_as(env, "dc", ["debt_collection"])).json()
    assert collectors["total"] == 1 and [s["external_id"] for s in collectors["subjects"]] == [
        "c-7"
    ]
    assert collectors["subjects"][0]["lifecycle"] is None  # no date of death, no lifecycle
    marketing = store.get("/subjects", headers=_as(env, "mia", ["marketing"])).json()
    assert {s["external_id"] for s in marketing["subjects"]} == {"c-7", "crm-42"}
    assert all(s["lifecycle"] is None for s in marketing["subjects"])
    assert "2026-01-05" not in json.dumps(marketing)
    prospects = store.get("/subjects?kind=prospect", headers=_as(env, "dc2", ["debt_collection"]))
    assert prospects.status_code == 403  # debt collectors read clients only


def test_the_dpo_sees_lifecycle_dates_and_every_listing_is_audited(env, store):
    page = store.get("/subjects").json()
    dated = {s["external_id"]: s["lifecycle"] for s in page["subjects"]}
    assert dated["c-7"]["date_of_death"] == "2026-01-05"
    assert all("id" not in s for s in page["subjects"])  # people by external id only
    with session_scope(env.ctx.engine, write=False) as session:
        lea = session.scalar(select(Subject.id).where(Subject.external_id == "c-7"))
        listed = [e for e in audit.events(session, subject_id=lea) if e.action == "list"]
    assert listed and listed[-1].outcome == "allowed" and listed[-1].detail["lifecycle"] is True


def test_the_cli_list_is_gated_the_same_way(env, store, cli):
    _as(env, "auth", ["authorities"])
    refused = cli("subjects", "list", "--as", "auth")
    assert refused.exit_code == 1 and "no one it may list" in refused.stderr
    _as(env, "mia", ["marketing"])
    shown = json.loads(cli("subjects", "list", "--as", "mia", "--json").stdout)
    assert all(s["lifecycle"] is None for s in shown["subjects"])
    operator = json.loads(cli("subjects", "list", "--json").stdout)
    assert all(s["lifecycle"] is not None for s in operator["subjects"])
