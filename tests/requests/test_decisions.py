"""Requests end to end: verified first, then decided by the policy, with reasons and contacts."""

import json
import os
import stat

from conftest import (
    client_record,
    import_people,
    items,
    open_verified,
    process,
    verified_by_code,
)


def test_nothing_is_disclosed_before_identity_is_verified(ana, cli, tmp_path):
    opened = json.loads(
        cli("requests", "open", "--type", "access", "--email", "ana@example.org", "--json").stdout
    )
    refused = cli("requests", "process", opened["id"])
    assert refused.exit_code == 1 and "not verified" in refused.stderr
    out = tmp_path / "copy.html"
    assert cli("requests", "export", opened["id"], "--out", str(out)).exit_code == 1
    assert not out.exists()


def test_access_gives_a_copy_with_purposes_recipients_retention_and_trail(ana, cli, tmp_path):
    request_id = verified_by_code(cli, ana, "access")
    answer = process(cli, request_id)
    assert answer["outcome"] == "done" and answer["copy"] == f"tutela requests export {request_id}"
    assert answer["contacts"]["dpo"]["email"] == "dpo-wimi@racine.eu"
    assert "3 Place de Fontenoy" in answer["contacts"]["complaint"]["address"]
    assert {i["action"] for i in answer["items"]} == {"give"}

    out = tmp_path / "copy.json"
    assert (
        cli("requests", "export", request_id, "--format", "json", "--out", str(out)).exit_code == 0
    )
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    copy = json.loads(out.read_text())["copy"]
    assert copy["personal_data"]["identification"]["email"] == "ana@example.org"
    assert copy["personal_data"]["technical"][0]["ip"] == "203.0.113.7"
    assert {p["legal_basis"] for p in copy["purposes"]} >= {"consent", "contract"}
    assert copy["recipients"]["may_receive"] and copy["retention"]
    identification = next(r for r in copy["retention"] if r["category"] == "identification")
    assert identification["until"] == "2026-03-01"  # prospect data: 3 years after contact
    assert {e["action"] for e in copy["access_trail"]} >= {"open_request", "verify_identity"}
    assert "admin" not in json.dumps(copy["access_trail"])  # staff names left out

    page = tmp_path / "copy.html"
    assert cli("requests", "export", request_id, "--out", str(page)).exit_code == 0
    html = page.read_text()
    assert "ana@example.org" in html and "dpo-wimi@racine.eu" in html and "CNIL" in html
    again = cli("requests", "export", request_id, "--out", str(page))
    assert again.exit_code == 2 and "refusing to overwrite" in again.stderr


def test_the_answer_reaches_the_person_by_e_mail_with_the_copy(ana, cli):
    request_id = verified_by_code(cli, ana, "access")
    assert process(cli, request_id)["reply"] == "email"
    cli("outbox", "send")
    (mail,) = [m for m in ana.messages if b"the answer to your access request" in m.content]
    assert mail.rcpt_tos == ["ana@example.org"]
    assert b"CNIL" in mail.content and b"dpo-wimi@racine.eu" in mail.content
    assert b"your-personal-data.html" in mail.content  # the copy, attached


def test_objection_stops_prospecting_and_profiling(ana, cli):
    assert cli("subjects", "show", "crm-42", "--purpose", "profiling").exit_code == 0
    request_id = verified_by_code(cli, ana, "objection")
    answer = process(cli, request_id)
    assert answer["outcome"] == "done"
    assert items(answer)["identification"]["action"] == "restrict"
    assert "contact_assistance" in items(answer)["identification"]["purposes"]  # goes on
    refused = cli("subjects", "show", "crm-42", "--purpose", "profiling")
    assert refused.exit_code == 1 and "objected to" in refused.stderr
    assert cli("subjects", "show", "crm-42", "--purpose", "contact_assistance").exit_code == 0


def test_an_objection_to_one_scope_leaves_the_others(ana, cli):
    request_id = open_verified(cli, "objection", "crm-42", "--scope", "profiling")
    process(cli, request_id)
    assert cli("subjects", "show", "crm-42", "--purpose", "profiling").exit_code == 1
    assert cli("subjects", "show", "crm-42", "--purpose", "market_research").exit_code == 0
    unknown = cli("requests", "open", "--type", "objection", "--external-id", "crm-42",
                  "--scope", "spam")  # fmt: skip
    assert unknown.exit_code == 1 and "unknown objection scope" in unknown.stderr


def test_consent_withdrawal_withdraws_every_active_consent(ana, cli):
    request_id = verified_by_code(cli, ana, "consent_withdrawal")
    answer = process(cli, request_id)
    assert answer["done"] == ["consent withdrawn: Profiling to find commercial prospects"]
    assert cli("subjects", "show", "crm-42", "--purpose", "profiling").exit_code == 1


