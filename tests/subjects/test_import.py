"""Bulk import: the issue's record, validation against the policy, all-or-nothing, updates."""

import json

import pytest
from sqlalchemy import func, select

from tutela.consent.models import Consent
from tutela.db import session_scope
from tutela.subjects import service
from tutela.subjects.models import Connection, Payment, PersonalValue, Subject


def write_jsonl(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def count(env, model) -> int:
    with session_scope(env.ctx.engine) as session:
        return session.scalar(select(func.count()).select_from(model))


def read(env, external_id, categories=None):
    with session_scope(env.ctx.engine) as session:
        subject = service.get(session=session, external_id=external_id)
        data, provenance = service.read(
            session=session,
            cipher=env.ctx.keyring(session).cipher(session, subject.id),
            policy=env.ctx.policy,
            categories=categories or [c.id for c in env.ctx.policy.categories],
        )
        return subject, data, provenance


def test_the_issue_record_imports_with_every_part(env, cli, example, tmp_path):
    result = cli("subjects", "import", str(write_jsonl(tmp_path / "a.jsonl", [example])), "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {
        "read": 1,
        "created": 1,
        "updated": 0,
        "suppressed": 0,
        "not_restored": 0,
        "invalid": 0,
        "errors": [],
    }
    subject, data, provenance = read(env, "crm-42")
    assert subject.kind == "prospect"
    assert str(subject.first_contact_at) == "2022-05-01"
    assert str(subject.last_contact_at) == "2023-03-01"
    # Lifecycle dates the records imply are derived when not given.
    assert str(subject.last_connection_at) == "2023-02-01"
    assert str(subject.last_transaction_at) == "2023-02-10"
    assert data["identification"] == example["identification"]
    assert data["enriched"] == {"segment": "smb", "score": 0.7}
    assert data["technical"] == [
        {
            "at": "2023-02-01T09:00:00Z",
            "ip": "203.0.113.7",
            "device": "desktop",
            "browser_language": "fr-FR",
        }
    ]
    assert data["banking"] == [
        {
            "at": "2023-02-10T12:00:00Z",
            "method": "card",
            "card_last4": "4242",
            "retain_consent": False,
        }
    ]
    email = provenance["identification"]["email"]
    assert email["source"] == "website_contact" and email["form"] == "contact_form"
    assert email["provided_by_subject"] is True
    assert provenance["enriched"]["segment"]["provided_by_subject"] is False
    assert count(env, Consent) == 1


def test_reimporting_updates_instead_of_duplicating(env, cli, example, tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", [example])
    assert cli("subjects", "import", str(path)).exit_code == 0
    example["identification"]["email"] = "ana.roy@example.org"
    example["identification"]["phone"] = None  # null removes a field
    example["connections"].append(
        {"at": "2023-03-02T08:00:00Z", "ip": "2001:db8::1", "device": "mobile"}
    )
    path = write_jsonl(tmp_path / "b.jsonl", [example])
    result = cli("subjects", "import", str(path), "--json")
    assert json.loads(result.stdout)["updated"] == 1
    assert count(env, Subject) == 1
    assert count(env, Connection) == 2  # the known connection is not stored twice
    assert count(env, Payment) == 1
    assert count(env, Consent) == 1
    subject, data, _ = read(env, "crm-42")
    assert data["identification"]["email"] == "ana.roy@example.org"
    assert "phone" not in data["identification"]
    assert data["identification"]["first_name"] == "Ana"
    assert str(subject.last_connection_at) == "2023-03-02"


def test_a_prospect_becomes_a_client_but_not_the_reverse(env, cli, example, tmp_path):
    assert (
        cli("subjects", "import", str(write_jsonl(tmp_path / "a.jsonl", [example]))).exit_code == 0
    )
    client = dict(example, kind="client", source="registration_form")
    assert (
        cli("subjects", "import", str(write_jsonl(tmp_path / "b.jsonl", [client]))).exit_code == 0
    )
    back = dict(example, kind="prospect")
    result = cli("subjects", "import", str(write_jsonl(tmp_path / "c.jsonl", [back])))
    assert result.exit_code == 1
    assert "line 1, kind: a subject of kind 'client' cannot become 'prospect'" in result.stderr


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda r: r.update(kind="lead"), "line 2, kind: unknown subject kind"),
        (lambda r: r.update(source="fax"), "line 2, source: unknown source"),
        (lambda r: r.update(hobbies={"golf": True}), "line 2, hobbies: unknown category"),
        (
            lambda r: r["identification"].update(nickname="x"),
            "line 2, identification.nickname: unknown field",
        ),
        (
            lambda r: r["identification"].update(email="not-an-email"),
            "line 2, identification.email: expected an e-mail",
        ),
        (
            lambda r: r["identification"].pop("email"),
            "line 2, identification.email: mandatory on the form 'contact_form'",
        ),
        (
            lambda r: r["lifecycle"].update(first_contact_at="01/05/2022"),
            "line 2, lifecycle.first_contact_at: Input should be a valid date",
        ),
        (
            lambda r: r["connections"][0].update(at="yesterday"),
            "line 2, connections[0].at: expected a date-time",
        ),
        (
            lambda r: r["connections"][0].update(ip="999.1.1.1"),
            "line 2, connections[0].ip: expected an IPv4 or IPv6 address",
        ),
        (
            lambda r: r["consents"][0].update(purpose="spam"),
            "line 2, consents[0].purpose: unknown purpose",
        ),
        (
            lambda r: r.update(provided_by_subject=["enriched"]),
            "line 2, provided_by_subject: 'enriched' is enriched data",
        ),
        (lambda r: r.pop("external_id"), "line 2, external_id: Field required"),
    ],
)
def test_a_bad_record_names_line_and_field_and_nothing_is_written(
    env, cli, example, tmp_path, change, expected
):
    bad = json.loads(json.dumps(example))
    bad["external_id"] = "crm-bad"
    change(bad)
    path = write_jsonl(tmp_path / "in.jsonl", [example, bad, dict(example, external_id="crm-3")])
    result = cli("subjects", "import", str(path))
    assert result.exit_code == 1
    assert expected in result.stderr, result.stderr
    assert "nothing was imported" in result.stderr
    assert "Traceback" not in result.stderr
    # Personal values never appear in errors.
    assert "ana@example.org" not in result.stderr and "Roy" not in result.stderr
    assert count(env, Subject) == 0 and count(env, PersonalValue) == 0


