"""Legal holds in the console, on both engines: placed and lifted through the same flows as
`tutela holds`, for the roles the policy lets handle them only, each form with its token."""

import json

from console_support import csrf_of, sign_in, staff
from fastapi.testclient import TestClient
from portal_people import import_one

from tutela.api import create_app


def test_a_hold_placed_in_the_console_is_the_clis_and_is_lifted_there(env, key_for, cli, tmp_path):
    import_one(cli, tmp_path, "ana", "ana@example.org")
    staff(env, key_for, "claire", ["dpo"])
    with TestClient(create_app(env.ctx)) as client:
        sign_in(client, "claire")
        assert 'href="/console/holds"' in client.get("/console").text
        token = csrf_of(client.get("/console/holds").text)
        placed = client.post("/console/holds", data={"csrf": token, "external_id": "ana",
                             "purpose": "debt_disputes", "reference": "CASE-7",
                             "category": ["banking", "contract"]})  # fmt: skip
        assert placed.status_code == 200 and "CASE-7" in placed.text
        (hold,) = json.loads(cli("holds", "list", "--json").stdout)
        assert hold["external_id"] == "ana" and hold["placed_by"] == "claire"
        assert hold["categories"] == ["banking", "contract"]
        assert (hold["purpose"], hold["reference"]) == ("debt_disputes", "CASE-7")
        lifted = client.post(f"/console/holds/{hold['id']}/release", data={"csrf": token})
        assert lifted.status_code == 200 and "Hold lifted" in lifted.text
        assert json.loads(cli("holds", "list", "--json").stdout) == []
        shown = client.get("/console/holds", params={"lang": "fr"}).text
        assert "CASE-7" in shown and "par claire" in shown and "Lever le gel" not in shown
        again = client.post(f"/console/holds/{hold['id']}/release", data={"csrf": token})
        assert again.status_code == 404 and "no active legal hold" in again.text
    events = [e["action"] for e in json.loads(cli("audit", "show", "--json").stdout)
              if e["principal"] == "claire"]  # fmt: skip
    assert {"place_hold", "release_hold"} <= set(events)


def test_wrong_input_gets_the_form_back_not_a_failure(env, key_for, cli, tmp_path):
    import_one(cli, tmp_path, "ana", "ana@example.org")
    staff(env, key_for, "claire", ["dpo"])
    with TestClient(create_app(env.ctx)) as client:
        sign_in(client, "claire")
        token = csrf_of(client.get("/console/holds").text)
        base = {"csrf": token, "external_id": "ana", "purpose": "debt_disputes", "reference": "C"}
        for change, status, said in (
            ({"external_id": "nobody"}, 404, "no subject"),
            ({"purpose": "newsletter"}, 422, "a hold serves a legal purpose"),
            ({"reference": "  "}, 422, "case reference"),
            ({"category": "nonsense"}, 422, "unknown category"),
        ):
            refused = client.post("/console/holds", data=base | change)
            assert refused.status_code == status and said in refused.text, change
        for hold_id in ("x", "99999999999", "42"):
            missing = client.post(f"/console/holds/{hold_id}/release", data={"csrf": token})
            assert missing.status_code == 404
        forged = client.post("/console/holds", data=base | {"csrf": "forged"})
        assert forged.status_code == 403 and "did not come from this site" in forged.text
    assert json.loads(cli("holds", "list", "--json").stdout) == []


def test_a_role_without_hold_rights_is_refused_and_offered_no_link(env, key_for, cli, tmp_path):
    import_one(cli, tmp_path, "ana", "ana@example.org")
    staff(env, key_for, "mia", ["marketing"])
    staff(env, key_for, "bill", ["administration"])  # granted debt_disputes: may
    with TestClient(create_app(env.ctx)) as client:
        sign_in(client, "mia")
        home = client.get("/console")
        assert "/console/holds" not in home.text
        refused = client.get("/console/holds")
        assert refused.status_code == 403 and "Legal holds are for" in refused.text
        posted = client.post("/console/holds", data={"csrf": csrf_of(home.text),
                             "external_id": "ana", "purpose": "debt_disputes",
                             "reference": "C"})  # fmt: skip
        assert posted.status_code == 403
    with TestClient(create_app(env.ctx)) as client:
        sign_in(client, "bill")
        assert client.get("/console/holds").status_code == 200
    assert json.loads(cli("holds", "list", "--json").stdout) == []


def test_a_hold_lifted_twice_at_once_is_lifted_once(env, key_for, cli, tmp_path, monkeypatch):
    """Two lifts of one hold at the same moment (a double click, two members of staff;
    several workers on PostgreSQL): one lifts it, the other finds it lifted, and what the
    hold kept back from an erasure is erased once, with one release in the trail."""
    import threading

    from tutela.clock import now
    from tutela.db import session_scope
    from tutela.errors import NotFound
    from tutela.retention import holds

    import_one(cli, tmp_path, "ana", "ana@example.org")
    placed = cli("holds", "add", "ana", "--purpose", "debt_disputes", "--reference", "C-1")
    assert placed.exit_code == 0, placed.stderr
    (hold,) = json.loads(cli("holds", "list", "--json").stdout)
    erase, ctx = holds._erase_what_only_the_hold_kept, env.ctx

    def slow_erase(*args):  # the window between reading the hold and committing its lift
        threading.Event().wait(0.3)
        return erase(*args)

    monkeypatch.setattr(holds, "_erase_what_only_the_hold_kept", slow_erase)
    outcomes = []

    def lift():
        from tutela.access.gate import Actor

        try:
            with session_scope(ctx.engine) as session:
                holds.release_hold(session=session, policy=ctx.policy,
                                   keyring=ctx.keyring(session), actor=Actor("claire", None),
                                   hold_id=hold["id"], at=now())  # fmt: skip
            outcomes.append("lifted")
        except NotFound:
            outcomes.append("not found")

    threads = [threading.Thread(target=lift) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["lifted", "not found"]
    trail = json.loads(cli("audit", "show", "--json").stdout)
    assert [e["action"] for e in trail].count("release_hold") == 1
