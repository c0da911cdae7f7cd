"""The policy page's diff and impact, on both engines: the diff of two stored versions is
`tutela policy diff`'s, the impact of an uploaded file is `tutela policy impact`'s for the
same file and day, an invalid file shows its errors by key path, and nothing is activated."""

import json
import re
from pathlib import Path

import yaml
from console_support import csrf_of, sign_in, staff
from fastapi.testclient import TestClient

from tutela.api import create_app

BUNDLED = Path(__file__).parents[2] / "src/tutela/policy/default.yaml"


def _shortened(version: str) -> str:
    """The bundled policy under a new version, keeping prospects 24 months, not 36."""
    data = yaml.safe_load(BUNDLED.read_text())
    data["version"] = version
    next(r for r in data["retention"] if r["id"] == "prospect_data")["active_months"] = 24
    next(r for r in data["retention"] if r["id"] == "technical_data")["active_months"] = 6
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def test_the_diff_of_two_stored_versions_names_the_changed_period(env, key_for, cli, tmp_path):
    first = env.ctx.policy.version
    path = tmp_path / "v2.yaml"
    path.write_text(_shortened("2027.1.0"))
    assert cli("policy", "activate", str(path)).exit_code == 0
    staff(env, key_for, "claire", ["dpo"])
    with TestClient(create_app(env.ctx)) as client:
        sign_in(client, "claire")
        latest = client.get("/console/policy").text  # the previous against the one in force
        assert f"{first} → 2027.1.0" in latest
        assert re.search(r"prospect_data</code>, active_months: 36 → 24", latest)
        back = client.get("/console/policy", params={"from": "2027.1.0", "to": first}).text
        assert re.search(r"prospect_data</code>, active_months: 24 → 36", back)
        same = client.get("/console/policy", params={"from": first, "to": first, "lang": "fr"})
        assert "Aucun changement au sens du registre." in same.text
        unknown = client.get("/console/policy", params={"from": "nope", "to": first})
        assert unknown.status_code == 200 and "no stored policy version" in unknown.text
    cli_diff = json.loads(cli("policy", "diff", first, "2027.1.0", "--json").stdout)
    assert {"id": "prospect_data", "active_months": {"from": 36, "to": 24}} in cli_diff[
        "retention"
    ]["changed"]


def test_the_impact_of_an_upload_is_the_clis_for_the_same_file(env, key_for, cli, tmp_path):
    assert cli("demo", "--subjects", "120", "--seed", "11").exit_code == 0
    text = _shortened("2027.4.0")
    path = tmp_path / "shorter.yaml"
    path.write_text(text)
    staff(env, key_for, "claire", ["dpo"])
    with TestClient(create_app(env.ctx)) as client:
        sign_in(client, "claire")
        token = csrf_of(client.get("/console/policy").text)
        shown = client.post("/console/policy/impact", data={"csrf": token, "as_of": "2027-09-01"},
                            files={"file": ("x.yaml", text.encode(), "text/yaml")})  # fmt: skip
    assert shown.status_code == 200
    rows = re.findall(
        r"<tr><td>(\w+)</td><td>(\w+)</td><td>([\d—]+)</td><td>([\d—]+)</td><td>([+-]\d+)</td></tr>",
        shown.text,
    )
    found = json.loads(cli("policy", "impact", str(path), "--as-of", "2027-09-01", "--json").stdout)

    def cell(n):
        return "—" if n is None else str(n)

    expected = [
        (r["rule"], r["action"], cell(r["in_force"]), cell(r["new"]), f"{r['change']:+d}")
        for r in found["retention"]
    ]
    assert rows == expected and any(r["change"] for r in found["retention"])
    assert "prospect_data</code>, active_months: 36 → 24" in shown.text  # against the one in force
    assert "subprocessors[" in shown.text  # the lint's warnings, by key path
    history = json.loads(cli("policy", "history", "--json").stdout)
    assert [h["version"] for h in history] == [env.ctx.policy.version]  # nothing activated


def test_an_invalid_file_or_day_gets_the_form_back_with_why(env, key_for, tmp_path):
    staff(env, key_for, "claire", ["dpo"])
    data = yaml.safe_load(BUNDLED.read_text())
    data["retention"][0]["active_months"] = "lots"
    invalid = yaml.safe_dump(data, sort_keys=False).encode()
    with TestClient(create_app(env.ctx)) as client:
        sign_in(client, "claire")
        token = csrf_of(client.get("/console/policy").text)

        def send(content, as_of="2027-01-01", csrf=token):
            return client.post("/console/policy/impact", data={"csrf": csrf, "as_of": as_of},
                               files={"file": ("p.yaml", content, "text/yaml")})  # fmt: skip

        wrong = send(invalid)
        assert wrong.status_code == 422 and "retention[0].active_months" in wrong.text
        broken = send(b"version: [unclosed\n")
        assert broken.status_code == 422 and "not valid YAML" in broken.text
        assert "line 2, column 1" in broken.text
        for day, said in (("0001-01-01", "between"), ("2027-13-45", "expected a date")):
            far = send(BUNDLED.read_bytes(), as_of=day)
            assert far.status_code == 422 and said in far.text
        assert send(b"\xff\xfe").status_code == 422
        forged = send(BUNDLED.read_bytes(), csrf="forged")
        assert forged.status_code == 403 and "did not come from this site" in forged.text


def test_a_file_over_the_bound_is_refused_unread(env, key_for, monkeypatch):
    from tutela.web import console_policy_changes

    staff(env, key_for, "claire", ["dpo"])
    with TestClient(create_app(env.ctx)) as client:
        sign_in(client, "claire")
        token = csrf_of(client.get("/console/policy").text)

        def send(content):
            return client.post("/console/policy/impact", data={"csrf": token, "as_of": ""},
                               files={"file": ("p.yaml", content, "text/yaml")})  # fmt: skip

        huge = send(b"#" * (env.settings.max_body_bytes + 1))  # the server's body bound first
        assert huge.status_code == 413
        monkeypatch.setattr(console_policy_changes, "POLICY_LIMIT", 1000)
        over = send(BUNDLED.read_bytes())
        assert over.status_code == 422 and "over 1000 bytes" in over.text


def test_a_file_too_deep_or_with_periods_past_any_calendar_is_told_not_crashed(
    env, key_for, cli, tmp_path
):
    """A candidate whose YAML nests past the parser's depth, or whose retention periods run
    past the calendar, is refused with its key path on the page (and by the CLI), never
    answered with a server error."""
    staff(env, key_for, "claire", ["logistics"])
    text = BUNDLED.read_text()
    files = {
        "deep": "[" * 5000 + "]" * 5000,
        "months": text.replace("active_months: 36", "active_months: 1000000", 1),
        "days": text.replace("within_days: 90", "within_days: 999999999999", 1),
    }
    with TestClient(create_app(env.ctx), raise_server_exceptions=False) as client:
        sign_in(client, "claire")
        token = csrf_of(client.get("/console/policy").text)
        for name, content in files.items():
            answer = client.post("/console/policy/impact", data={"csrf": token, "as_of": ""},
                                 files={"file": ("p.yaml", content.encode())})  # fmt: skip
            assert answer.status_code == 422, name
            assert "This file cannot be used:" in answer.text, name
            if name != "deep":
                assert f"_{name}" in answer.text  # the key path names the period
    path = tmp_path / "deep.yaml"
    path.write_text(files["deep"])
    refused = cli("policy", "validate", str(path))
    assert refused.exit_code != 0 and "Traceback" not in refused.stderr
