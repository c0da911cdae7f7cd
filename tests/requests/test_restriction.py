"""Restriction (§13, Art. 18): storage, legal claims, legal obligations and the person's own
rights stay usable; refused for what a running contract needs; lifted at the person's request
or by the DPO with a reason, the person and the recipients told."""

import json

import pytest

from conftest import client_record, import_people, items, open_verified, process


def show(cli, purpose, as_=None, external_id="c-1"):
    args = ["subjects", "show", external_id, "--purpose", purpose, "--json"]
    return cli(*args, *(["--as", as_] if as_ else []))


@pytest.fixture
def former(env, cli, tmp_path, inbox):
    """A client whose subscription ended, read by marketing and by administration."""
    import_people(cli, tmp_path, client_record(subscription_ended_at="2026-06-30"))
    for name, role in (("mia", "marketing"), ("ada", "administration"), ("pat", "partners")):
        cli("principals", "add", name, "--role", role)
    return inbox


def test_a_restricted_person_serves_legal_obligations_claims_and_their_rights(former, cli):
    assert show(cli, "relationship_management", "mia").exit_code == 0
    answer = process(cli, open_verified(cli, "restriction", "c-1"))
    assert answer["outcome"] == "done"
    assert {i["action"] for i in answer["items"]} == {"restrict"}
    refused = show(cli, "relationship_management", "mia")
    assert refused.exit_code == 1 and "restricted (Art. 18)" in refused.stderr
    assert show(cli, "accounting_billing", "ada").exit_code == 0  # a legal obligation
    assert show(cli, "debt_disputes", "ada").exit_code == 0  # legal claims
    assert show(cli, "rights_requests").exit_code == 0  # the person's own rights
    again = process(cli, open_verified(cli, "restriction", "c-1"))
    assert again["outcome"] == "refused" and "already restricted" in again["reasons"][0]


def test_the_person_may_have_the_restriction_lifted(former, cli):
    process(cli, open_verified(cli, "restriction", "c-1"))
    lifted = process(cli, open_verified(cli, "lift_restriction", "c-1"))
    assert lifted["outcome"] == "done" and lifted["done"][0] == "restriction lifted"
    assert show(cli, "relationship_management", "mia").exit_code == 0
    nothing = process(cli, open_verified(cli, "lift_restriction", "c-1"))
    assert nothing["outcome"] == "refused"


def test_the_dpo_lifts_a_restriction_with_a_reason_and_everyone_is_told(former, cli):
    assert show(cli, "relationship_management", "pat").exit_code == 0  # a partner received it
    process(cli, open_verified(cli, "restriction", "c-1"))
    lifted = cli("requests", "lift-restriction", "c-1", "--reason", "accuracy checked", "--json")
    assert lifted.exit_code == 0, lifted.stderr
    out = json.loads(lifted.stdout)
    assert out["person_told"] and "partners" in out["recipients_told"]  # it read the data
    assert "marketing" not in out["recipients_told"]  # internal: Tutela itself enforces it
    assert "debt_collection" not in out["recipients_told"]  # never received anything
    cli("outbox", "send")
    (mail,) = [m for m in former.messages if b"restriction of your data is lifted" in m.content]
    assert mail.rcpt_tos == ["lea@example.org"] and b"accuracy checked" in mail.content
    events = json.loads(cli("audit", "show", "--json").stdout)
    assert [e["reason"] for e in events if e["action"] == "lift_restriction"] == [
        "accuracy checked"
    ]
    assert show(cli, "relationship_management", "mia").exit_code == 0
    twice = cli("requests", "lift-restriction", "c-1", "--reason", "again")
    assert twice.exit_code == 1 and "not restricted" in twice.stderr
    marketing = cli("requests", "lift-restriction", "c-1", "--reason", "x", "--as", "mia")
    assert marketing.exit_code == 1 and "rights_requests" in marketing.stderr


def test_without_an_e_mail_the_person_is_written_to_before_the_lift(env, cli, tmp_path):
    record = client_record(subscription_ended_at="2026-06-30")
    del record["identification"]["email"]
    record["source"] = "purchased_database"  # no form: no e-mail needed
    import_people(cli, tmp_path, record)
    process(cli, open_verified(cli, "restriction", "c-1"))
    refused = cli("requests", "lift-restriction", "c-1", "--reason", "checked")
    assert refused.exit_code == 1 and "Art. 18(3)" in refused.stderr
    assert show(cli, "accounting_billing").exit_code == 0  # still restricted, but legal use
    lifted = cli("requests", "lift-restriction", "c-1", "--reason", "checked", "--told-by-letter")
    assert lifted.exit_code == 0, lifted.stderr


def test_a_running_contract_keeps_what_it_needs_out_of_a_restriction(env, cli, tmp_path):
    import_people(cli, tmp_path, client_record())
    cli("principals", "add", "cid", "--role", "customer_relations")
    answer = process(cli, open_verified(cli, "restriction", "c-1"))
    decided = items(answer)
    assert (
        decided["identification"]["action"] == "refuse"
        and "§13" in decided["identification"]["reason"]
    )
    assert decided["contract"]["action"] == "refuse"
    assert decided["enriched"]["action"] == "restrict"
    support = json.loads(show(cli, "support", "cid").stdout)
    assert support["data"]["identification"]  # the contract goes on
    assert "technical" in support["withheld"] and "restricted" in support["withheld"]["technical"]
