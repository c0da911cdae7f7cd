"""Principals arrive and leave, report improper access, and are reviewed (§8)."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from tutela.api import create_app
from tutela.clock import travel


def add(cli, name, *roles, until=None, since=None):
    args = ["principals", "add", name, "--json"]
    for role in roles:
        args += ["--role", role]
    if until:
        args += ["--until", until]
    if since:
        args += ["--from", since]
    result = cli(*args)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)["api_key"]


@pytest.fixture
def imported(env, cli, example, tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps(example) + "\n")
    assert cli("subjects", "import", str(path)).exit_code == 0
    return env


@pytest.fixture
def api(imported):
    with TestClient(create_app(imported.ctx)) as client:
        yield client


def bearer(key):
    return {"Authorization": f"Bearer {key}"}


def test_add_prints_the_key_once_and_stores_only_its_hash(env, cli):
    key = add(cli, "mia", "marketing", "sales")
    listed = json.loads(cli("principals", "list", "--json").stdout)
    mia = next(p for p in listed if p["name"] == "mia")
    assert mia["roles"] == ["marketing", "sales"] and mia["active_keys"] == 1
    with env.ctx.engine.connect() as conn:
        stored = [row[0] for row in conn.exec_driver_sql("select key_hash from api_keys")]
    assert key not in stored and all(len(h) == 64 for h in stored)
    unknown = cli("principals", "add", "bob", "--role", "janitor")
    assert unknown.exit_code == 1 and "unknown role 'janitor'" in unknown.stderr
    twice = cli("principals", "add", "mia", "--role", "sales")
    assert twice.exit_code == 1 and "already exists" in twice.stderr


def test_cli_reads_as_a_principal_through_the_same_gate(imported, cli):
    add(cli, "mia", "marketing")
    allowed = cli("subjects", "show", "crm-42", "--as", "mia", "--purpose", "profiling", "--json")
    assert allowed.exit_code == 0, allowed.stderr
    assert set(json.loads(allowed.stdout)["data"]) == {"identification", "enriched", "technical"}
    refused = cli("subjects", "show", "crm-42", "--as", "mia", "--purpose", "contact_assistance")
    assert refused.exit_code == 1 and "no role of 'mia' may read" in refused.stderr
    events = json.loads(cli("audit", "show", "--principal", "mia", "--json").stdout)
    assert [(e["purpose"], e["outcome"]) for e in events] == [
        ("profiling", "allowed"),
        ("contact_assistance", "denied"),
    ]


def test_a_departed_principal_is_refused_on_its_first_request_after_leaving(imported, cli, api):
    last_day = datetime.now(UTC).date()
    key = add(cli, "leo", "dpo", until=last_day.isoformat())
    read = {"purpose": "rights_requests"}
    assert api.get("/subjects/crm-42", params=read, headers=bearer(key)).status_code == 200
    with travel(datetime.combine(last_day + timedelta(days=1), datetime.min.time(), UTC)):
        refused = api.get("/subjects/crm-42", params=read, headers=bearer(key))
        assert refused.status_code == 403
        assert "left on" in refused.json()["detail"]
        review = json.loads(cli("access", "review", "--json").stdout)
    leo = next(r for r in review if r["name"] == "leo")
    assert any("departed" in flag and "holds 1 key" in flag for flag in leo["flags"])
    events = json.loads(cli("audit", "show", "--principal", "leo", "--json").stdout)
    assert events[-1]["outcome"] == "denied" and "left on" in events[-1]["reason"]


def test_deactivation_takes_effect_immediately(imported, cli, api):
    key = add(cli, "sam", "dpo")
    read = {"purpose": "rights_requests"}
    assert api.get("/subjects/crm-42", params=read, headers=bearer(key)).status_code == 200
    result = cli("principals", "deactivate", "sam", "--json")
    assert json.loads(result.stdout) == {"name": "sam", "keys_revoked": 1}
    assert api.get("/subjects/crm-42", params=read, headers=bearer(key)).status_code == 401
    sam = next(
        r for r in json.loads(cli("access", "review", "--json").stdout) if r["name"] == "sam"
    )
    assert sam["active_keys"] == 0 and not any("departed" in f for f in sam["flags"])


def test_access_review_lists_reach_last_use_and_unused_grants(imported, cli, api):
    key = add(cli, "ana", "administration")
    api.get(
        "/subjects/crm-42", params={"purpose": "registration_subscription"}, headers=bearer(key)
    )
    review = {r["name"]: r for r in json.loads(cli("access", "review", "--json").stdout)}
    ana = review["ana"]
    assert ana["reach"]["accounting_billing"] == ["banking", "contract", "identification"]
    assert ana["last_use"] is not None and ana["flags"] == []  # new: not judged yet
    later = (datetime.now(UTC) + timedelta(days=120)).date().isoformat()
    review = {
        r["name"]: r for r in json.loads(cli("access", "review", "--as-of", later, "--json").stdout)
    }
    (flag,) = review["ana"]["flags"]
    assert flag.startswith("grants unused for 90 days:") and "accounting_billing" in flag


def test_improper_access_is_reported_and_resolved(imported, cli, api):
    key = add(cli, "eve", "customer_relations")
    filed = api.post(
        "/access-reports",
        headers=bearer(key),
        json={
            "description": "I can open banking details in the support tool",
            "subject_external_id": "crm-42",
            "categories": ["banking"],
        },
    )
    assert filed.status_code == 201
    assert api.get("/access-reports", headers=bearer(key)).status_code == 403
    dpo = api.get("/access-reports", headers=bearer(imported.admin_key))
    assert dpo.status_code == 200
    (report,) = dpo.json()
    assert report["reporter"] == "eve" and report["status"] == "open"
    assert report["description"].startswith("I can open banking")
    with imported.ctx.engine.connect() as conn:
        stored = conn.exec_driver_sql("select description from access_reports").scalar()
    assert b"banking details" not in bytes(stored)  # free text is stored encrypted

    cli_report = cli("access", "report", "--as", "eve", "--description", "again", "--json")
    assert cli_report.exit_code == 0
    assert cli("access", "resolve", str(report["id"]), "--resolution", "tool fixed").exit_code == 0
    listed = json.loads(cli("access", "reports", "--json").stdout)
    assert [(r["id"], r["status"]) for r in listed] == [
        (report["id"], "resolved"),
        (report["id"] + 1, "open"),
    ]
    assert listed[0]["resolution"] == "tool fixed"


def test_disclosures_to_authorities_are_recorded_and_audited(imported, cli):
    result = cli(
        "disclosures",
        "record",
        "--authority",
        "Tribunal judiciaire de Paris",
        "--legal-basis",
        "Requisition under art. 60-1 CPP",
        "--subject",
        "crm-42",
        "--categories",
        "identification,technical",
        "--reference",
        "RQ-1",
        "--json",
    )
    assert result.exit_code == 0, result.stderr
    (listed,) = json.loads(cli("disclosures", "list", "--json").stdout)
    assert listed["authority"] == "Tribunal judiciaire de Paris"
    assert listed["categories"] == ["identification", "technical"]
    events = json.loads(cli("audit", "show", "--subject", "crm-42", "--json").stdout)
    assert events[-1]["action"] == "disclose"
    bad = cli(
        "disclosures",
        "record",
        "--authority",
        "x",
        "--legal-basis",
        "y",
        "--subject",
        "crm-42",
        "--categories",
        "dna",
    )
    assert bad.exit_code == 1 and "unknown category" in bad.stderr


def test_consent_withdrawal_and_objection_take_effect_at_once(imported, cli):
    show = ("subjects", "show", "crm-42", "--purpose", "newsletter")
    assert cli(*show).exit_code == 1
    assert cli("consents", "give", "crm-42", "--purpose", "newsletter").exit_code == 0
    assert cli(*show).exit_code == 0
    assert cli("consents", "withdraw", "crm-42", "--purpose", "newsletter").exit_code == 0
    assert cli(*show).exit_code == 1
    profiling = ("subjects", "show", "crm-42", "--purpose", "profiling")
    assert cli(*profiling).exit_code == 0  # consent given at import
    assert cli("consents", "object", "crm-42", "--scope", "profiling").exit_code == 0
    refused = cli(*profiling)
    assert refused.exit_code == 1 and "objected to profiling" in refused.stderr
    ledger = json.loads(cli("consents", "show", "crm-42", "--json").stdout)
    assert [c["purpose"] for c in ledger["consents"]] == ["profiling", "newsletter"]
    assert ledger["objections"][0]["scope"] == "profiling"
    contract = cli("consents", "give", "crm-42", "--purpose", "support")
    assert contract.exit_code == 1 and "not on consent" in contract.stderr


def test_repeated_authentication_failures_are_refused_with_429(imported):
    with TestClient(create_app(imported.ctx)) as client:
        codes = [client.get("/subjects", headers=bearer("guess")).status_code for _ in range(12)]
        assert codes[:10] == [401] * 10 and codes[10:] == [429, 429]
        limited = client.get("/subjects", headers=bearer("guess again"))
        assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
        # A valid key from the same address is never locked out by someone else's guesses.
        assert client.get("/subjects", headers=bearer(imported.admin_key)).status_code == 200
