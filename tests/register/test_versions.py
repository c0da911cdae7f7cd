"""Policy versions (§24): activated with their hash, who and when; diffed in register terms;
their impact on the data held agrees with what a retention run then does; a running process
follows an activation; security is not lowered without a recorded reason (§20)."""

import json
from datetime import date
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

import tutela.context
from tutela.api import create_app
from tutela.context import build_context
from tutela.register.versions import digest

BUNDLED = Path(__file__).parents[2] / "src/tutela/policy/default.yaml"


def _write(tmp_path: Path, data: dict, name: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    return path


def _bundled() -> dict:
    return yaml.safe_load(BUNDLED.read_text())


def _events(cli, action):
    return [e for e in json.loads(cli("audit", "show", "--json").stdout) if e["action"] == action]


def _rule(data: dict, rule_id: str) -> dict:
    return next(r for r in data["retention"] if r["id"] == rule_id)


def test_init_records_the_first_version_and_an_activation_makes_the_next(env, cli, tmp_path):
    (first,) = json.loads(cli("policy", "history", "--json").stdout)
    assert first["version"] == env.ctx.policy.version
    assert first["digest"] == digest(BUNDLED.read_text())
    data = _bundled()
    data["version"] = "2027.1.0"
    crm = next(s for s in data["subprocessors"] if s["id"] == "crm")
    crm.update(contract_reference="DPA-CRM-2027", contract_date="2027-01-04")
    path = _write(tmp_path, data, "v2")
    result = cli("policy", "activate", str(path), "--as-of", "2027-01-10", "--json")
    assert result.exit_code == 0, result.stderr
    history = json.loads(cli("policy", "history", "--json").stdout)
    assert [h["version"] for h in history] == [first["version"], "2027.1.0"]
    assert history[1]["digest"] == digest(path.read_text())
    assert history[1]["activated_by"].startswith("console:")
    assert cli("policy", "history", "--text", "2027.1.0").stdout == path.read_text()
    shown = json.loads(cli("policy", "show", "--json").stdout)
    assert shown["version"] == "2027.1.0"  # the store's version is in force, not the file
    # The subprocessor's change is in the tamper-evident trail, with its date.
    event = _events(cli, "policy_activate")[-1]
    assert event["at"].startswith("2027-01-10") and event["policy_version"] == "2027.1.0"
    (changed,) = event["detail"]["subprocessors"]["changed"]
    assert (
        changed["id"] == "crm" and changed["fields"]["contract_reference"]["to"] == "DPA-CRM-2027"
    )
    again = cli("policy", "activate", str(path))
    assert again.exit_code == 1 and "already activated" in again.stderr


def test_lowering_security_needs_a_recorded_reason(env, cli, tmp_path):
    data = _bundled()
    data["version"] = "2027.2.0"
    data["security_measures"] = [
        m for m in data["security_measures"] if m["id"] != "french_hosting"
    ]
    path = _write(tmp_path, data, "weaker")
    refused = cli("policy", "activate", str(path))
    assert refused.exit_code == 1 and "french_hosting" in refused.stderr and "§20" in refused.stderr
    assert len(json.loads(cli("policy", "history", "--json").stdout)) == 1
    reason = "Hosting moved to an EU provider certified ISO 27001; measure restated there"
    assert cli("policy", "activate", str(path), "--reason", reason).exit_code == 0
    assert json.loads(cli("policy", "history", "--json").stdout)[-1]["reason"] == reason
    assert _events(cli, "policy_activate")[-1]["reason"] == reason


def test_diff_in_register_terms(cli, tmp_path):
    old = _bundled()
    new = _bundled()
    new["version"] = "2027.3.0"
    new["purposes"].append(
        {
            "id": "webinars",
            "name": "Invitations to webinars",
            "legal_basis": "consent",
            "withdrawal": "The link in every invitation.",
            "categories": ["identification"],
            "subject_kinds": ["prospect"],
        }
    )
    next(p for p in new["purposes"] if p["id"] == "statistics")["legal_basis"] = "consent"
    marketing = next(r for r in new["recipients"] if r["id"] == "marketing")
    marketing["grants"][0]["categories"].remove("technical")
    marketing["grants"].append({"purposes": ["webinars"], "categories": ["identification"]})
    _rule(new, "prospect_data")["active_months"] = 24
    new["subprocessors"] = [s for s in new["subprocessors"] if s["id"] != "emailing"]
    result = cli(
        "policy", "diff", str(_write(tmp_path, old, "a")), str(_write(tmp_path, new, "b")), "--json"
    )
    change = json.loads(result.stdout)
    assert change["purposes"]["added"] == [{"id": "webinars", "name": "Invitations to webinars"}]
    (basis,) = change["purposes"]["changed"]
    assert basis == {
        "id": "statistics",
        "legal_basis": {"from": "legitimate_interests", "to": "consent"},
    }
    assert {"role": "marketing", "purpose": "webinars", "category": "identification"} in change[
        "grants"
    ]["widened"]
    narrowed = change["grants"]["narrowed"]
    assert {"role": "marketing", "purpose": "profiling", "category": "technical"} in narrowed
    assert change["retention"]["changed"] == [
        {"id": "prospect_data", "active_months": {"from": 36, "to": 24}}
    ]
    assert change["subprocessors"]["removed"] == ["emailing"]
    text = cli("policy", "diff", str(tmp_path / "a.yaml"), str(tmp_path / "b.yaml")).stdout
    assert "~ retention prospect_data active_months: 36 → 24" in text
    assert "- marketing may no longer read technical for profiling" in text


@pytest.mark.parametrize("as_of", ["2026-06-30", "2027-09-01"])
def test_the_impact_is_what_a_retention_run_then_does(env, cli, tmp_path, as_of):
    assert cli("demo", "--subjects", "150", "--seed", "11").exit_code == 0
    people = json.loads(cli("subjects", "list", "--limit", "5", "--json").stdout)["subjects"]
    holds = [("debt_disputes", []), ("legal_archiving", ["--category", "banking"])]
    for person, (purpose, extra) in zip(people, holds, strict=False):
        args = ["holds", "add", person["external_id"], "--purpose", purpose]
        assert cli(*args, "--reference", "CASE-1", *extra).exit_code == 0
    data = _bundled()
    data["version"] = "2027.4.0"
    _rule(data, "prospect_data")["active_months"] = 12
    _rule(data, "technical_data")["active_months"] = 6
    _rule(data, "banking_data")["archive_months"] = 1
    path = _write(tmp_path, data, "shorter")
    found = json.loads(cli("policy", "impact", str(path), "--as-of", as_of, "--json").stdout)
    rows = {(r["rule"], r["action"]): r for r in found["retention"]}
    assert (
        rows[("prospect_data", "anonymise")]["new"]
        >= rows[("prospect_data", "anonymise")]["in_force"]
    )
    in_force = json.loads(cli("retention", "run", "--as-of", as_of, "--dry-run", "--json").stdout)
    assert {(a["rule"], a["action"]): a["subjects"] for a in in_force["actions"]} == {
        key: row["in_force"] for key, row in rows.items() if row["in_force"]
    }
    assert cli("policy", "activate", str(path)).exit_code == 0
    done = json.loads(cli("retention", "run", "--as-of", as_of, "--json").stdout)
    assert {(a["rule"], a["action"]): a["subjects"] for a in done["actions"]} == {
        key: row["new"] for key, row in rows.items() if row["new"]
    }


def test_impact_names_the_reads_that_would_be_refused(env, cli, tmp_path):
    data = _bundled()
    data["version"] = "2027.5.0"
    sales = next(r for r in data["recipients"] if r["id"] == "sales")
    sales["grants"][0]["categories"].remove("enriched")
    found = json.loads(
        cli(
            "policy", "impact", str(_write(tmp_path, data, "n")), "--as-of", "2027-01-01", "--json"
        ).stdout
    )
    assert {"role": "sales", "purpose": "relationship_management", "category": "enriched"} in found[
        "reads_refused"
    ]
    assert found["reads_allowed"] == []


def test_a_running_server_follows_an_activation(env, cli, tmp_path, monkeypatch, key_for):
    monkeypatch.setattr(tutela.context, "POLICY_CHECK_S", 0.0)
    key = key_for("crm-app", ["application"])
    with TestClient(create_app(build_context(env.settings))) as client:
        assert client.get("/healthz").json()["policy_version"] == env.ctx.policy.version
        data = _bundled()
        data["version"] = "2027.6.0"
        assert cli("policy", "activate", str(_write(tmp_path, data, "n"))).exit_code == 0
        assert client.get("/healthz").json()["policy_version"] == "2027.6.0"
        client.headers["Authorization"] = f"Bearer {key}"
        client.get("/subjects/nobody", params={"purpose": "support"})
    read = [e for e in _events(cli, "read") if e["principal"] == "crm-app"][-1]
    assert read["policy_version"] == "2027.6.0"


def test_a_store_without_versions_runs_on_its_file(env):
    from sqlalchemy import text

    with env.ctx.engine.begin() as conn:
        conn.execute(text("DELETE FROM policy_versions"))
    ctx = build_context(env.settings)
    assert ctx.policy.version == env.ctx.policy.version
    assert date.fromisoformat(str(ctx.policy.effective_from))


def test_the_register_dates_each_activity_by_the_versions_that_changed_it(env, cli, tmp_path):
    (first,) = json.loads(cli("policy", "history", "--json").stdout)
    created = first["activated_at"][:10]
    data = _bundled()
    data["version"] = "2027.8.0"
    _rule(data, "prospect_data")["active_months"] = 24
    assert (
        cli(
            "policy", "activate", str(_write(tmp_path, data, "n")), "--as-of", "2027-02-01"
        ).exit_code
        == 0
    )
    register = json.loads(cli("register", "export", "--format", "json").stdout)
    dated = {a["reference"]: (a["created"], a["updated"]) for a in register["activities"]}
    assert dated["market_research"] == (created, "2027-02-01")  # prospects' identification
    assert dated["accounting_billing"] == (created, created)  # clients only: unchanged


def test_a_store_made_before_versions_keeps_its_policy_as_the_first(env, cli, tmp_path):
    from sqlalchemy import text

    with env.ctx.engine.begin() as conn:
        conn.execute(text("DELETE FROM policy_versions"))
    data = _bundled()
    data["version"] = "2027.9.0"
    assert cli("policy", "activate", str(_write(tmp_path, data, "n"))).exit_code == 0
    history = json.loads(cli("policy", "history", "--json").stdout)
    assert [h["version"] for h in history] == [env.ctx.policy.version, "2027.9.0"]
