"""OpenGDPR, signed: a controller built from the specification (§4.2, §6.3, §8.3, §8.6, §8.8)
fetches the processor's certificate from the discovery, and verifies the signature of every
response and every status callback before it reads them."""

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar
from urllib.parse import urlsplit

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID
from fastapi.testclient import TestClient

from conftest import import_people
from tutela.api import create_app
from tutela.crypto.signing import verify

REQUEST_ID = "b7551968-d5d6-44b2-9831-815ac9017798"


class SpecController:
    """What a controller does with a processor: trust only what its certificate signed."""

    def __init__(self, http: TestClient) -> None:
        self.http = http
        found = http.get("/v1/discovery", headers={"Authorization": ""})
        location = urlsplit(found.json()["processor_certificate"])
        self.certificate = http.get(location.path, headers={"Authorization": ""}).content
        names = x509.load_pem_x509_certificate(self.certificate).subject
        self.domain = names.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
        self.checked(found)

    def checked(self, response):
        """The response, once its signature and processor domain are verified (§8.8)."""
        assert response.headers["X-OpenGDPR-Processor-Domain"] == self.domain
        assert verify(self.certificate, response.content, response.headers["X-OpenGDPR-Signature"])
        return response

    def call(self, method: str, path: str, **kwargs):
        return self.checked(self.http.request(method, path, **kwargs))


class Callbacks(BaseHTTPRequestHandler):
    received: ClassVar[list] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Callbacks.received.append((self.headers, body))  # names compared case-insensitively
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def callback_url():
    server = HTTPServer(("127.0.0.1", 0), Callbacks)
    Callbacks.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/opengdpr_callbacks"
    server.shutdown()
    server.server_close()


@pytest.fixture
def controller(env, cli, example, tmp_path, inbox):
    import_people(cli, tmp_path, example)
    key = json.loads(cli("principals", "add", "crm", "--role", "application", "--json").stdout)
    with TestClient(create_app(env.ctx)) as http:
        http.headers["Authorization"] = f"Bearer {key['api_key']}"
        yield SpecController(http)


def submission(callback_url: str, kind: str = "erasure") -> dict:
    return {
        "subject_request_id": REQUEST_ID,
        "subject_request_type": kind,
        "submitted_time": "2026-11-30T15:00:00Z",
        "subject_identities": [
            {
                "identity_type": "email",
                "identity_value": "ana@example.org",
                "identity_format": "raw",
            }
        ],
        "api_version": "0.1",
        "status_callback_urls": [callback_url],
    }


def test_every_response_and_callback_is_signed_with_the_published_certificate(
    controller, cli, inbox, callback_url
):
    received = controller.call("POST", "/v1/opengdpr_requests", json=submission(callback_url))
    assert received.status_code == 201
    status = controller.call("GET", f"/v1/opengdpr_requests/{REQUEST_ID}").json()
    assert status["request_status"] == "pending"
    bad = controller.call("POST", "/v1/opengdpr_requests", json={"subject_request_type": "x"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == 400  # errors signed too
    assert controller.call("GET", "/v1/status").json()["status"] == "ok"

    cli("outbox", "send")  # the code to the person; no state change yet, no callback
    assert Callbacks.received == []
    ours = REQUEST_ID.replace("-", "")
    code = inbox.code_for("ana@example.org", ours)
    verified = controller.http.post(f"/requests/{ours}/verification", json={"code": code})
    assert verified.status_code == 200  # the door that submitted it relays the person's code
    assert cli("requests", "process", ours).exit_code == 0
    cli("outbox", "send")
    statuses = []
    for headers, body in Callbacks.received:
        assert headers["X-OpenGDPR-Processor-Domain"] == controller.domain
        assert verify(controller.certificate, body, headers["X-OpenGDPR-Signature"])
        callback = json.loads(body)  # parsed only once verified (§8.8)
        assert callback["status_callback_url"] == callback_url
        assert callback["subject_request_id"] == REQUEST_ID
        assert callback["controller_id"] and callback["expected_completion_time"].endswith("Z")
        statuses.append(callback["request_status"])
    assert statuses == ["in_progress", "completed"]
    done = controller.call("GET", f"/v1/opengdpr_requests/{REQUEST_ID}").json()
    assert done["request_status"] == "completed"
    trail = json.loads(cli("audit", "show", "--json").stdout)
    assert [e["outcome"] for e in trail if e["action"] == "notify_controller"] == ["done", "done"]


def test_a_cancellation_is_signed_and_called_back(controller, cli, callback_url):
    controller.call("POST", "/v1/opengdpr_requests", json=submission(callback_url, "access"))
    cancelled = controller.call("DELETE", f"/v1/opengdpr_requests/{REQUEST_ID}")
    assert cancelled.status_code == 202
    cli("outbox", "send")
    ((headers, body),) = Callbacks.received
    assert verify(controller.certificate, body, headers["X-OpenGDPR-Signature"])
    assert json.loads(body)["request_status"] == "cancelled"


def test_a_forged_or_altered_body_does_not_verify(controller, callback_url):
    response = controller.call("POST", "/v1/opengdpr_requests", json=submission(callback_url))
    signature = response.headers["X-OpenGDPR-Signature"]
    altered = response.content.replace(b"erasure", b"access") + b" "
    assert not verify(controller.certificate, altered, signature)


def test_callbacks_go_only_to_http_urls_of_the_allowed_hosts(controller, monkeypatch, env):
    refused = controller.call(
        "POST", "/v1/opengdpr_requests", json=submission("file:///etc/passwd")
    )
    assert refused.status_code == 400 and "http" in refused.json()["error"]["message"]
    env.ctx.settings.__dict__["opengdpr_callback_hosts"] = ["controller.example"]
    elsewhere = controller.call(
        "POST", "/v1/opengdpr_requests", json=submission("http://127.0.0.1:9/x")
    )
    assert elsewhere.status_code == 400 and "known hosts" in elsewhere.json()["error"]["message"]


def test_without_a_signing_key_the_door_says_so(env, cli, monkeypatch, tmp_path):
    env.ctx._signer = None
    monkeypatch.setattr(env.ctx.settings, "opengdpr_key_file", tmp_path / "missing.key")
    with TestClient(create_app(env.ctx)) as http:
        found = http.get("/v1/discovery")
    assert found.status_code == 503 and "signing key" in found.json()["error"]["message"]