def test_skip_invalid_reports_bad_lines_and_imports_the_rest(env, cli, example, tmp_path):
    lines = [
        json.dumps(example),
        "{not json",
        json.dumps(dict(example, external_id="crm-2", kind="lead")),
        json.dumps(dict(example, external_id="crm-3")),
    ]
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(lines) + "\n")
    result = cli("subjects", "import", str(path), "--skip-invalid", "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["read"], report["created"], report["invalid"]) == (4, 2, 2)
    assert [(e["line"], e["location"]) for e in report["errors"]] == [(2, None), (3, "kind")]
    assert report["errors"][0]["message"] == "not valid JSON"
    assert count(env, Subject) == 2


def test_the_same_person_twice_in_one_file_ends_as_one_subject(env, cli, example, tmp_path):
    later = json.loads(json.dumps(example))
    later["identification"]["email"] = "second@example.org"
    path = write_jsonl(tmp_path / "in.jsonl", [example, later])
    result = cli("subjects", "import", str(path), "--json")
    assert json.loads(result.stdout)["created"] == 1
    assert read(env, "crm-42")[1]["identification"]["email"] == "second@example.org"


def test_csv_import(env, cli, tmp_path):
    path = tmp_path / "in.csv"
    path.write_text(
        "external_id,kind,source,identification.first_name,identification.last_name,"
        "identification.email,identification.phone,lifecycle.last_contact_at,enriched.score,"
        "provided_by_subject,connections\n"
        "crm-1,prospect,purchased_database,Léa,Martin,lea@example.fr,06 11 22 33 44,2024-01-05,0.4,,"
        '"[{""at"": ""2024-01-05T10:00:00Z"", ""ip"": ""198.51.100.4""}]"\n'
        "crm-2,prospect,website_contact,,Durand,,,,,,\n"
    )
    result = cli("subjects", "import", str(path), "--skip-invalid", "--json")
    report = json.loads(result.stdout)
    assert report["created"] == 1
    assert report["errors"] == [
        {
            "line": 3,
            "location": "identification.email",
            "message": "mandatory on the form 'contact_form': Without a name and an e-mail address "
            "the business cannot answer the request.",
        }
    ]
    _, data, provenance = read(env, "crm-1")
    assert data["identification"]["first_name"] == "Léa"
    assert data["enriched"]["score"] == 0.4
    assert data["technical"][0]["ip"] == "198.51.100.4"
    # A purchased database is not something the person gave (§5.3).
    assert provenance["identification"]["email"]["provided_by_subject"] is False


def test_import_refuses_unknown_format_and_missing_file(env, cli, tmp_path):
    (tmp_path / "in.txt").write_text("")
    assert "give --format" in cli("subjects", "import", str(tmp_path / "in.txt")).stderr
    result = cli("subjects", "import", str(tmp_path / "nope.jsonl"))
    assert result.exit_code == 2 and "no file" in result.stderr


def test_worker_processes_import_exactly_as_one_process(env, cli, example, tmp_path, monkeypatch):
    """Workers prepare chunks as new people; known people, repeats and errors still behave."""
    records = [dict(example, external_id=f"crm-{i}") for i in range(2500)]
    records[1200] = dict(example, external_id="crm-5")  # a repeat, in a later chunk
    records[1201] = dict(example, external_id="crm-1201", kind="lead")  # invalid
    records[2100] = dict(example, external_id="crm-2099")  # a repeat within one chunk
    path = write_jsonl(tmp_path / "big.jsonl", records)
    cli("subjects", "import", str(write_jsonl(tmp_path / "known.jsonl", [records[7]])))

    monkeypatch.setenv("TUTELA_IMPORT_WORKERS", "1")
    result = cli("subjects", "import", str(path), "--skip-invalid", "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["read"] == 2500
    assert [(e["line"], e["location"]) for e in report["errors"]] == [(1202, "kind")]
    # crm-7 existed; crm-5 and crm-2099 come twice: 2500 - 1 invalid - 1 known - 2 repeats.
    assert report["created"] == 2496 and report["updated"] == 3
    assert count(env, Subject) == 2497
    assert count(env, Connection) == 2497
    assert read(env, "crm-2099")[1]["identification"]["email"] == "ana@example.org"
