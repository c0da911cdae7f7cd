"""Signing in to the console, on both engines: argon2 passwords, TOTP, a session cookie that
is HttpOnly and SameSite=Strict, CSRF on every form, a strict CSP, idle expiry, sign-out; and
a dashboard that shows each part only to the roles the policy lets see it."""

import re
from datetime import timedelta

import pyotp
from console_support import PASSWORD, csrf_of, sign_in, staff
from fastapi.testclient import TestClient
from sqlalchemy import select

from tutela.access.service import actor_of, get_principal
from tutela.access.service import list_principals as get_all
from tutela.api import create_app
from tutela.clock import now, travel
from tutela.db import session_scope
from tutela.web.models import ConsoleCredential, ConsoleSession


def test_staff_sign_in_and_out_with_a_strict_session(env, key_for):
    staff(env, key_for, "claire", ["dpo"])
    with TestClient(create_app(env.ctx)) as client:
        assert client.get("/console", follow_redirects=False).headers["location"] == (
            "/console/login"
        )
        signed = sign_in(client, "claire")
        assert signed.status_code == 303 and signed.headers["location"] == "/console"
        cookie = signed.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/console" in cookie
        home = client.get("/console")
        assert home.status_code == 200 and "claire" in home.text and "Breaches" in home.text
        csp = home.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp and home.headers["cache-control"] == "no-store"
        assert not re.search(r"<script(?![^>]*\bsrc=)", home.text)  # no inline script
        assert not re.search(r"\sstyle=", home.text)  # no inline style
        out = client.post("/console/logout", data={"csrf": csrf_of(home.text)},
                          follow_redirects=False)  # fmt: skip
        assert out.status_code == 303
        assert client.get("/console", follow_redirects=False).status_code == 303
    with session_scope(env.ctx.engine, write=False) as session:
        assert session.scalars(select(ConsoleSession)).all() == []
        claire = get_principal(session=session, name="claire")
        stored = session.get(ConsoleCredential, claire.id).password_hash
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_every_refusal_reads_alike_and_is_audited(env, key_for, cli):
    import json

    staff(env, key_for, "claire", ["dpo"])
    staff(env, key_for, "partner", ["partners"])  # an external recipient: not staff
    with TestClient(create_app(env.ctx)) as client:
        wrong = sign_in(client, "claire", "not the passphrase")
        unknown = sign_in(client, "nobody", PASSWORD)
        external = sign_in(client, "partner")
        for answer in (wrong, unknown, external):
            assert answer.status_code == 401 and "Wrong name, password or code." in answer.text
    events = [e for e in json.loads(cli("audit", "show", "--json").stdout)
              if e["action"] == "sign_in"]  # fmt: skip
    assert [e["outcome"] for e in events] == ["denied", "denied", "denied"]
    assert not any(PASSWORD in json.dumps(e) or "not the passphrase" in json.dumps(e)
                   for e in events)  # fmt: skip


def test_a_form_without_its_token_is_refused(env, key_for):
    staff(env, key_for, "claire", ["dpo"])
    with TestClient(create_app(env.ctx)) as client:
        client.get("/console/login")
        forged = client.post("/console/login", data={"csrf": "forged", "name": "claire",
                                                     "password": PASSWORD})  # fmt: skip
        assert forged.status_code == 403
        assert sign_in(client, "claire").status_code == 303
        out = client.post("/console/logout", data={"csrf": "forged"})
        assert out.status_code == 403
        assert client.get("/console").status_code == 200  # still signed in


def test_an_idle_session_is_signed_out(env, key_for):
    staff(env, key_for, "claire", ["dpo"])
    with TestClient(create_app(env.ctx)) as client:
        sign_in(client, "claire")
        idle = timedelta(minutes=env.ctx.settings.console_idle_minutes)
        with travel(now() + idle - timedelta(seconds=5)):
            assert client.get("/console").status_code == 200  # used: the idle time restarts
        with travel(now() + 2 * idle):
            assert client.get("/console", follow_redirects=False).status_code == 303


