"""What an erasure keeps serves its grounds only, ends on its rule's day, and is proved by a
receipt that holds no personal value."""

import json

import pytest

from conftest import client_record, import_people, items, open_verified, process


def read(cli, purpose, as_=None, category=None):
    args = ["subjects", "show", "c-1", "--purpose", purpose, "--json"]
    if as_:
        args += ["--as", as_]
    if category:
        args += ["--category", category]
    return cli(*args)


@pytest.fixture
def staff(env, cli):
    for name, role in (
        ("mia", "marketing"),
        ("sam", "sales"),
        ("ada", "administration"),
        ("cid", "customer_relations"),
    ):
        assert cli("principals", "add", name, "--role", role).exit_code == 0
    return env


def test_what_a_running_clients_erasure_keeps_serves_only_its_grounds(staff, cli, tmp_path):
    import_people(cli, tmp_path, client_record())
    assert read(cli, "relationship_management", "mia").exit_code == 0  # before: allowed
    process(cli, open_verified(cli, "erasure", "c-1"))
    for as_, purpose in (
        ("mia", "relationship_management"),
        ("mia", "market_research"),
        ("sam", "relationship_management"),
    ):
        refused = read(cli, purpose, as_)
        assert refused.exit_code == 1, (as_, purpose)
        assert "since an erasure request, only for" in refused.stderr
    billing = json.loads(read(cli, "accounting_billing", "ada").stdout)
    assert set(billing["data"]) == {"identification", "contract", "banking"}
    # The subscription runs: the contract's own purposes still reach what it needs...
    support = json.loads(read(cli, "support", "cid").stdout)
    assert {c for c, values in support["data"].items() if values} == {"identification", "contract"}
    # ...until it ends: then only the legal grounds remain.
    ended = client_record(subscription_ended_at="2026-11-30")
    import_people(cli, tmp_path, ended)
    after = read(cli, "support", "cid", "identification")
    assert after.exit_code == 1 and "only for" in after.stderr
    assert read(cli, "accounting_billing", "ada").exit_code == 0
    assert read(cli, "rights_requests").exit_code == 0  # the person's own rights


def test_the_receipt_proves_the_erasure_and_holds_no_personal_value(staff, cli, tmp_path):
    import_people(cli, tmp_path, client_record())
    request_id = open_verified(cli, "erasure", "c-1")
    answer = process(cli, request_id)
    receipt = json.loads(cli("requests", "receipt", request_id, "--json").stdout)
    assert receipt["request"] == request_id and receipt["external_id"] == "c-1"
    assert {e["category"] for e in receipt["erased"]} == {"enriched", "technical"}
    assert {e["category"]: e["records"] for e in receipt["erased"]}["technical"] == 1
    kept = {k["category"]: k for k in receipt["kept"]}
    assert kept["banking"]["until"] == "2027-04-02" and kept["banking"]["rule"] == "banking_data"
    assert receipt["policy_version"] == staff.ctx.policy.version
    trail = {e["seq"]: e for e in json.loads(cli("audit", "show", "--json").stdout)}
    (event,) = receipt["events"]
    assert trail[event["seq"]]["action"] == "erase" and event["hash"]
    answered = [e for e in trail.values() if e["action"] == "answer_request"][-1]
    assert answered["detail"]["receipt"] == {"id": receipt["receipt"], "digest": receipt["digest"]}
    text = json.dumps(receipt)
    assert "Léa" not in text and "lea@example.org" not in text and "4242" not in text
    assert answer["receipt"] == receipt["receipt"]  # the answer names its proof


def test_a_full_erasure_names_the_destroyed_key(ana, cli):
    from conftest import verified_by_code

    request_id = verified_by_code(cli, ana, "erasure")
    process(cli, request_id)
    receipt = json.loads(cli("requests", "receipt", request_id, "--json").stdout)
    (key_id,) = receipt["data_keys_destroyed"]
    assert len(key_id) == 16 and receipt["kept"] == []
    assert {e["category"] for e in receipt["erased"]} == {
        "identification",
        "technical",
        "banking",
        "enriched",
    }
    cli("outbox", "send")
    (answer,) = [m for m in ana.messages if b"the answer to your erasure request" in m.content]
    assert receipt["receipt"].encode() in answer.content  # the person gets the proof


