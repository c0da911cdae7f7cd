"""`GET /register`: for staff, on both engines; refused to external roles and unknown keys."""

from fastapi.testclient import TestClient

from tutela.api import create_app


def test_staff_read_the_register_in_every_format(env, key_for):
    key = key_for("dpo-office", ["dpo"])
    with TestClient(create_app(env.ctx)) as client:
        client.headers["Authorization"] = f"Bearer {key}"
        body = client.get("/register").json()
        assert len(body["activities"]) == len(env.ctx.policy.purposes)
        french = client.get("/register", params={"format": "csv", "lang": "fr"})
        assert french.headers["content-type"].startswith("text/csv")
        assert french.text.startswith("Activité,")
        assert client.get("/register", params={"format": "jsonld"}).json()["@graph"]
        bad = client.get("/register", params={"format": "xls"})
        assert bad.status_code == 422 and "format" in bad.text and "xls" not in bad.text


def test_the_register_is_not_for_external_roles_nor_without_a_key(env, key_for):
    partner = key_for("partner-co", ["partners"])
    with TestClient(create_app(env.ctx)) as client:
        assert client.get("/register").status_code == 401
        refused = client.get("/register", headers={"Authorization": f"Bearer {partner}"})
        assert refused.status_code == 403 and "staff" in refused.json()["detail"]
