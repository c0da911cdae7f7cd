"""No 5xx for bad input: lone surrogates, NUL characters, huge integers, out-of-range dates and
values longer than their column get 400 or 422 on both engines, naming where, never what."""

import json

import pytest
from fastapi.testclient import TestClient

from tutela.api import create_app


@pytest.fixture
def client(env, example):
    with TestClient(create_app(env.ctx), raise_server_exceptions=False) as test_client:
        test_client.headers["Authorization"] = f"Bearer {env.admin_key}"
        assert test_client.post("/subjects", json=example).status_code == 201
        yield test_client


def _raw(client, method, path, text):
    return client.request(
        method, path, content=text.encode(), headers={"content-type": "application/json"}
    )


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/requests", '{"type": "access", "external_id": "crm-\\ud800", "channel": "post"}'),
        ("/requests", '{"type": "access", "external_id": "crm-\\u0000", "channel": "post"}'),
        ("/access-reports", '{"description": "I see \\udfff here"}'),
        ("/access-reports", '{"description": "nul \\u0000 here"}'),
    ],
)
def test_surrogates_and_nul_in_a_body_are_422(client, path, body):
    answer = _raw(client, "POST", path, body)
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["type"] == "json_invalid"


def test_the_opengdpr_door_refuses_them_in_its_own_shape(client):
    body = {
        "subject_request_id": "0f5c9b0e-5a1a-4c4e-9b36-0c5d3f3b7a11",
        "subject_request_type": "access",
        "submitted_time": "2026-11-30T10:00:00Z",
        "subject_identities": [
            {
                "identity_type": "email",
                "identity_value": "x\u0000@example.org",
                "identity_format": "raw",
            }
        ],
    }
    answer = _raw(client, "POST", "/v1/opengdpr_requests", json.dumps(body))
    assert answer.status_code == 400 and answer.json()["error"]["code"] == 400


@pytest.mark.parametrize(
    "path",
    [
        "/subjects/crm-42?purpose=support%00",
        "/subjects/crm%0042?purpose=support",
        "/requests?status=open%00",
        "/subjects?kind=%00",
    ],
)
def test_nul_in_a_path_or_query_is_422(client, path):
    answer = client.get(path)
    assert answer.status_code == 422 and answer.json()["detail"][0]["type"] == "string_nul"


@pytest.mark.parametrize(
    "path",
    [
        "/subjects?offset=9223372036854775808",
        "/subjects?limit=99999999999999999999",
        "/requests?due_within=99999999999999999999",
    ],
)
def test_huge_integers_are_422(client, path):
    assert client.get(path).status_code == 422


@pytest.mark.parametrize("received", ["0001-01-01", "1899-12-31", "3000-01-01"])
def test_days_outside_the_years_a_record_names_are_422(client, received):
    body = {"type": "access", "external_id": "crm-42", "channel": "post", "received": received}
    answer = client.post("/requests", json=body)
    assert answer.status_code == 422 and answer.json()["detail"][0]["loc"] == ["body", "received"]


def test_a_long_unknown_purpose_is_refused_not_a_server_error(client):
    answer = client.get("/subjects/crm-42", params={"purpose": "p" * 5000})
    assert answer.status_code == 422


def test_the_cli_refuses_an_as_of_day_out_of_range(env, cli):
    result = cli("retention", "plan", "--as-of", "0001-01-01")
    assert result.exit_code == 2 and "between 1900-01-01 and 2999-12-31" in result.stderr


def _person(example, **changes):
    return {**example, "external_id": "crm-77", **changes}


@pytest.mark.parametrize(
    ("changes", "where"),
    [
        ({"identification": {"first_name": "A\u0000na", "last_name": "Roy"}}, "first_name"),
        ({"lifecycle": {"first_contact_at": "0001-01-01"}}, "first_contact_at"),
        (
            {"consents": [{"purpose": "profiling", "given_at": "0001-01-01T00:00:00+05:00"}]},
            "given_at",
        ),
        ({"connections": [{"at": "9999-12-31T23:59:59-05:00", "ip": "203.0.113.7"}]}, "at"),
        ({"kind": "k" * 65}, "kind"),
    ],
)
def test_a_record_with_bad_text_or_dates_is_422_naming_the_field(client, example, changes, where):
    answer = client.post("/subjects", json=_person(example, **changes))
    assert answer.status_code == 422, answer.text
    error = answer.json()["detail"][0]
    assert where in "/".join(str(part) for part in error["loc"]) + error["msg"]


def test_an_import_skips_such_records_with_skip_invalid(env, cli, example, tmp_path):
    path = tmp_path / "people.jsonl"
    lines = [
        json.dumps(_person(example, external_id="ok-1")),
        json.dumps(_person(example, external_id="bad-1", identification={"first_name": "x\u0000"})),
        json.dumps(
            _person(example, external_id="bad-2", lifecycle={"date_of_death": "0001-01-01"})
        ),
        '{"external_id": "bad-3", "kind": "prospect", "source": "website_contact", '
        '"identification": {"first_name": "\\ud800"}}',
    ]
    path.write_text("\n".join(lines) + "\n")
    refused = cli("subjects", "import", str(path))
    assert refused.exit_code == 1 and "nothing was imported" in refused.stderr
    done = cli("subjects", "import", str(path), "--skip-invalid", "--json")
    assert done.exit_code == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["created"] == 1 and report["invalid"] == 3
    assert "\u0000" not in done.stdout and "0001-01-01" not in done.stdout
