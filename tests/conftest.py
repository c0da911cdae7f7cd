"""Every database test runs twice: on SQLite and on PostgreSQL.

PostgreSQL comes from TUTELA_TEST_POSTGRES_URL (the Makefile points it at the local server).
Without a reachable server the PostgreSQL half is skipped, except under CI=true, where it
fails: CI must never pass by silently testing less.
"""

from __future__ import annotations

import os
import shutil
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tutela.bootstrap import initialise
from tutela.context import Context, build_context
from tutela.db import make_engine, normalise_url
from tutela.migrations import upgrade
from tutela.models import Base
from tutela.settings import Settings, get_settings

POSTGRES_ENV = "TUTELA_TEST_POSTGRES_URL"


def _postgres_base_url() -> str | None:
    url = os.environ.get(POSTGRES_ENV)
    return normalise_url(url) if url else None


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A migrated SQLite file copied for each test: migrations run once per session."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()  # closing the last connection folds the WAL back into the file
    return path


@pytest.fixture(scope="session")
def postgres_schema() -> Iterator[str]:
    """A fresh schema in the test database, migrated once, dropped at the end."""
    base = _postgres_base_url()
    reason = f"PostgreSQL not configured ({POSTGRES_ENV} unset)"
    if base:
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(text("select 1"))
        except Exception as exc:
            reason = f"PostgreSQL unreachable at {make_url(base).host}: {type(exc).__name__}"
            base = None
    if not base:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"{reason}; under CI the PostgreSQL half of the suite is mandatory")
        pytest.skip(reason)
    schema = f"tutela_test_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'create schema "{schema}"'))
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    engine = make_engine(url.render_as_string(hide_password=False))
    upgrade(engine)
    engine.dispose()
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'drop schema "{schema}" cascade'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "tutela.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("postgres_schema")
    engine = make_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"truncate {tables} restart identity cascade"))
    engine.dispose()
    return url


@dataclass
class Env:
    """A ready Tutela: initialised database, key file, and the administrator's API key."""

    ctx: Context
    admin_key: str
    settings: Settings
    workdir: Path

    @property
    def url(self) -> str:
        return self.settings.database_url

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")


@dataclass
class SigningPair:
    key: Path
    certificate: Path


@pytest.fixture(scope="session")
def opengdpr_pair(tmp_path_factory) -> SigningPair:
    """One self-signed OpenGDPR key and certificate for the session: RSA keys are slow to make."""
    from tutela.crypto.signing import create_test_pair

    folder = tmp_path_factory.mktemp("opengdpr")
    pair = SigningPair(folder / "opengdpr.key", folder / "opengdpr.pem")
    create_test_pair(key_file=pair.key, certificate_file=pair.certificate, domain="localhost")
    return pair


@pytest.fixture
def env(database_url, tmp_path, monkeypatch, opengdpr_pair) -> Iterator[Env]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TUTELA_DATABASE_URL", database_url)
    monkeypatch.setenv("TUTELA_KEY_FILE", str(tmp_path / "tutela.key"))
    monkeypatch.setenv("TUTELA_OPENGDPR_KEY_FILE", str(opengdpr_pair.key))
    monkeypatch.setenv("TUTELA_OPENGDPR_CERTIFICATE_FILE", str(opengdpr_pair.certificate))
    monkeypatch.delenv("TUTELA_MASTER_KEY", raising=False)
    monkeypatch.delenv("TUTELA_POLICY_FILE", raising=False)
    get_settings.cache_clear()
    settings = get_settings()
    ctx = build_context(settings)
    report = initialise(ctx)
    yield Env(ctx, report.admin_key or "", settings, tmp_path)
    ctx.engine.dispose()
    get_settings.cache_clear()


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(capsys, monkeypatch):
    """Run `tutela ARGS...` in-process, as a user would, exit code included."""
    from tutela.cli import main

    def run(*args: str) -> CliResult:
        get_settings.cache_clear()
        monkeypatch.setattr(sys, "argv", ["tutela", *args])
        code = 0
        try:
            main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        out, err = capsys.readouterr()
        return CliResult(code, out, err)

    return run


EXAMPLE = {
    "external_id": "crm-42",
    "kind": "prospect",
    "source": "website_contact",
    "identification": {
        "first_name": "Ana",
        "last_name": "Roy",
        "email": "ana@example.org",
        "phone": "+33 6 12 34 56 78",
    },
    "provided_by_subject": ["identification"],
    "lifecycle": {
        "first_contact_at": "2022-05-01",
        "last_contact_at": "2023-03-01",
        "subscription_started_at": None,
        "subscription_ended_at": None,
        "last_connection_at": None,
        "last_transaction_at": None,
    },
    "consents": [
        {"purpose": "profiling", "given_at": "2023-03-01T10:00:00Z", "channel": "web_form"}
    ],
    "connections": [
        {
            "at": "2023-02-01T09:00:00Z",
            "ip": "203.0.113.7",
            "device": "desktop",
            "browser_language": "fr-FR",
        }
    ],
    "payments": [
        {
            "at": "2023-02-10T12:00:00Z",
            "method": "card",
            "card_last4": "4242",
            "retain_consent": False,
        }
    ],
    "enriched": {"segment": "smb", "score": 0.7},
}


@pytest.fixture
def example() -> dict:
    """The record of the foundation issue, as the company's CRM would send it."""
    import copy

    return copy.deepcopy(EXAMPLE)


def new_id() -> str:
    return uuid.uuid4().hex[:8]


@pytest.fixture
def key_for(env):
    """`key_for(name, roles)`: a new principal holding `roles`, and its API key."""
    from tutela.access.service import create_principal, issue_key
    from tutela.clock import now
    from tutela.db import session_scope

    def make(name: str, roles: list[str]) -> str:
        with session_scope(env.ctx.engine) as session:
            principal = create_principal(
                session=session, policy=env.ctx.policy, name=name, roles=roles, at=now()
            )
            return issue_key(session=session, principal=principal, at=now())

    return make


class Inbox:
    """A real SMTP server on loopback (aiosmtpd) collecting what Tutela sends."""

    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 OK"

    def code_for(self, address: str, reference: str = "") -> str:
        import re

        mails = [
            m for m in self.messages if address in m.rcpt_tos and reference.encode() in m.content
        ]
        return re.search(rb"Your code: (\d{6})", mails[-1].content).group(1).decode()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def unused_port() -> int:
    return free_port()


@pytest.fixture
def inbox(monkeypatch) -> Iterator[Inbox]:
    from aiosmtpd.controller import Controller

    handler = Inbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("TUTELA_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("TUTELA_SMTP_PORT", str(port))
    yield handler
    controller.stop()
