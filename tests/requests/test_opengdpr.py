"""The OpenGDPR door: a client built from the specification's examples gets its responses, and
its requests join the same workflow (identity first, then the decision)."""

import base64
import json

import pytest
from fastapi.testclient import TestClient

from tutela.api import create_app

REQUEST_ID = "a7551968-d5d6-44b2-9831-815ac9017798"


def spec_request(request_type="erasure", request_id=REQUEST_ID, email="ana@example.org") -> dict:
    """The specification's example request (its stray trailing comma removed), for our person."""
    return {
        "subject_request_id": request_id,
        "subject_request_type": request_type,
        "submitted_time": "2018-10-02T15:00:00Z",
        "subject_identities": [
            {"identity_type": "email", "identity_value": email, "identity_format": "raw"}
        ],
        "api_version": "0.1",
        "status_callback_urls": ["http://127.0.0.1:9/opengdpr_callbacks"],  # nothing listens
        "extensions": {"example-processor.com": {"property_id": "123456"}},
    }


@pytest.fixture
def client(env, cli, example, tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps(example) + "\n")
    assert cli("subjects", "import", str(path)).exit_code == 0
    with TestClient(create_app(env.ctx)) as client:
        client.headers["Authorization"] = f"Bearer {env.admin_key}"
        yield client


def test_discovery_and_status_say_what_is_supported(client):
    found = client.get("/v1/discovery", headers={"Authorization": ""})
    assert found.status_code == 200
    body = found.json()
    assert body["api_version"] == "0.1"
    assert {"identity_type": "email", "identity_format": "raw"} in body["supported_identities"]
    assert set(body["supported_subject_request_types"]) == {"access", "portability", "erasure"}
    assert "processor_certificate" in body
    assert client.get("/v1/status").json()["api_version"] == "0.1"


def test_a_request_is_received_then_followed_to_completion(client, cli, inbox):
    body = json.dumps(spec_request("access")).encode()
    received = client.post(
        "/v1/opengdpr_requests", content=body, headers={"Content-Type": "application/json"}
    )
    assert received.status_code == 201, received.text
    answer = received.json()
    assert set(answer) == {
        "controller_id",
        "expected_completion_time",
        "received_time",
        "encoded_request",
        "subject_request_id",
    }
    assert answer["subject_request_id"] == REQUEST_ID
    assert base64.b64decode(answer["encoded_request"]) == body
    status = client.get(f"/v1/opengdpr_requests/{REQUEST_ID}").json()
    assert status["request_status"] == "pending" and status["api_version"] == "0.1"
    assert status["expected_completion_time"] == answer["expected_completion_time"]

    ours = REQUEST_ID.replace("-", "")  # the same request in Tutela's own API and CLI
    refused = cli("requests", "process", ours, "--json")
    assert refused.exit_code == 1 and "not verified" in refused.stderr and not refused.stdout
    cli("outbox", "send")
    code = inbox.code_for("ana@example.org")
    assert client.post(f"/requests/{ours}/verification", json={"code": code}).status_code == 200
    assert client.get(f"/v1/opengdpr_requests/{REQUEST_ID}").json()["request_status"] == (
        "in_progress"
    )
    assert cli("requests", "process", ours).exit_code == 0
    assert client.get(f"/v1/opengdpr_requests/{REQUEST_ID}").json()["request_status"] == (
        "completed"
    )


def test_an_unverified_erasure_erases_nothing_and_can_be_cancelled(client, cli):
    assert client.post("/v1/opengdpr_requests", json=spec_request()).status_code == 201
    cancelled = client.delete(f"/v1/opengdpr_requests/{REQUEST_ID}")
    assert cancelled.status_code == 202
    assert set(cancelled.json()) >= {"controller_id", "subject_request_id", "received_time"}
    assert client.get(f"/v1/opengdpr_requests/{REQUEST_ID}").json()["request_status"] == (
        "cancelled"
    )
    again = client.delete(f"/v1/opengdpr_requests/{REQUEST_ID}")
    assert again.status_code == 400 and "pending" in again.json()["error"]["message"]
    read = cli("subjects", "show", "crm-42", "--purpose", "contact_assistance", "--json")
    assert json.loads(read.stdout)["data"]["identification"]["email"] == "ana@example.org"


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (lambda r: r.pop("subject_request_id"), "subject_request_id"),
        (lambda r: r.update(subject_request_type="rectification"), "subject_request_type"),
        (lambda r: r.update(subject_request_id="not-a-uuid"), "subject_request_id"),
        (
            lambda r: r.update(
                subject_identities=[
                    {"identity_type": "ios_advertising_id", "identity_value": "x", "identity_format": "raw"}
                ]
            ),
            "no supported identity",
        ),
    ],
)  # fmt: skip
def test_bad_requests_get_the_specifications_error_body(client, change, says):
    request = spec_request()
    change(request)
    refused = client.post("/v1/opengdpr_requests", json=request)
    assert refused.status_code == 400
    error = refused.json()["error"]
    assert error["code"] == 400 and says in error["message"]
    assert error["errors"][0]["domain"] and error["errors"][0]["reason"]
    assert "ana@example.org" not in refused.text


def test_a_request_id_is_received_once_and_unknown_ones_are_not_found(client):
    assert client.post("/v1/opengdpr_requests", json=spec_request()).status_code == 201
    twice = client.post("/v1/opengdpr_requests", json=spec_request())
    assert twice.status_code == 400 and "already received" in twice.json()["error"]["message"]
    missing = client.get("/v1/opengdpr_requests/00000000-0000-4000-8000-000000000000")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == 404