def test_a_person_with_no_data_is_told_so(ana, cli):
    opened = json.loads(
        cli(
            "requests", "open", "--type", "confirmation", "--email", "nobody@example.org",
            "--channel", "post", "--json",
        ).stdout
    )  # fmt: skip
    cli("requests", "verify", opened["id"], "--id-checked-by", "Claire")
    answer = process(cli, opened["id"])
    assert answer["outcome"] == "nothing_held"
    shown = json.loads(cli("requests", "show", opened["id"], "--json").stdout)
    assert shown["status"] == "answered" and shown["answer"]["outcome"] == "nothing_held"


def test_a_prospects_erasure_leaves_nothing_not_even_the_key(ana, cli):
    request_id = verified_by_code(cli, ana, "erasure")
    answer = process(cli, request_id)
    assert answer["done"][0] == "all your personal data was erased, and the key that encrypted it"
    assert "suppression list" in answer["done"][1]
    assert {i["action"] for i in answer["items"]} == {"erase"}
    gone = cli("subjects", "show", "crm-42", "--purpose", "rights_requests")
    assert gone.exit_code == 1 and "no subject" in gone.stderr
    shown = json.loads(cli("requests", "show", request_id, "--json").stdout)
    assert shown["status"] == "answered" and shown["external_id"] == "crm-42"


def test_objection_and_prospect_erasure_keep_purchased_data_out(ana, cli, tmp_path):
    """§5.3: a purchased database must not bring back someone who objected or was erased."""
    request_id = verified_by_code(cli, ana, "erasure")
    cli("requests", "process", request_id)
    bought = {
        "external_id": "db-9",
        "kind": "prospect",
        "source": "purchased_database",
        "identification": {"last_name": "Roy", "email": "Ana@Example.org"},
    }
    other = {
        "external_id": "db-10",
        "kind": "prospect",
        "source": "purchased_database",
        "identification": {"last_name": "Lee", "email": "lee@example.org"},
    }
    path = tmp_path / "bought.jsonl"
    path.write_text(json.dumps(bought) + "\n" + json.dumps(other) + "\n")
    report = json.loads(cli("subjects", "import", str(path), "--json").stdout)
    assert (report["created"], report["suppressed"]) == (1, 1)
    assert cli("subjects", "show", "db-9", "--purpose", "rights_requests").exit_code == 1
    # Coming back on her own, through the registration form, is her choice: not suppressed.
    own = {
        "external_id": "crm-77",
        "kind": "prospect",
        "source": "registration_form",
        "identification": {"first_name": "Ana", "last_name": "Roy", "email": "ana@example.org"},
    }
    path.write_text(json.dumps(own) + "\n")
    report = json.loads(cli("subjects", "import", str(path), "--json").stdout)
    assert (report["created"], report["suppressed"]) == (1, 0)


def test_an_objection_to_prospecting_suppresses_too(ana, cli, tmp_path):
    assert cli("consents", "object", "crm-42", "--scope", "prospecting").exit_code == 0
    bought = {
        "external_id": "db-1",
        "kind": "prospect",
        "source": "market_research",
        "identification": {"last_name": "Roy", "email": "ana@example.org"},
    }
    path = tmp_path / "bought.jsonl"
    path.write_text(json.dumps(bought) + "\n")
    report = json.loads(cli("subjects", "import", str(path), "--json").stdout)
    assert report["suppressed"] == 1 and report["created"] == 0


def test_portability_gives_only_what_the_person_gave_as_json_and_csv(ana, cli, tmp_path):
    request_id = verified_by_code(cli, ana, "portability")
    answer = process(cli, request_id)
    assert answer["outcome"] == "done"
    decided = items(answer)
    assert decided["identification"]["action"] == "give"
    assert decided["enriched"]["action"] == "refuse" and "§18" in decided["enriched"]["reason"]
    assert decided["technical"]["action"] == "refuse"
    out = tmp_path / "mine.json"
    assert (
        cli("requests", "export", request_id, "--format", "json", "--out", str(out)).exit_code == 0
    )
    data = json.loads(out.read_text())["copy"]["personal_data"]
    assert data == {
        "identification": {
            "first_name": "Ana",
            "last_name": "Roy",
            "email": "ana@example.org",
            "phone": "+33 6 12 34 56 78",
        }
    }
    table = tmp_path / "mine.csv"
    assert (
        cli("requests", "export", request_id, "--format", "csv", "--out", str(table)).exit_code == 0
    )
    lines = table.read_text().splitlines()
    assert lines[0] == "category,field,value" and "identification,email,ana@example.org" in lines
    assert not any(line.startswith(("enriched", "technical")) for line in lines)
    assert "identification,phone,'+33 6 12 34 56 78" in lines  # never run as a formula


