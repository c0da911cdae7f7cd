"""A person's own consents and objections on the portal, on both engines: proved with an
e-mailed code, each given and withdrawn with one button, each objection recorded through the
consent flows; known, unknown and shared addresses read alike; forms are CSRF-checked and
rate limited."""

import json
import re
from pathlib import Path

from fastapi.testclient import TestClient
from portal_people import import_one, mailed_code

from tutela.api import create_app

ASKED = "If we hold data about this address, we have e-mailed a code to it."


def _csrf(html):
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def _ask(client, email):
    form = client.get("/portal/choices")
    return client.post("/portal/choices", data={"csrf": _csrf(form.text), "email": email})


def _code(client, code):
    return client.post("/portal/choices/code",
                       data={"csrf": _csrf(client.get("/portal/choices").text), "code": code})  # fmt: skip


def _press(client, path, **fields):
    csrf = _csrf(client.get("/portal/choices").text)
    return client.post(f"/portal/choices/{path}", data={"csrf": csrf, **fields})


def _ledger(cli, external_id):
    return json.loads(cli("consents", "show", external_id, "--json").stdout)


def test_a_person_gives_withdraws_and_objects_once_proved(env, cli, tmp_path, inbox):
    import_one(cli, tmp_path, "ana", "ana@example.org")
    with TestClient(create_app(env.ctx)) as client:
        assert ASKED in _ask(client, "ana@example.org").text
        assert "This code is wrong or has expired." in _code(client, "000000").text
        refused = _press(client, "consent", purpose="newsletter", action="give")
        assert "has ended" in refused.text and _ledger(cli, "ana")["consents"] == []
        page = _code(client, mailed_code(cli, inbox, "ana@example.org"))
        assert "you may now manage your choices" in page.text
        assert "Management of the newsletter" in page.text and "Prospecting" in page.text

        given = _press(client, "consent", purpose="newsletter", action="give")
        assert "Your consent is recorded." in given.text and "Withdraw" in given.text
        ledger = _ledger(cli, "ana")["consents"]
        assert [(c["purpose"], c["channel"], c["withdrawn_at"]) for c in ledger] == [
            ("newsletter", "portal", None)
        ]
        withdrawn = _press(client, "consent", purpose="newsletter", action="withdraw")
        assert "Your consent is withdrawn." in withdrawn.text
        assert _ledger(cli, "ana")["consents"][0]["withdrawn_at"] is not None

        unchanged = _press(client, "consent", purpose="support", action="give")
        assert "Nothing was changed" in unchanged.text  # not a purpose resting on consent
        objected = _press(client, "objection", scope="prospecting")
        assert "Your objection is recorded." in objected.text
        assert [o["scope"] for o in _ledger(cli, "ana")["objections"]] == ["prospecting"]
        done = _press(client, "end")
        assert "no longer manages your choices" in done.text and 'id="email"' in done.text
        again = _press(client, "consent", purpose="newsletter", action="give")
        assert "has ended" in again.text
    trail = json.loads(cli("audit", "show", "--subject", "ana", "--json").stdout)
    actions = [e["action"] for e in trail if e["principal"] == "portal"]
    assert actions == ["give_consent", "withdraw_consent", "object"]


def test_known_unknown_and_shared_addresses_read_alike(env, cli, tmp_path, inbox):
    import_one(cli, tmp_path, "ana", "ana@example.org")
    import_one(cli, tmp_path, "bob", "shared@example.org")
    import_one(cli, tmp_path, "cy", "shared@example.org")
    pages = []
    for address in ("ana@example.org", "nobody@example.org", "shared@example.org"):
        with TestClient(create_app(env.ctx)) as client:
            pages.append(_ask(client, address))
    assert len({(p.status_code, re.sub(r'value="[^"]+"', "", p.text)) for p in pages}) == 1
    assert cli("outbox", "send").exit_code == 0
    told = {r for m in inbox.messages for r in m.rcpt_tos}
    assert {"ana@example.org", "nobody@example.org", "shared@example.org"} <= told
    shared = [m for m in inbox.messages if "shared@example.org" in m.rcpt_tos]
    assert b"Your code" not in shared[0].content  # a shared address proves nobody


