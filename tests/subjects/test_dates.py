"""Dates a write may not bring, whichever way it comes in (import, API, consent ledger, a
recorded death): lifecycle dates in the future or out of order, consents already lapsed.
Each refusal names the field and the rule, never the date."""

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from tutela.api import create_app
from tutela.clock import today, travel
from tutela.db import session_scope
from tutela.errors import InvalidInput
from tutela.policy import load_policy
from tutela.subjects.dates import check_record
from tutela.subjects.models import Subject
from tutela.subjects.validation import RecordRules, validate_record

SOON = (today() + timedelta(days=30)).isoformat()
LATER = (today() + timedelta(days=60)).isoformat()
PAST_EXPIRY = "2023-06-01T00:00:00Z"


def write_jsonl(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def imported(cli, example, tmp_path):
    result = cli("subjects", "import", str(write_jsonl(tmp_path / "a.jsonl", [example])))
    assert result.exit_code == 0, result.stderr


def subjects(env) -> int:
    with session_scope(env.ctx.engine) as session:
        return session.scalar(select(func.count()).select_from(Subject))


def stored(env, external_id, name):
    with session_scope(env.ctx.engine) as session:
        row = session.scalar(select(Subject).where(Subject.external_id == external_id))
        return str(getattr(row, name))


def lifecycle(**dates):
    return lambda r: r["lifecycle"].update(dates)


def consent_expiring(moment):
    return lambda r: r["consents"][0].update(expires_at=moment)


BAD = [
    (lifecycle(date_of_death=SOON), "lifecycle.date_of_death", "cannot be in the future", SOON),
    (lifecycle(last_contact_at=SOON), "lifecycle.last_contact_at", "cannot be in the future", SOON),
    (
        lifecycle(last_contact_at="2022-01-31"),
        "lifecycle.last_contact_at",
        "cannot be before first_contact_at",
        "2022-01-31",
    ),
    (
        lifecycle(subscription_started_at="2023-01-15", subscription_ended_at="2022-12-14"),
        "lifecycle.subscription_ended_at",
        "cannot be before subscription_started_at",
        "2022-12-14",
    ),
    (
        consent_expiring(PAST_EXPIRY),
        "consents[0].expires_at",
        "a consent cannot expire in the past",
        "2023-06-01",
    ),
    (
        lambda r: r["consents"][0].update(given_at=LATER + "T00:00:00Z", expires_at=SOON),
        "consents[0].expires_at",
        "a consent cannot expire before it is given",
        SOON,
    ),
]


def bad_record(example, change, external_id="crm-bad"):
    record = json.loads(json.dumps(example))
    record["external_id"] = external_id
    change(record)
    return record


@pytest.mark.parametrize(("change", "location", "rule", "value"), BAD)
def test_an_import_refuses_the_date_naming_the_field(
    env, cli, example, tmp_path, change, location, rule, value
):
    path = write_jsonl(tmp_path / "in.jsonl", [example, bad_record(example, change)])
    result = cli("subjects", "import", str(path))
    assert result.exit_code == 1
    assert f"line 2, {location}: {rule}; nothing was imported" in result.stderr, result.stderr
    assert value not in result.stderr and "Traceback" not in result.stderr
    assert subjects(env) == 0


@pytest.mark.parametrize("workers", ["0", "1"])
def test_skip_invalid_skips_each_bad_date_and_reports_it(
    env, cli, example, tmp_path, monkeypatch, workers
):
    records = [example] + [
        bad_record(example, change, f"crm-bad-{i}") for i, (change, *_) in enumerate(BAD)
    ]
    records.append(dict(example, external_id="crm-43"))
    monkeypatch.setenv("TUTELA_IMPORT_WORKERS", workers)
    path = write_jsonl(tmp_path / "in.jsonl", records)
    result = cli("subjects", "import", str(path), "--skip-invalid", "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["read"], report["created"], report["invalid"]) == (len(records), 2, len(BAD))
    assert [(e["line"], e["location"], e["message"]) for e in report["errors"]] == [
        (i + 2, location, rule) for i, (_, location, rule, _) in enumerate(BAD)
    ]
    assert not any(value in result.stdout for *_, value in BAD)
    assert subjects(env) == 2


def test_the_future_is_counted_from_the_moment_of_the_write(env, cli, example, tmp_path):
    record = bad_record(example, lifecycle(date_of_death="2024-06-10"), "crm-42")
    record["consents"][0]["expires_at"] = "2024-07-01T00:00:00Z"
    path = write_jsonl(tmp_path / "in.jsonl", [record])
    before = cli("subjects", "import", str(path), "--as-of", "2024-06-01")
    assert (
        before.exit_code == 1
        and "lifecycle.date_of_death: cannot be in the future" in before.stderr
    )
    del record["lifecycle"]["date_of_death"]
    write_jsonl(path, [record])
    assert cli("subjects", "import", str(path), "--as-of", "2024-06-01").exit_code == 0
    # The consent that was running as of June 2024 is long past today.
    later = cli("subjects", "import", str(path))
    assert later.exit_code == 1 and "consents[0].expires_at" in later.stderr


@pytest.fixture
def client(env):
    with TestClient(create_app(env.ctx)) as test_client:
        test_client.headers["Authorization"] = f"Bearer {env.admin_key}"
        yield test_client


@pytest.mark.parametrize(("change", "location", "rule", "value"), BAD)
def test_the_api_refuses_the_date_with_422_naming_the_field(
    env, client, example, change, location, rule, value
):
    record = bad_record(example, change, "crm-42")
    for response in (
        client.post("/subjects", json=record),
        client.put("/subjects/crm-42", json=record),
    ):
        assert response.status_code == 422
        (detail,) = response.json()["detail"]
        assert detail["loc"] == ["body", *location.split(".")] and detail["msg"] == rule
        assert value not in response.text
    assert subjects(env) == 0


def test_an_api_update_is_checked_against_the_dates_already_known(env, client, example):
    assert client.post("/subjects", json=example).status_code == 201
    update = {key: example[key] for key in ("external_id", "kind", "source", "identification")}
    update["lifecycle"] = {"subscription_started_at": "2023-01-15"}
    assert client.put("/subjects/crm-42", json=update).status_code == 200
    update["lifecycle"] = {"subscription_ended_at": "2023-01-14"}
    response = client.put("/subjects/crm-42", json=update)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "lifecycle", "subscription_ended_at"]
    assert stored(env, "crm-42", "subscription_ended_at") == "None"


def test_a_day_begun_somewhere_on_earth_is_not_in_the_future(env, client, example):
    """22:30 UTC on June 1st is already June 2nd in Paris; June 3rd has begun nowhere."""
    with travel(datetime(2024, 6, 1, 22, 30, tzinfo=UTC)):
        example["lifecycle"]["last_contact_at"] = "2024-06-03"
        assert client.post("/subjects", json=example).status_code == 422
        example["lifecycle"]["last_contact_at"] = "2024-06-02"
        assert client.post("/subjects", json=example).status_code == 201


def test_a_consent_given_with_an_expiry_in_the_past_is_refused(env, cli, example, tmp_path):
    imported(cli, example, tmp_path)
    give = ("consents", "give", "crm-42", "--purpose", "newsletter", "--expires", "2024-01-01")
    refused = cli(*give)
    assert refused.exit_code == 1
    assert "expires: a consent cannot expire in the past" in refused.stderr
    ledger = json.loads(cli("consents", "show", "crm-42", "--json").stdout)
    assert [c["purpose"] for c in ledger["consents"]] == ["profiling"]
    assert cli(*give, "--as-of", "2023-12-01").exit_code == 0  # running then


def test_a_date_of_death_begun_somewhere_is_recorded(env, cli, example, tmp_path):
    imported(cli, example, tmp_path)
    with travel(datetime(2024, 6, 1, 22, 30, tzinfo=UTC)):
        death = ("requests", "death", "crm-42", "--proof", "CERT-1", "--on")
        too_soon = cli(*death, "2024-06-03")
        assert too_soon.exit_code == 1 and "future" in too_soon.stderr
        assert cli(*death, "2024-06-02").exit_code == 0, "already June 2nd in Paris"


AT = datetime(2024, 6, 1, 12, tzinfo=UTC)  # June 2nd has begun east of UTC+12; June 3rd nowhere
PAIRS = [
    ("first_contact_at", "last_contact_at"),
    ("subscription_started_at", "subscription_ended_at"),
]
days = st.dates(min_value=date(2021, 1, 1), max_value=date(2027, 12, 31))
RULES = RecordRules(load_policy())


@given(
    st.fixed_dictionaries({}, optional={name: days for name in (*sum(PAIRS, ()), "date_of_death")})
)
def test_a_record_is_refused_exactly_when_a_date_is_unsound_and_never_shows_one(dates):
    raw = {
        "external_id": "x",
        "kind": "client",
        "source": "registration_form",
        "identification": {"first_name": "A", "last_name": "B", "email": "a@example.org"},
        "lifecycle": {k: v.isoformat() for k, v in dates.items()},
    }
    sound = all(d <= date(2024, 6, 2) for d in dates.values()) and all(
        dates[a] <= dates[b] for a, b in PAIRS if a in dates and b in dates
    )
    try:
        check_record(validate_record(raw, RULES), AT)
    except InvalidInput as exc:
        assert not sound
        assert exc.location.startswith("lifecycle.")
        assert not any(v.isoformat() in str(exc) for v in dates.values())
    else:
        assert sound