def test_a_request_is_answered_once(ana, cli):
    request_id = verified_by_code(cli, ana, "objection")
    assert cli("requests", "process", request_id).exit_code == 0
    again = cli("requests", "process", request_id)
    assert again.exit_code == 1 and "already answered" in again.stderr
    late = cli("requests", "extend", request_id, "--months", "1", "--reason", "more time")
    assert late.exit_code == 1 and "no deadline to extend" in late.stderr


def test_rectification_makes_substantial_changes_and_refuses_convenience_ones(ana, env, cli):
    changes = {
        "identification.last_name": "Martin",  # identity: corrected
        "identification.company": "ACME",  # not civil status, identity or contact
        "identification.email": "ANA@Example.org",  # the same address, in another form
        "identification.phone": "not a number",
    }
    request_id = open_verified(
        cli, "rectification", "crm-42",
        *[arg for key, value in changes.items() for arg in ("--change", f"{key}={value}")],
    )  # fmt: skip
    answer = process(cli, request_id)
    assert answer["outcome"] == "done"
    assert answer["done"][0] == "corrected: identification.last_name"
    reasons = " ".join(answer["reasons"])
    assert "identification.company" in reasons and "convenience" in reasons
    assert "identification.email: a change of form only" in reasons
    assert "identification.phone: not a valid phone" in reasons
    assert "CNIL" in json.dumps(answer["contacts"])
    shown = json.loads(
        cli("subjects", "show", "crm-42", "--purpose", "contact_assistance", "--json").stdout
    )
    assert shown["data"]["identification"]["last_name"] == "Martin"
    assert shown["data"]["identification"]["email"] == "ana@example.org"
    assert shown["provenance"]["identification"]["last_name"]["provided_by_subject"] is True
    with env.ctx.engine.connect() as conn:
        (sealed,) = conn.exec_driver_sql("SELECT particulars FROM rights_requests").one()
    assert sealed is None  # the values asked for are not kept beside the data
    assert "Martin" not in cli("audit", "show", "--json").stdout
    assert "Martin" not in cli("requests", "show", request_id, "--json").stdout


def test_a_rectification_names_only_fields_of_the_policy(ana, cli):
    odd = cli("requests", "open", "--type", "rectification", "--external-id", "crm-42",
              "--change", "identification.home address is 3 rue X=x")  # fmt: skip
    assert odd.exit_code == 1 and "fields of the policy" in odd.stderr
    assert "3 rue X" not in odd.stderr  # never echoed


def test_a_rectification_says_what_to_correct(ana, cli):
    bare = cli("requests", "open", "--type", "rectification", "--external-id", "crm-42")
    assert bare.exit_code != 0 and "values to correct" in bare.stderr
    stray = cli(
        "requests", "open", "--type", "access", "--external-id", "crm-42",
        "--change", "identification.last_name=X",
    )  # fmt: skip
    assert stray.exit_code != 0


def directive(cli, *options):
    return process(cli, open_verified(cli, "post_mortem", "crm-42", *options))


def test_a_post_mortem_directive_to_erase_is_carried_out_when_death_is_recorded(ana, cli):
    recorded = directive(cli, "--directive", "erase")
    assert recorded["done"] == ["post-mortem directive recorded: your data is erased once your death is recorded"]  # fmt: skip
    assert cli("subjects", "show", "crm-42", "--purpose", "contact_assistance").exit_code == 0
    death = cli("requests", "death", "crm-42", "--on", "2026-11-01", "--proof", "CERT-1", "--json")
    outcome = json.loads(death.stdout)
    assert outcome["directive"] == "erase"
    assert "all your personal data was erased" in outcome["done"][0]
    assert cli("subjects", "show", "crm-42", "--purpose", "contact_assistance").exit_code != 0
    actions = {e["action"] for e in json.loads(cli("audit", "show", "--json").stdout)}
    assert {"record_death", "answer_request", "erase"} <= actions


def test_a_directive_to_communicate_tells_the_person_designated(ana, cli):
    directive(cli, "--directive", "communicate", "--designate", "heir@example.org")
    outcome = json.loads(
        cli("requests", "death", "crm-42", "--on", "2026-11-01", "--proof", "C2", "--json").stdout
    )
    assert outcome["directive"] == "communicate" and outcome["designate_told"]
    cli("outbox", "send")
    (told,) = [m for m in ana.messages if m.rcpt_tos == ["heir@example.org"]]
    assert outcome["request"].encode() in told.content
    access = json.loads(cli("requests", "show", outcome["request"], "--json").stdout)
    assert access["type"] == "access" and access["status"] == "verified"
    assert process(cli, outcome["request"])["reply"] == "email"
    cli("outbox", "send")
    copies = [m for m in ana.messages if b"your-personal-data.html" in m.content]
    assert [m.rcpt_tos for m in copies] == [["heir@example.org"]]  # never the deceased's address