def test_retention_removes_what_was_kept_on_its_day(staff, cli, tmp_path):
    import_people(cli, tmp_path, client_record())
    answer = process(cli, open_verified(cli, "erasure", "c-1"))
    until = items(answer)["banking"]["until"]
    assert until == "2027-04-02"

    def banking():
        shown = json.loads(read(cli, "legal_archiving").stdout)
        return shown["data"].get("banking")

    assert cli("retention", "run", "--as-of", "2027-04-01").exit_code == 0
    assert banking()  # archived as evidence, still there the day before
    assert cli("retention", "run", "--as-of", until).exit_code == 0
    assert not banking()  # gone on the day the answer named


def test_nothing_is_kept_until_a_day_already_past(env, cli, tmp_path):
    old = client_record(
        "c-1", subscription_started_at="2015-01-01", subscription_ended_at="2019-01-01"
    )
    old["payments"] = [{"at": "2018-12-01T10:00:00Z", "method": "card", "card_last4": "1"}]
    old["lifecycle"]["last_transaction_at"] = "2018-12-01"
    import_people(cli, tmp_path, old)
    answer = process(cli, open_verified(cli, "erasure", "c-1"))
    decided = items(answer)
    assert {i["action"] for i in decided.values()} == {"erase"}
    assert "ended on" in decided["banking"]["reason"]  # its period for the law is over
    assert answer["done"][0] == "all your personal data was erased, and the key that encrypted it"


def test_lifting_a_hold_erases_what_only_it_kept(env, cli, tmp_path):
    """A held prospect asks for erasure: the hold keeps what it covers; lifted, that goes too."""
    prospect = {
        "external_id": "p-1",
        "kind": "prospect",
        "source": "website_contact",
        "identification": {"last_name": "Roy", "email": "roy@example.org"},
        "enriched": {"segment": "smb"},
        "lifecycle": {"last_contact_at": "2026-10-01"},
    }
    import_people(cli, tmp_path, prospect)
    cli("holds", "add", "p-1", "--purpose", "debt_disputes", "--reference", "CASE-1",
        "--category", "identification")  # fmt: skip
    request_id = open_verified(cli, "erasure", "p-1")
    decided = items(process(cli, request_id))
    assert decided["identification"]["action"] == "keep"
    assert decided["identification"]["grounds"] == ["hold:debt_disputes"]
    assert decided["enriched"]["action"] == "erase"
    kept = json.loads(
        cli("subjects", "show", "p-1", "--purpose", "rights_requests", "--json").stdout
    )
    assert set(kept["data"]) >= {"identification"} and not kept["data"].get("enriched")
    released = json.loads(cli("holds", "release", "1", "--json").stdout)
    assert released["erased"] == ["identification"]
    gone = cli("subjects", "show", "p-1", "--purpose", "rights_requests")
    assert gone.exit_code == 1 and "no subject" in gone.stderr  # nothing left: key destroyed
    receipt = json.loads(cli("requests", "receipt", request_id, "--json").stdout)
    (then,) = receipt["then"]
    assert [e["category"] for e in then["erased"]] == ["identification"]
    assert then["data_keys_destroyed"] and then["request"] == request_id


def test_erased_data_does_not_come_back_with_the_next_import(staff, cli, tmp_path):
    import_people(cli, tmp_path, client_record())
    process(cli, open_verified(cli, "erasure", "c-1"))
    again = tmp_path / "again.jsonl"
    again.write_text(json.dumps(client_record()) + "\n")  # the CRM's nightly export
    report = json.loads(cli("subjects", "import", str(again), "--json").stdout)
    assert report["not_restored"] == 1 and report["updated"] == 1
    shown = json.loads(read(cli, "rights_requests").stdout)["data"]
    assert not shown.get("enriched")  # erased: it serves nothing now, and stays erased
    assert shown["identification"]["email"] == "lea@example.org"  # kept for its grounds
    assert shown["technical"]  # the running contract's new logs are stored


def test_the_api_refuses_to_write_back_erased_data(staff, env, cli, tmp_path):
    from fastapi.testclient import TestClient

    from tutela.api import create_app

    import_people(cli, tmp_path, client_record())
    process(cli, open_verified(cli, "erasure", "c-1"))
    with TestClient(create_app(env.ctx)) as client:
        client.headers["Authorization"] = f"Bearer {env.admin_key}"
        refused = client.put("/subjects/c-1", json=client_record())
        assert refused.status_code == 422
        (problem,) = refused.json()["detail"]
        assert problem["loc"] == ["body", "enriched"] and "erased" in problem["msg"]
        logs = {k: v for k, v in client_record().items() if k not in ("enriched",)}
        assert client.put("/subjects/c-1", json=logs).status_code == 200  # the rest goes on
