"""`policy check`: every error at once with its key path, and warnings where a policy looks
legal but is wrong."""

import json
from pathlib import Path

import pytest
import yaml

from tutela.policy import PolicyError, load_policy, parse_policy
from tutela.policy.lint import warnings

BUNDLED = Path(__file__).parents[2] / "src/tutela/policy/default.yaml"


@pytest.fixture
def policy_data() -> dict:
    return yaml.safe_load(BUNDLED.read_text())


def _warned(data: dict) -> dict[str, str]:
    return {w.path: w.message for w in warnings(parse_policy(yaml.safe_dump(data)))}


def _index(items: list, item_id: str) -> int:
    return next(i for i, item in enumerate(items) if item["id"] == item_id)


def test_every_reference_error_is_reported_at_once(policy_data):
    policy_data["purposes"][0]["categories"].append("bankng")
    policy_data["recipients"][1]["grants"][0]["purposes"][0] = "spam"
    policy_data["purposes"].append(dict(policy_data["purposes"][1]))
    with pytest.raises(PolicyError) as caught:
        parse_policy(yaml.safe_dump(policy_data))
    paths = [problem.split(":", 1)[0] for problem in caught.value.problems]
    assert f"purposes[{len(policy_data['purposes']) - 1}].id" in paths
    assert "purposes[0].categories[3]" in paths
    assert "recipients[1].grants[0].purposes[0]" in paths


def test_the_bundled_policy_warns_only_of_what_the_seed_leaves_out():
    found = warnings(load_policy())
    kinds = {w.path.rsplit(".", 1)[-1].split("[")[0] for w in found}
    # The seed names no balancing test nor subcontractor contract, and gives prospects'
    # contract data no retention period: said, not hidden.
    assert kinds == {"balancing_test", "contract_reference", "categories"}


def test_legitimate_interests_without_a_balancing_test_or_an_interest(policy_data):
    i = _index(policy_data["purposes"], "statistics")
    policy_data["purposes"][i]["balancing_test"] = "LIA-2026-04"
    assert f"purposes[{i}].balancing_test" not in _warned(policy_data)
    del policy_data["purposes"][i]["legitimate_interest"]
    assert "Art. 13(1)(d)" in _warned(policy_data)[f"purposes[{i}].legitimate_interest"]


def test_a_transfer_outside_the_eea_needs_a_safeguard(policy_data):
    i = _index(policy_data["subprocessors"], "crm")
    policy_data["subprocessors"][i]["outside_eea"] = True
    assert "Art. 46" in _warned(policy_data)[f"subprocessors[{i}].transfer_safeguard"]
    policy_data["subprocessors"][i]["transfer_safeguard"] = "EU SCC 2021/914"
    assert f"subprocessors[{i}].transfer_safeguard" not in _warned(policy_data)


def test_a_category_used_without_a_rule_and_a_rule_over_an_unused_category(policy_data):
    i = _index(policy_data["retention"], "cookies")
    del policy_data["retention"][i]
    found = _warned(policy_data)
    j = _index(policy_data["purposes"], "connection")
    assert "no retention rule ends 'cookies'" in found[f"purposes[{j}].categories[2]"]
    policy_data["retention"][0]["categories"].append("cookies")
    policy_data["retention"][0]["subject_kinds"] = ["client"]
    for purpose in policy_data["purposes"]:
        if "cookies" in purpose["categories"]:
            purpose["subject_kinds"] = ["prospect"]
    found = _warned(policy_data)
    assert "which no purpose uses" in found["retention[0].categories[2]"]


def test_consent_without_withdrawal_and_a_purpose_nobody_may_use(policy_data):
    i = _index(policy_data["purposes"], "newsletter")
    del policy_data["purposes"][i]["withdrawal"]
    for recipient in policy_data["recipients"]:
        for grant in recipient["grants"]:
            if "newsletter" in grant["purposes"]:
                grant["purposes"].remove("newsletter")
    found = _warned(policy_data)
    assert "Art. 7(3)" in found[f"purposes[{i}].withdrawal"]
    assert "nobody may use it" in found[f"purposes[{i}]"]


def test_an_invalid_contact_email(policy_data):
    policy_data["dpo"]["email"] = "dpo-at-racine.eu"
    assert _warned(policy_data)["dpo.email"] == "not a valid e-mail address"


def test_a_missing_or_stale_translation(policy_data):
    del policy_data["translations"]["fr"]["purposes.newsletter.name"]
    policy_data["translations"]["fr"]["purposes.gone.name"] = "Disparue"
    found = _warned(policy_data)
    assert found["translations.fr.purposes.newsletter.name"] == "missing translation (fr)"
    assert "translates no text" in found["translations.fr.purposes.gone.name"]
    policy_data["languages"] = ["fr"]
    with pytest.raises(PolicyError) as caught:
        parse_policy(yaml.safe_dump(policy_data))
    assert any(p.startswith("languages:") for p in caught.value.problems)


def test_policy_check_lists_warnings_and_strict_fails_on_them(cli, tmp_path, policy_data):
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(policy_data, allow_unicode=True))
    result = cli("policy", "check", str(path))
    assert result.exit_code == 0 and "warning purposes[" in result.stdout
    result = cli("policy", "check", str(path), "--json")
    listed = json.loads(result.stdout)["warnings"]
    assert {"path", "message"} == set(listed[0]) and len(listed) == len(warnings(load_policy()))
    assert cli("policy", "check", str(path), "--strict").exit_code == 1