def test_a_revoked_directive_does_nothing_at_death(ana, cli):
    directive(cli, "--directive", "erase")
    assert directive(cli, "--directive", "revoke")["done"] == [
        "your post-mortem directive is revoked"
    ]
    outcome = json.loads(
        cli("requests", "death", "crm-42", "--on", "2026-11-01", "--proof", "C3", "--json").stdout
    )
    assert outcome == {"external_id": "crm-42", "directive": None}
    assert cli("subjects", "show", "crm-42", "--purpose", "contact_assistance").exit_code == 0
    missing = cli(
        "requests", "open", "--type", "post_mortem", "--external-id", "crm-42",
        "--directive", "communicate",
    )  # fmt: skip
    assert missing.exit_code != 0 and "designated" in missing.stderr


def test_a_clients_erasure_is_decided_category_by_category(env, cli, tmp_path):
    import_people(cli, tmp_path, client_record())
    answer = process(cli, open_verified(cli, "erasure", "c-1"))
    decided = items(answer)
    assert {c: i["action"] for c, i in decided.items()} == {
        "identification": "keep",
        "contract": "keep",
        "banking": "keep",
        "enriched": "erase",
        "technical": "erase",
    }
    assert decided["banking"]["until"] == "2027-04-02"  # 13 months after the last transaction
    assert decided["banking"]["rule"] == "banking_data"
    assert "legal_obligation" in decided["banking"]["grounds"]
    assert "contract" in decided["identification"]["grounds"]  # the subscription runs
    assert decided["identification"]["until"] is None  # its end waits for the subscription's
    assert "Your subscription is running" in " ".join(answer["reasons"])


def test_from_a_recorded_death_marketing_is_refused_whatever_the_directive(ana, cli):
    cli("principals", "add", "mia", "--role", "marketing")
    cli("consents", "give", "crm-42", "--purpose", "newsletter")
    assert (
        cli("subjects", "show", "crm-42", "--as", "mia", "--purpose", "newsletter").exit_code == 0
    )
    directive(cli, "--directive", "keep")
    future = cli("requests", "death", "crm-42", "--on", "2099-01-01", "--proof", "C")
    assert future.exit_code == 1 and "future" in future.stderr
    assert cli("requests", "death", "crm-42", "--on", "2026-11-01", "--proof", "C4").exit_code == 0
    again = cli("requests", "death", "crm-42", "--on", "2026-11-02", "--proof", "C5")
    assert again.exit_code == 1 and "already recorded" in again.stderr
    assert "2026-11-01" not in again.stderr  # the day of a death is not told in an error
    for purpose in ("newsletter", "relationship_management", "market_research", "profiling"):
        refused = cli("subjects", "show", "crm-42", "--as", "mia", "--purpose", purpose)
        assert refused.exit_code == 1 and "has died" in refused.stderr, purpose
    assert "2026-11-01" not in cli("audit", "show", "--json").stdout  # nor kept in the trail
    assert cli("subjects", "show", "crm-42", "--purpose", "rights_requests").exit_code == 0


def test_every_decryption_a_request_makes_is_audited_as_a_read(ana, cli, tmp_path):
    """The copy e-mailed, the copy exported and the values a rectification compares are each
    read through the one audited read: a `read` event for the rights purpose, naming the
    request and the categories decrypted."""

    def reads(request_id):
        trail = json.loads(cli("audit", "show", "--json", "--limit", "1000").stdout)
        return [
            e
            for e in trail
            if e["action"] == "read" and (e.get("detail") or {}).get("request") == request_id
        ]

    access = verified_by_code(cli, ana, "access")
    assert process(cli, access)["reply"] == "email"  # the copy attached: decrypted once
    (emailed,) = reads(access)
    assert emailed["outcome"] == "allowed" and emailed["external_id"] == "crm-42"
    assert emailed["purpose"] == "rights_requests" and "identification" in emailed["categories"]
    out = tmp_path / "copy.json"
    assert cli("requests", "export", access, "--format", "json", "--out", str(out)).exit_code == 0
    assert len(reads(access)) == 2

    rectification = open_verified(
        cli, "rectification", "crm-42", "--change", "identification.last_name=Martin"
    )
    process(cli, rectification)
    (compared,) = reads(rectification)
    assert compared["categories"] == ["identification"]