def test_a_principal_with_totp_needs_its_code(env, key_for, cli):
    staff(env, key_for, "claire", ["dpo"])
    uri = cli("principals", "enable-totp", "claire").stdout
    secret = re.search(r"secret=([A-Z2-7]+)", uri).group(1)
    with TestClient(create_app(env.ctx)) as client:
        assert sign_in(client, "claire").status_code == 401
        code = pyotp.TOTP(secret).now()
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        assert sign_in(client, "claire", code=wrong).status_code == 401
        assert sign_in(client, "claire", code=code).status_code == 303


def test_the_dashboard_shows_what_the_roles_may_see(env, key_for, cli):
    staff(env, key_for, "claire", ["dpo"])
    staff(env, key_for, "mia", ["marketing"])
    cli("breaches", "open", "--aware-at", "2026-12-01T10:00+01:00", "--nature", "integrity",
        "--description", "x")  # fmt: skip
    with TestClient(create_app(env.ctx)) as client:
        sign_in(client, "claire")
        dpo = client.get("/console?lang=fr").text
        assert "Violations" in dpo and "B-2026-" in dpo and "Revue des accès" in dpo
    with TestClient(create_app(env.ctx)) as client:
        sign_in(client, "mia")
        page = client.get("/console").text
        assert env.ctx.policy.version in page
        for hidden in ("Breaches", "B-2026-", "Rights requests", "Access review"):
            assert hidden not in page


def test_guessing_a_password_is_slowed_and_others_still_sign_in(env, key_for):
    staff(env, key_for, "claire", ["dpo"])
    staff(env, key_for, "mia", ["marketing"])
    with TestClient(create_app(env.ctx)) as client:
        for _ in range(5):
            assert sign_in(client, "claire", "a wrong guess!!").status_code == 401
        slowed = sign_in(client, "claire")
        assert slowed.status_code == 429 and int(slowed.headers["retry-after"]) > 0
        assert sign_in(client, "mia").status_code == 303


def test_a_read_shows_what_the_gate_gives_that_role(env, key_for, cli, tmp_path):
    from portal_people import import_one

    import_one(cli, tmp_path, "ana", "ana@example.org", card_last4="4242")
    staff(env, key_for, "bill", ["administration"])
    staff(env, key_for, "mia", ["marketing"])
    with TestClient(create_app(env.ctx)) as client:
        sign_in(client, "bill")
        billing = client.get("/console/people/ana", params={"purpose": "accounting_billing"})
        assert billing.status_code == 200 and "4242" in billing.text
    with TestClient(create_app(env.ctx)) as client:
        sign_in(client, "mia")
        refused = client.get("/console/people/ana", params={"purpose": "accounting_billing"})
        assert refused.status_code == 403 and "4242" not in refused.text
        unknown = client.get(
            "/console/people/nobody", params={"purpose": "relationship_management"}
        )
        assert unknown.status_code == 404
        bad = client.get("/console/people", params={"phone": "not a phone"})
        assert bad.status_code == 200 and "expected a phone number" in bad.text


def test_the_trail_page_filters_and_verifies_for_oversight_only(env, key_for, cli, tmp_path):
    from portal_people import import_one
    from sqlalchemy import update

    from tutela.audit.models import AuditEvent

    import_one(cli, tmp_path, "ana", "ana@example.org")
    staff(env, key_for, "claire", ["dpo"])
    staff(env, key_for, "bill", ["administration"])
    with TestClient(create_app(env.ctx)) as client:
        sign_in(client, "bill")
        client.get("/console/people/ana", params={"purpose": "accounting_billing"})
        assert client.get("/console/audit").status_code == 403
    with TestClient(create_app(env.ctx)) as client:
        sign_in(client, "claire")
        page = client.get("/console/audit", params={"person": "ana", "principal": "bill"})
        rows = re.findall(r"<tr><td>\d+</td>.*?</tr>", page.text)
        assert rows and all("bill" in row and "ana" in row for row in rows)
        assert "accounting_billing" in page.text
        home = client.get("/console/audit")
        intact = client.post("/console/audit/verify", data={"csrf": csrf_of(home.text)})
        assert "The trail is intact" in intact.text
        with session_scope(env.ctx.engine) as session:
            session.execute(update(AuditEvent).where(AuditEvent.seq == 3).values(outcome="x"))
        broken = client.post("/console/audit/verify", data={"csrf": csrf_of(home.text)})
        assert "The trail is broken at event 3" in broken.text


