"""Staff who sign in, and a live server for the browser: what the console tests share."""

import os
import re
import shutil
import threading
import time
from contextlib import contextmanager

import pytest
import uvicorn
from fastapi.testclient import TestClient

from tutela.access.service import get_principal
from tutela.api import create_app
from tutela.clock import now
from tutela.db import session_scope
from tutela.web import accounts

PASSWORD = "a long enough passphrase"


def staff(env, key_for, name, roles, password=PASSWORD):
    """A principal with `roles` who signs in to the console with `password`."""
    key_for(name, roles)
    with session_scope(env.ctx.engine) as session:
        accounts.set_password(
            session=session,
            policy=env.ctx.policy,
            principal=get_principal(session=session, name=name),
            password=password,
            by="test",
            at=now(),
        )


def csrf_of(html):
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def sign_in(client: TestClient, name, password=PASSWORD, code=""):
    form = client.get("/console/login")
    data = {"csrf": csrf_of(form.text), "name": name, "password": password, "code": code}
    return client.post("/console/login", data=data, follow_redirects=False)


@contextmanager
def live_server(env):
    """The API and console served on a free local port, in this process (so that the
    test's clock and database are the server's)."""
    config = uvicorn.Config(create_app(env.ctx), host="127.0.0.1", port=0, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]  # the free port it was given
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(5)


def chromium_path() -> str:
    """Debian's Chromium, which `make test` installs; missing, the browser tests are skipped,
    except under CI=true, where they fail."""
    found = shutil.which("chromium")
    if found is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("chromium is missing; under CI the browser tests are mandatory")
        pytest.skip("chromium not installed (make test installs it)")
    return found