def test_forged_forms_are_refused_and_asking_is_rate_limited(env, cli, tmp_path):
    import_one(cli, tmp_path, "ana", "ana@example.org")
    with TestClient(create_app(env.ctx)) as client:
        _ask(client, "ana@example.org")
        forged = client.post("/portal/choices/code", data={"csrf": "forged", "code": "1"})
        assert forged.status_code == 403
        forged = client.post("/portal/choices/consent",
                             data={"csrf": "forged", "purpose": "newsletter", "action": "give"})  # fmt: skip
        assert forged.status_code == 403
        answers = [_ask(client, "ANA@example.org").status_code for _ in range(3)]
    assert answers == [200, 200, 429]  # 3 an hour for one address


def test_wrong_codes_sent_at_once_are_each_counted(env, cli, tmp_path, monkeypatch):
    """Five attempts a code, also when many are sent at the same moment (several workers on
    PostgreSQL): each is counted before the next is judged, so no more than five are ever
    compared."""
    import threading

    from tutela.clock import now
    from tutela.consent import proofs
    from tutela.db import session_scope

    import_one(cli, tmp_path, "ana", "ana@example.org")
    token, ctx = "a-browser-token", env.ctx
    with session_scope(ctx.engine) as session:
        keyring = ctx.keyring(session)
        proofs.ask(session=session, keyring=keyring, rules=ctx.rules,
                   email="ana@example.org", token=token, at=now())  # fmt: skip
    digest, compared = proofs._digest, []

    def slow_digest(keyring, token_hash, code):  # the window between reading and counting
        compared.append(code)
        threading.Event().wait(0.3)
        return digest(keyring, token_hash, code)

    monkeypatch.setattr(proofs, "_digest", slow_digest)

    def attempt():
        with session_scope(ctx.engine) as session:
            proofs.prove(session=session, keyring=ctx.keyring(session), token=token,
                         code="not-it", at=now())  # fmt: skip

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(compared) == 5


def test_a_malformed_address_is_told_on_the_page(env):
    """An address the policy's e-mail rule refuses is said so on the portal's page, as a
    request's form says it, not answered with the API's JSON error."""
    with TestClient(create_app(env.ctx)) as client:
        asked = _ask(client, "not-an-address@")
    assert asked.status_code == 200 and "text/html" in asked.headers["content-type"]
    assert "Give a valid e-mail address." in asked.text


def test_nobody_gives_a_consent_or_objects_beyond_what_reaches_their_kind(env, cli, tmp_path):
    """The portal offers a person the purposes resting on their kind's consent and the
    objections open to their kind; a forged form naming another is refused by the consent
    flows themselves (a policy where the newsletter is for clients only, and no purpose
    reaching prospects names the profiling scope)."""
    import pytest
    import yaml

    from tutela.clock import now
    from tutela.consent import flows
    from tutela.db import session_scope
    from tutela.errors import InvalidInput
    from tutela.policy import parse_policy
    from tutela.subjects import service as subjects

    data = yaml.safe_load(
        (Path(__file__).parents[2] / "src/tutela/policy/default.yaml").read_text()
    )
    for purpose in data["purposes"]:
        if purpose["id"] == "newsletter" or "profiling" in purpose.get("objection_scopes", []):
            purpose["subject_kinds"] = ["client"]
    policy = parse_policy(yaml.safe_dump(data, allow_unicode=True))
    record = {"external_id": "pat", "kind": "prospect", "source": "registration_form",
              "identification": {"first_name": "Pat", "last_name": "Lee",
                                 "email": "pat@example.org"}}  # fmt: skip
    (tmp_path / "pat.jsonl").write_text(json.dumps(record) + "\n")
    assert cli("subjects", "import", str(tmp_path / "pat.jsonl")).exit_code == 0
    assert "newsletter" not in [p.id for p in policy.consent_purposes("prospect")]
    assert "profiling" not in [o.id for o in policy.objections_for("prospect")]
    from tutela.access.gate import Actor

    actor = Actor("portal", None)
    with session_scope(env.ctx.engine) as session:
        pat = subjects.get(session=session, external_id="pat")
        with pytest.raises(InvalidInput):
            flows.give(session=session, policy=policy, actor=actor, subject=pat,
                       purpose="newsletter", channel="portal", expires_at=None, at=now())  # fmt: skip
        with pytest.raises(InvalidInput):
            flows.object_to(session=session, policy=policy, actor=actor, subject=pat,
                            scope="profiling", at=now())  # fmt: skip
