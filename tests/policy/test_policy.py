"""The bundled policy encodes the seed policy; bad policy files are refused with key paths."""

import pickle
from pathlib import Path

import pytest
import yaml

from tutela.policy import PolicyError, load_policy, parse_policy

BUNDLED = Path(__file__).parents[2] / "src/tutela/policy/default.yaml"


@pytest.fixture
def policy_data() -> dict:
    return yaml.safe_load(BUNDLED.read_text())


def _error(data: dict) -> PolicyError:
    with pytest.raises(PolicyError) as caught:
        parse_policy(yaml.safe_dump(data))
    return caught.value


def test_bundled_policy_encodes_the_seed_sections():
    policy = load_policy()
    assert policy.controller.address == "112 Rue Réaumur, 75002 Paris, France"
    assert policy.controller.email == "contact@wimi.pro"
    assert policy.dpo.email == "dpo-wimi@racine.eu"
    assert "3 Place de Fontenoy" in policy.supervisory_authority.address
    assert {k.id for k in policy.subject_kinds} == {"client", "prospect"}
    assert {"identification", "banking", "technical", "cookies", "enriched"} <= {
        c.id for c in policy.categories
    }
    assert {s.id for s in policy.sources} >= {
        "registration_form",
        "website_contact",
        "market_research",
        "purchased_database",
    }
    # §7 lists fifteen purposes; §15 adds profiling on consent.
    section7 = [
        p for p in policy.purposes if p.policy_section and p.policy_section.startswith("§7")
    ]
    assert len(section7) == 15
    assert policy.purpose("profiling").legal_basis == "consent"
    assert policy.category("enriched").enriched
    # §8: internal and external recipients, §19 subprocessors, §20 measures, §9 rules.
    assert {r.kind for r in policy.recipients} == {"internal", "external"}
    assert {"debt_collection", "partners", "authorities"} <= {r.id for r in policy.recipients}
    assert policy.subprocessors and policy.security_measures
    periods = {r.id: (r.anchor, r.active_months, r.archive_months) for r in policy.retention}
    assert periods["prospect_data"] == ("last_contact_at", 36, 0)
    assert periods["technical_data"] == ("last_connection_at", 12, 0)
    assert periods["banking_data"] == ("last_transaction_at", 0, 13)
    assert periods["cookies"][1] == 13


def test_every_open_value_names_a_declared_assumption(policy_data):
    declared = {a["id"] for a in policy_data["assumptions"]}
    text = BUNDLED.read_text()
    marked = [
        line.split("# ASSUMPTION ", 1)[1] for line in text.splitlines() if "# ASSUMPTION " in line
    ]
    assert all(":" in m for m in marked), "each mark reads 'ASSUMPTION id: why'"
    mentioned = {m.split(":", 1)[0] for m in marked}
    referenced = {r["assumption"] for r in policy_data["retention"] if "assumption" in r}
    # Every mark is declared, and every declared assumption is used somewhere.
    assert mentioned | referenced == declared


def test_every_purpose_maps_to_dpv_and_fideslang():
    policy = load_policy()
    assert all(p.dpv and p.fides for p in policy.purposes)
    assert all(c.dpv and c.fides for c in policy.categories)


def test_unknown_reference_names_the_key_path(policy_data):
    policy_data["purposes"][2]["categories"].append("bankng")
    error = _error(policy_data)
    assert error.problems == [
        "purposes[2].categories[1]: unknown category 'bankng'; expected one of: "
        "banking, contract, cookies, enriched, identification, technical"
    ]


def test_wrong_type_and_missing_key_name_the_key_path(policy_data):
    policy_data["retention"][0]["active_months"] = "three years"
    del policy_data["dpo"]["name"]
    problems = _error(policy_data).problems
    assert (
        "retention[0].active_months: Input should be a valid integer, unable to parse string as an integer"
        in problems
    )
    assert "dpo.name: Field required" in problems


