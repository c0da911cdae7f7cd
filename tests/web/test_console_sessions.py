"""A console session ends, however busy, after its lifetime; and a new password or second
factor ends every session its principal had open (one opened by whoever knew the old one)."""

import re
from datetime import timedelta

import pyotp
from console_support import sign_in, staff
from fastapi.testclient import TestClient

from tutela.api import create_app
from tutela.clock import now, travel


def test_a_busy_session_still_ends_after_its_lifetime(env, key_for):
    staff(env, key_for, "claire", ["dpo"])
    idle = timedelta(minutes=env.ctx.settings.console_idle_minutes)
    lifetime = timedelta(hours=env.ctx.settings.console_session_hours)
    start = now()
    with TestClient(create_app(env.ctx)) as client:
        sign_in(client, "claire")
        moment = start
        while moment + idle / 2 < start + lifetime:
            moment += idle / 2  # used twice an idle time: never idle
            with travel(moment):
                assert client.get("/console", follow_redirects=False).status_code == 200
        with travel(start + lifetime + timedelta(minutes=1)):
            assert client.get("/console", follow_redirects=False).status_code == 303


def test_a_new_password_or_totp_ends_the_principals_sessions(env, key_for, cli):
    staff(env, key_for, "claire", ["dpo"])
    staff(env, key_for, "omar", ["dpo"])
    app = create_app(env.ctx)
    with TestClient(app) as thief, TestClient(app) as other:
        assert sign_in(thief, "claire").status_code == 303
        assert sign_in(other, "omar").status_code == 303
        changed = cli(
            "principals", "set-password", "claire", "--password", "another long passphrase"
        )
        assert changed.exit_code == 0
        assert thief.get("/console", follow_redirects=False).status_code == 303
        assert other.get("/console", follow_redirects=False).status_code == 200
        assert sign_in(thief, "claire", "another long passphrase").status_code == 303
        cli("principals", "enable-totp", "claire")
        assert thief.get("/console", follow_redirects=False).status_code == 303
        assert other.get("/console", follow_redirects=False).status_code == 200


def test_a_totp_code_signs_in_once(env, key_for, cli):
    staff(env, key_for, "claire", ["dpo"])
    uri = cli("principals", "enable-totp", "claire").stdout
    totp = pyotp.TOTP(re.search(r"secret=([A-Z2-7]+)", uri).group(1))
    code = totp.at(now())
    with TestClient(create_app(env.ctx)) as first, TestClient(create_app(env.ctx)) as second:
        assert sign_in(first, "claire", code=code).status_code == 303
        assert sign_in(second, "claire", code=code).status_code == 401  # seen: replayed
        with travel(now() + timedelta(seconds=totp.interval)):
            assert sign_in(second, "claire", code=totp.at(now())).status_code == 303


def test_a_totp_code_sent_twice_at_once_signs_in_once(env, key_for, cli, monkeypatch):
    """The same code in two sign-ins at the same moment (a code read over a shoulder or
    phished, replayed at once; several workers on PostgreSQL): one signs in, not both."""
    import threading

    from tutela.db import session_scope
    from tutela.web import accounts

    staff(env, key_for, "claire", ["dpo"])
    uri = cli("principals", "enable-totp", "claire").stdout
    code = pyotp.TOTP(re.search(r"secret=([A-Z2-7]+)", uri).group(1)).at(now())
    step_of = accounts._totp_step

    def slow_step(totp, code, at):  # the window between reading the last step and writing it
        found = step_of(totp, code, at)
        threading.Event().wait(0.3)
        return found

    monkeypatch.setattr(accounts, "_totp_step", slow_step)
    signed, ctx = [], env.ctx

    def attempt():
        with session_scope(ctx.engine) as session:
            signed.append(accounts.sign_in(session=session, keyring=ctx.keyring(session),
                                           policy=ctx.policy, name="claire",
                                           password="a long enough passphrase", code=code,
                                           at=now()) is not None)  # fmt: skip

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(signed) == [False, True]