def test_staff_read_and_download_the_register(env, key_for):
    staff(env, key_for, "claire", ["dpo"])
    staff(env, key_for, "partner", ["partners"])  # external: may not sign in at all
    with TestClient(create_app(env.ctx)) as client:
        sign_in(client, "claire")
        french = client.get("/console/register", params={"lang": "fr"})
        assert "Registre des activités de traitement" in french.text
        assert "Exécution d'un contrat" in french.text.replace("&#39;", "'")
        csv = client.get("/console/register/export", params={"format": "csv", "lang": "fr"})
        assert csv.text.startswith("Activité,") and "attachment" in csv.headers[
            "content-disposition"]  # fmt: skip
        assert client.get("/console/register/export", params={"format": "xls"}).status_code == 404
        assert sign_in(client, "partner").status_code == 401


def test_administrators_add_reissue_and_deactivate_principals(env, key_for):
    staff(env, key_for, "claire", ["dpo"])
    staff(env, key_for, "mia", ["marketing"])
    with TestClient(create_app(env.ctx)) as client:
        sign_in(client, "mia")
        assert client.get("/console/principals").status_code == 403
    with TestClient(create_app(env.ctx)) as client:
        sign_in(client, "claire")
        token = csrf_of(client.get("/console/principals").text)
        added = client.post("/console/principals/add",
                            data={"csrf": token, "name": "app-1", "role": "application"})  # fmt: skip
        key = re.search(r"<code>(tutela_[^<]+)</code>", added.text).group(1)
        assert client.get("/healthz", headers={"Authorization": f"Bearer {key}"}).status_code == 200
        again = client.post("/console/principals/reissue", data={"csrf": token, "name": "app-1"})
        assert re.search(r"<code>tutela_", again.text) and key not in again.text
        out = client.post("/console/principals/deactivate", data={"csrf": token, "name": "mia"})
        assert out.status_code == 200 and "left on" in out.text
        client.post("/console/principals/deactivate", data={"csrf": token, "name": "admin"})
        last = client.post("/console/principals/deactivate", data={"csrf": token, "name": "claire"})
        assert last.status_code >= 400 and "administrator" in last.text  # one must stay
        with session_scope(env.ctx.engine, write=False) as session:
            everyone = get_all(session=session)
            active = {p.name for p in everyone if not actor_of(p).inactive_reason(now())}
        assert active == {"app-1", "claire"}


def test_staff_see_the_policy_versions_and_subprocessors(env, key_for, cli, tmp_path):
    staff(env, key_for, "claire", ["dpo"])
    from tutela.policy.loader import policy_text

    text = tmp_path / "v2.yaml"
    text.write_text(policy_text().replace('version: "2026.12.1"', 'version: "2026.12.2"'))
    assert cli("policy", "activate", str(text)).exit_code == 0
    with TestClient(create_app(env.ctx)) as client:
        sign_in(client, "claire")
        shown = client.get("/console/policy", params={"lang": "fr"}).text
    assert "2026.12.1" in shown and "2026.12.2 (en vigueur)" in shown
    assert "Sous-traitants" in shown and "non renseigné" in shown


def test_reserved_names_and_far_dates_are_refused_not_failed(env, key_for, cli):
    staff(env, key_for, "claire", ["dpo"])
    for name in ("portal", "requester:123", "console:root"):
        refused = cli("principals", "add", name, "--role", "application")
        assert refused.exit_code == 1 and "choose another" in refused.stderr
    with TestClient(create_app(env.ctx)) as client:
        sign_in(client, "claire")
        far = client.get("/console/audit", params={"from": "0001-01-01T00:00"})
        assert far.status_code == 200
        home = client.get("/console/breaches")
        opened = client.post("/console/breaches", data={"csrf": csrf_of(home.text),
                             "aware_at": "0001-01-01T00:00", "nature": "integrity",
                             "description": "x"})  # fmt: skip
        assert opened.status_code == 422 and "between" in opened.text