def test_bad_legal_basis_lists_the_expected_values(policy_data):
    policy_data["purposes"][0]["legal_basis"] = "contrat"
    (problem,) = _error(policy_data).problems
    assert problem.startswith("purposes[0].legal_basis: Input should be 'consent', 'contract'")


def test_form_field_must_exist(policy_data):
    policy_data["forms"][0]["fields"][0]["field"] = "identification.nickname"
    (problem,) = _error(policy_data).problems
    assert problem.startswith(
        "forms[0].fields[0].field: unknown field of category 'identification'"
    )


def test_duplicate_ids_are_refused(policy_data):
    policy_data["purposes"].append(dict(policy_data["purposes"][0]))
    (problem,) = _error(policy_data).problems
    assert (
        problem
        == f"purposes[{len(policy_data['purposes']) - 1}].id: duplicate id 'registration_subscription'"
    )


def test_invalid_yaml_gives_line_and_column():
    with pytest.raises(PolicyError) as caught:
        parse_policy("version: [1\ncontroller: {")
    assert "line 2" in caught.value.problems[0]


def test_policy_check_command(cli, tmp_path, policy_data):
    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump(policy_data, allow_unicode=True))
    result = cli("policy", "check", str(good))
    assert result.exit_code == 0 and "valid" in result.stdout

    policy_data["recipients"][0]["grants"][0]["purposes"][0] = "spam"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(policy_data, allow_unicode=True))
    result = cli("policy", "check", str(bad))
    assert result.exit_code == 1
    assert "recipients[0].grants[0].purposes[0]: unknown purpose 'spam'" in result.stderr
    assert "Traceback" not in result.stderr


def test_policy_show_json_is_the_active_policy(cli):
    import json

    result = cli("policy", "show", "--json")
    assert result.exit_code == 0
    shown = json.loads(result.stdout)
    assert shown["version"] == load_policy().version
    assert len(shown["purposes"]) == len(load_policy().purposes)


def test_nothing_starts_with_an_invalid_policy(cli, tmp_path, monkeypatch):
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\n")
    monkeypatch.setenv("TUTELA_POLICY_FILE", str(bad))
    for command in (["policy", "show"], ["init"], ["subjects", "list"]):
        result = cli(*command)
        assert result.exit_code == 1, command
        assert "invalid policy" in result.stderr
    assert not (tmp_path / "tutela.db").exists()


def test_holds_are_handled_by_the_internal_roles_granted_a_purpose_a_hold_serves(policy_data):
    policy = load_policy()
    assert policy.hold_purposes == [p.id for p in policy.purposes if p.archive]
    handles = {r.id for r in policy.recipients if policy.handles_holds([r.id])}
    granted = {
        r.id
        for r in policy.recipients
        if r.kind == "internal"
        and any(set(g.purposes) & set(policy.hold_purposes) for g in r.grants)
    }
    assert handles == granted and "debt_collection" not in handles  # an outside agency: never
    assert policy.handles_holds(None) and not policy.handles_holds([])
    for recipient in policy_data["recipients"]:  # with no grant of those purposes, nobody
        recipient["grants"] = [
            g for g in recipient["grants"] if not set(g["purposes"]) & set(policy.hold_purposes)
        ]
    narrowed = parse_policy(yaml.safe_dump(policy_data))
    assert not any(narrowed.handles_holds([r.id]) for r in narrowed.recipients)


def test_what_roles_reach_is_worked_out_once_and_cannot_be_changed_by_a_caller():
    policy = load_policy(None)
    reach = policy.reach(["application"])
    assert reach["connection"]  # the bundled policy grants the application role reads for it
    with pytest.raises(TypeError):
        reach["connection"] = frozenset()  # type: ignore[index]
    assert policy.reach(("application",)) == reach
    assert policy.reach(["marketing"]) != reach  # each set of roles its own
    # A policy goes to import worker processes whole, what it worked out included.
    assert pickle.loads(pickle.dumps(policy)).reach(["application"]) == reach
