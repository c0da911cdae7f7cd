"""The `tutela` command as a user meets it: setup, demo data, listing, reads, errors."""

import json
import os
import stat

from tutela.subjects.demo import demo_records


def test_init_is_safe_to_run_twice(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TUTELA_DATABASE_URL", raising=False)
    monkeypatch.delenv("TUTELA_KEY_FILE", raising=False)
    monkeypatch.delenv("TUTELA_OPENGDPR_KEY_FILE", raising=False)
    monkeypatch.delenv("TUTELA_OPENGDPR_CERTIFICATE_FILE", raising=False)
    first = cli("init", "--json")
    assert first.exit_code == 0, first.stderr
    report = json.loads(first.stdout)
    assert report["key_file_created"] and report["admin_key"].startswith("tutela_")
    assert len(report["admin_password"]) == 24  # the console's, shown this once
    assert stat.S_IMODE(os.stat(tmp_path / "tutela.key").st_mode) == 0o600
    assert (tmp_path / "tutela.db").exists()
    assert report["opengdpr_test_pair_created"]  # a self-signed pair, to try the door
    assert stat.S_IMODE(os.stat(tmp_path / "opengdpr.key").st_mode) == 0o600
    assert (tmp_path / "opengdpr.pem").read_text().startswith("-----BEGIN CERTIFICATE-----")
    second = json.loads(cli("init", "--json").stdout)
    assert second == {
        "key_file_created": False,
        "keyring_created": False,
        "admin_key": None,
        "admin_password": None,
        "opengdpr_test_pair_created": False,
        "trail_keyed": None,  # a fresh trail is keyed from its first event
    }


def test_commands_before_init_fail_in_one_line(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TUTELA_DATABASE_URL", f"sqlite:///{tmp_path / 'none.db'}")
    result = cli("subjects", "list")
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "tutela init" in result.stderr


def test_demo_population_covers_every_case(env, cli):
    result = cli("demo", "--subjects", "300", "--seed", "4", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {"created": 300, "updated": 0}
    again = json.loads(cli("demo", "--subjects", "300", "--if-empty", "--json").stdout)
    assert again["created"] == 0 and "skipped" in again

    listed = json.loads(cli("subjects", "list", "--limit", "1000", "--json").stdout)
    assert listed["total"] == 300
    subjects = listed["subjects"]
    kinds = {s["kind"] for s in subjects}
    assert kinds == {"client", "prospect"}
    lives = [s["lifecycle"] for s in subjects]
    assert any(life["subscription_ended_at"] for life in lives)  # former clients
    assert any(
        life["subscription_started_at"] and not life["subscription_ended_at"] for life in lives
    )
    years = {life["first_contact_at"][:4] for life in lives}
    assert len(years) >= 5  # spread over five years
    assert {s["source"] for s in subjects} >= {"registration_form", "purchased_database"}


def test_demo_generator_has_every_case_for_retention_and_rights():
    from datetime import date

    records = list(demo_records(2000, seed=1, today=date(2026, 11, 27)))
    assert any(r["lifecycle"].get("date_of_death") for r in records)
    assert any(p["retain_consent"] for r in records for p in r["payments"])
    assert any(not p["retain_consent"] for r in records for p in r["payments"])
    assert any(r["connections"] for r in records)
    assert any(c["purpose"] == "profiling" for r in records for c in r["consents"])
    assert any("enriched" in r for r in records)
    french = sum(r["identification"]["country"] == "FR" for r in records)
    assert 0.5 < french / len(records) < 0.9
    assert records == list(demo_records(2000, seed=1, today=date(2026, 11, 27)))


def test_show_prints_what_the_purpose_may_see(env, cli, example, tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps(example) + "\n")
    cli("subjects", "import", str(path))
    shown = cli("subjects", "show", "crm-42", "--purpose", "market_research", "--json")
    assert shown.exit_code == 0, shown.stderr
    view = json.loads(shown.stdout)
    assert set(view["data"]) == {"identification", "enriched"}
    table = cli("subjects", "show", "crm-42", "--purpose", "market_research")
    assert "ana@example.org" in table.stdout and "website_contact" in table.stdout

    denied = cli("subjects", "show", "crm-42", "--purpose", "newsletter")
    assert denied.exit_code == 1
    assert denied.stderr.splitlines() == [
        "error: no subject 'crm-42' that you may read for 'newsletter'",
        "why (in the trail): purpose 'newsletter' rests on consent and the subject has no "
        "active consent",
    ]
    missing = cli("subjects", "show", "crm-404", "--purpose", "support")
    assert missing.exit_code == 1 and "no subject" in missing.stderr


def test_list_never_shows_personal_values(env, cli, example, tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps(example) + "\n")
    cli("subjects", "import", str(path))
    for args in (["subjects", "list"], ["subjects", "list", "--json"]):
        out = cli(*args).stdout
        assert "crm-42" in out
        assert "ana@example.org" not in out and "Roy" not in out


def test_usage_errors_exit_2_without_traceback(cli):
    result = cli("subjects", "show", "crm-42")
    assert result.exit_code == 2
    assert "--purpose" in result.stderr and "Traceback" not in result.stderr


def test_init_again_on_an_initialised_database(env, cli):
    result = cli("init", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["admin_key"] is None


TIME_DEPENDENT = """requests open, requests list, requests verify, requests extend, requests process,
requests refuse, requests cancel, requests close-unverified, requests lift-restriction,
requests death, requests export, requests letter, retention plan, retention run,
subjects show, subjects import, demo, consents give, consents withdraw, consents object,
holds add, holds release, outbox send, access review, access report, access resolve,
disclosures record, principals add, principals deactivate, worker"""


def test_every_time_dependent_command_takes_as_of():
    import typer.main

    from tutela.cli import app

    root = typer.main.get_command(app)
    missing = []
    for path in (p.strip() for p in TIME_DEPENDENT.split(",")):
        command = root
        for name in path.split():
            command = command.commands[name]
        if not any("--as-of" in p.opts for p in command.params):
            missing.append(path)
    assert missing == []


def test_a_consent_given_as_of_a_day_counts_from_that_day(env, cli, example, tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps(example) + "\n")
    cli("subjects", "import", str(path))
    assert (
        cli(
            "consents", "give", "crm-42", "--purpose", "newsletter", "--as-of", "2099-01-01"
        ).exit_code
        == 0
    )
    ledger = json.loads(cli("consents", "show", "crm-42", "--json").stdout)
    assert [c["given_at"][:10] for c in ledger["consents"] if c["purpose"] == "newsletter"] == [
        "2099-01-01"
    ]
    refused = cli("subjects", "show", "crm-42", "--purpose", "newsletter")
    assert refused.exit_code == 1 and "no active consent" in refused.stderr  # not yet
    assert (
        cli(
            "subjects", "show", "crm-42", "--purpose", "newsletter", "--as-of", "2099-01-02"
        ).exit_code
        == 0
    )


def test_as_of_today_is_now_and_the_trail_keeps_the_real_time(env, cli, example, tmp_path, inbox):
    from tutela.clock import today

    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps(example) + "\n")
    cli("subjects", "import", str(path))
    opened = cli("requests", "open", "--type", "access", "--email", "ana@example.org", "--json")
    request_id = json.loads(opened.stdout)["id"]
    cli("outbox", "send")
    code = inbox.code_for("ana@example.org")
    # "As of today" is now: the code sent a moment ago has not expired.
    assert (
        cli("requests", "verify", request_id, "--code", code, "--as-of", str(today())).exit_code
        == 0
    )
    cli("consents", "give", "crm-42", "--purpose", "newsletter", "--as-of", "2099-01-01")
    (event,) = [
        e
        for e in json.loads(cli("audit", "show", "--json").stdout)
        if e["action"] == "give_consent"
    ]
    assert event["at"].startswith("2099-01-01") and event["detail"]["recorded_at"][:10] == str(
        today()
    )


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("│┃").replace("┃", "│").split("│")]


def test_each_payment_value_sits_under_its_own_field(env, cli, tmp_path):
    client = {
        "external_id": "c-pay",
        "kind": "client",
        "source": "registration_form",
        "identification": {"first_name": "Léa", "last_name": "Martin", "email": "lea@example.org"},
        "lifecycle": {"subscription_started_at": "2024-01-01"},
        "payments": [
            {"at": "2026-01-02T10:00:00Z", "method": "card", "card_last4": "4242"},
            {
                "at": "2026-02-02T10:00:00Z",
                "method": "sepa_debit",
                "iban": "FR7630006000011234567890189",
            },
        ],
    }
    path = tmp_path / "c.jsonl"
    path.write_text(json.dumps(client) + "\n")
    assert cli("subjects", "import", str(path)).exit_code == 0
    shown = cli("subjects", "show", "c-pay", "--purpose", "accounting_billing").stdout
    lines = [line for line in shown.splitlines() if "│" in line or "┃" in line]
    header = next(_cells(line) for line in lines if "card_last4" in line)
    rows = [
        dict(zip(header, _cells(line), strict=True))
        for line in lines
        if "sepa_debit" in line or "4242" in line
    ]
    by_method = {row["method"]: row for row in rows}
    assert by_method["card"]["card_last4"] == "4242" and by_method["card"]["iban"] == "-"
    assert by_method["sepa_debit"]["iban"] == "FR7630006000011234567890189"
    assert by_method["sepa_debit"]["card_last4"] == "-"


def test_piped_output_never_cuts_a_value(env, cli, example, tmp_path):
    long_id = "crm-" + "x" * 120
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps({**example, "external_id": long_id}) + "\n")
    assert cli("subjects", "import", str(path)).exit_code == 0
    assert long_id in cli("subjects", "list").stdout
    assert "prospect_data" in cli("retention", "plan", "--as-of", "2040-01-01").stdout
    shown = cli("subjects", "show", long_id, "--purpose", "market_research").stdout
    assert "ana@example.org" in shown and "…" not in shown
