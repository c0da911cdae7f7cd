"""Art. 19 from the facts: rectification, erasure and restriction tell the recipients the data
was disclosed to (trail, disclosures, subprocessors), each only of its own categories, by a
signed webhook; the person is told who they are."""

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar

import pytest

from conftest import open_verified, process
from tutela.settings import get_settings


class Hook(BaseHTTPRequestHandler):
    """A recipient's webhook: keeps what it receives."""

    received: ClassVar[list] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Hook.received.append((dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def partners_hook(monkeypatch):
    server = HTTPServer(("127.0.0.1", 0), Hook)
    Hook.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}/art19"
    monkeypatch.setenv("TUTELA_WEBHOOKS", json.dumps({"partners": {"url": url, "secret": "s3"}}))
    get_settings.cache_clear()
    yield Hook.received
    server.shutdown()
    server.server_close()
    get_settings.cache_clear()


def test_the_recipients_who_received_the_data_are_told_of_a_rectification(ana, cli, partners_hook):
    cli("principals", "add", "pat", "--role", "partners")
    assert (
        cli(
            "subjects", "show", "crm-42", "--as", "pat", "--purpose", "relationship_management"
        ).exit_code
        == 0
    )
    request_id = open_verified(
        cli, "rectification", "crm-42", "--change", "identification.last_name=Martin"
    )
    answer = process(cli, request_id)
    told = answer["told"]
    assert "Partners and affiliates of the group" in told  # it read her identification
    assert "Agencies, paralegals and officers collecting debts" not in told  # never received it
    assert "French data-centre host" in told  # hosts every category
    counts = json.loads(cli("outbox", "send", "--json").stdout)
    assert counts["sent"] == 1  # only the partners have a webhook here
    ((headers, body),) = partners_hook
    stamp = headers["X-Tutela-Timestamp"]
    expected = hmac.new(b"s3", stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    assert headers["X-Tutela-Signature"] == f"sha256={expected}"
    notice = json.loads(body)
    assert notice["type"] == "rectification" and notice["external_id"] == "crm-42"
    assert notice["values"] == {"identification": {"last_name": "Martin"}}
    trail = json.loads(cli("audit", "show", "--json").stdout)
    recipients = {
        (e["detail"]["recipient"], e["outcome"]) for e in trail if e["action"] == "notify_recipient"
    }
    assert ("partners", "done") in recipients and ("hosting", "failed") in recipients
    assert "Martin" not in json.dumps(trail) and "Martin" not in cli("outbox", "list").stdout


def test_nobody_who_never_received_the_data_is_told(ana, cli):
    answer = process(cli, open_verified(cli, "erasure", "crm-42"))
    assert not [n for n in answer["told"] if "Partners" in n or "debts" in n]
    # She never subscribed to the newsletter, and service e-mails are for clients.
    assert "E-mail delivery provider" not in answer["told"]
    assert "French data-centre host" in answer["told"]  # the subprocessors processing her data are


def test_each_recipient_is_sent_only_the_categories_it_received(env):
    from sqlalchemy import select

    from tutela.access.recipients import Received
    from tutela.clock import now
    from tutela.db import session_scope
    from tutela.outbox.models import OutboxMessage
    from tutela.requests import notices

    changed = {"identification": {"last_name": "Martin"}, "banking": {"card_last4": "4242"}}
    recipients = [
        Received("partners", "Partners", "external", frozenset({"identification"})),
        Received(
            "payment_provider", "PSP", "subprocessor", frozenset({"identification", "banking"})
        ),
        Received("marketing", "Marketing", "internal", frozenset({"identification"})),
        Received("debt_collection", "Debts", "external", frozenset({"contract"})),
    ]
    with session_scope(env.ctx.engine) as session:
        keyring = env.ctx.keyring(session)
        told = notices.tell_recipients(
            session, keyring, change="rectification", request_id="r" * 32,
            external_id="crm-42", recipients=recipients, changed=changed, at=now(),
        )  # fmt: skip
        sent = {}
        for message in session.scalars(select(OutboxMessage)):
            to = keyring.open_note(message.recipient, label=f"outbox-to:{message.id}")
            sent[to] = json.loads(
                keyring.open_note(message.body, label=f"outbox-body:{message.id}")
            )
    assert told == ["partners", "payment_provider"] == sorted(sent)
    assert sent["partners"]["values"] == {"identification": {"last_name": "Martin"}}
    assert set(sent["payment_provider"]["values"]) == {"identification", "banking"}


def test_a_notice_never_follows_a_redirect(ana, cli, monkeypatch):
    """A recipient's endpoint that answers 302 elsewhere does not get Tutela to post there."""

    class Elsewhere(BaseHTTPRequestHandler):
        hits: ClassVar[list] = []

        def do_POST(self):
            Elsewhere.hits.append(self.path)
            self.send_response(204)
            self.end_headers()

        do_GET = do_POST  # a followed 302 arrives as a GET

        def log_message(self, *args):
            pass

    target = HTTPServer(("127.0.0.1", 0), Elsewhere)

    class Redirect(Elsewhere):
        def do_POST(self):
            self.send_response(302)
            self.send_header("Location", f"http://127.0.0.1:{target.server_port}/internal")
            self.end_headers()

    hook = HTTPServer(("127.0.0.1", 0), Redirect)
    for server in (target, hook):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{hook.server_port}/art19"
    monkeypatch.setenv("TUTELA_WEBHOOKS", json.dumps({"hosting": {"url": url, "secret": "s"}}))
    get_settings.cache_clear()
    try:
        process(cli, open_verified(cli, "restriction", "crm-42"))
        counts = json.loads(cli("outbox", "send", "--json").stdout)
    finally:
        for server in (target, hook):
            server.shutdown()
            server.server_close()
        get_settings.cache_clear()
    assert Elsewhere.hits == [] and counts["sent"] == 0
