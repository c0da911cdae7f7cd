"""`/breaches` over HTTP: the same steps as the CLI, for the roles the policy names to handle
breaches (the DPO), refused to every other role, on both engines."""

from datetime import UTC, timedelta

from breach_people import import_people, person
from fastapi.testclient import TestClient

from tutela.api import create_app
from tutela.clock import now


def test_the_dpo_runs_a_breach_through_every_step(env, cli, tmp_path, key_for):
    client_record = person("c-1", "client")
    client_record["payments"] = [{"at": "2026-11-01T10:00:00Z", "method": "card"}]
    import_people(cli, tmp_path, client_record, person("p-1"))
    key = key_for("dpo-office", ["dpo"])
    aware = (now() - timedelta(hours=2)).astimezone(UTC).isoformat()
    with TestClient(create_app(env.ctx)) as api:
        api.headers["Authorization"] = f"Bearer {key}"
        opened = api.post("/breaches", json={"aware_at": aware, "natures": ["confidentiality"],
                                             "description": "Laptop stolen"})  # fmt: skip
        assert opened.status_code == 201, opened.text
        breach = opened.json()["id"]
        assert opened.json()["hours_left"] == 70.0
        scoped = api.post(f"/breaches/{breach}/scope", json={"external_ids": ["c-1", "p-1"]})
        assert scoped.json()["people"] == 2 and scoped.json()["by_category"]["banking"] == {
            "people": 1, "records": 1}  # fmt: skip
        assessed = api.post(f"/breaches/{breach}/assess", json={"malicious": True,
                                                               "measures": "Disk wiped"})  # fmt: skip
        assert assessed.json()["level"] == "very_high"  # 3 x 1 + 0.5 + 0.5
        draft = api.get(f"/breaches/{breach}/notification", params={"lang": "fr"}).json()
        assert draft["measures"] == "Disk wiped" and draft["people"] == 2
        html = api.get(f"/breaches/{breach}/notification", params={"format": "html"})
        assert html.headers["content-type"].startswith("text/html") and "Disk wiped" in html.text
        sent = api.post(f"/breaches/{breach}/notifications", json={"reference": "CNIL-1"})
        assert sent.status_code == 201 and sent.json()["phase"] == 1
        told = api.post(f"/breaches/{breach}/communicate", json={})
        assert told.json()["queued"] == 2
        closed = api.post(f"/breaches/{breach}/close")
        assert closed.json()["status"] == "closed"
        shown = api.get(f"/breaches/{breach}").json()
        assert shown["notifications"][0]["reference"] == "CNIL-1" and shown["told_how"]
        register = api.get("/breaches/register", params={"format": "csv", "lang": "fr"})
        assert register.text.startswith("Violation,Statut") and breach in register.text
        assert [b["id"] for b in api.get("/breaches").json()] == [breach]


def test_refusals_name_the_rule_and_never_the_value(env, cli, tmp_path, key_for):
    import_people(cli, tmp_path, person("p-1"))
    dpo, mia = key_for("dpo-office", ["dpo"]), key_for("mia", ["marketing"])
    late = (now() - timedelta(hours=90)).astimezone(UTC).isoformat()
    with TestClient(create_app(env.ctx)) as api:
        api.headers["Authorization"] = f"Bearer {dpo}"
        breach = api.post("/breaches", json={"aware_at": late, "natures": ["integrity"],
                                             "description": "x"}).json()["id"]  # fmt: skip
        not_yet = api.post(f"/breaches/{breach}/notifications", json={})
        assert not_yet.status_code == 409 and "assess" in not_yet.json()["detail"]
        api.post(f"/breaches/{breach}/scope", json={"category": "identification"})
        api.post(f"/breaches/{breach}/assess", json={"integrity": "not_recoverable"})
        no_reason = api.post(f"/breaches/{breach}/notifications", json={})
        assert no_reason.status_code == 422 and "delay_reason" in no_reason.text
        assert api.get("/breaches/B-2026-000000").status_code == 404
        assert api.get("/breaches/nope").status_code == 422
        wrong = api.post(f"/breaches/{breach}/assess", json={"integrity": "secret-value"})
        assert wrong.status_code == 422 and "secret-value" not in wrong.text
        refused = api.get("/breaches", headers={"Authorization": f"Bearer {mia}"})
        assert refused.status_code == 403 and "breaches.roles" in refused.json()["detail"]
        for path in (f"/breaches/{breach}", "/breaches/register"):
            assert api.get(path, headers={"Authorization": f"Bearer {mia}"}).status_code == 403
        assert api.get("/breaches", headers={"Authorization": ""}).status_code == 401
