"""Operators: the store always keeps an active administrator, keys are reissued, roles change;
each change is audited."""

import json
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from tutela.api import create_app
from tutela.clock import today

BUNDLED = Path(__file__).parents[2] / "src/tutela/policy/default.yaml"


def add(cli, name, *roles, since=None, until=None):
    args = ["principals", "add", name, "--json"]
    for role in roles:
        args += ["--role", role]
    if since:
        args += ["--from", since]
    if until:
        args += ["--until", until]
    result = cli(*args)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)["api_key"]


def listed(cli):
    return {p["name"]: p for p in json.loads(cli("principals", "list", "--json").stdout)}


def events(cli, action):
    return [e for e in json.loads(cli("audit", "show", "--json").stdout) if e["action"] == action]


def status_with(env, key):
    with TestClient(create_app(env.ctx)) as client:
        return client.get("/subjects", headers={"Authorization": f"Bearer {key}"}).status_code


def test_the_last_active_administrator_cannot_be_deactivated(env, cli):
    refused = cli("principals", "deactivate", "admin", "--json")
    assert refused.exit_code == 1
    assert "last active principal" in refused.stderr and "'dpo'" in refused.stderr
    assert listed(cli)["admin"]["active_keys"] == 1 and listed(cli)["admin"]["active_until"] is None
    assert status_with(env, env.admin_key) == 200
    assert events(cli, "deactivate_principal") == []

    add(cli, "sam", "dpo")
    done = cli("principals", "deactivate", "admin", "--json")
    assert done.exit_code == 0, done.stderr
    assert json.loads(done.stdout) == {"name": "admin", "keys_revoked": 1}
    last = cli("principals", "deactivate", "sam")
    assert last.exit_code == 1 and "last active principal" in last.stderr
    assert cli("principals", "deactivate", "admin").exit_code == 0  # already gone: no harm


def test_a_departed_or_not_yet_arrived_administrator_does_not_count(env, cli):
    yesterday = today() - timedelta(days=1)
    add(cli, "leo", "dpo", until=(yesterday - timedelta(days=1)).isoformat())
    add(cli, "noa", "dpo", since=(today() + timedelta(days=10)).isoformat())
    refused = cli("principals", "deactivate", "admin")
    assert refused.exit_code == 1 and "last active principal" in refused.stderr
    # As of a day when noa has arrived, admin may go.
    later = (today() + timedelta(days=11)).isoformat()
    assert cli("principals", "deactivate", "admin", "--as-of", later).exit_code == 0


def test_the_administrator_role_is_the_one_the_policy_names(env, cli, tmp_path):
    policy = yaml.safe_load(BUNDLED.read_text())
    for recipient in policy["recipients"]:
        recipient["administrator"] = recipient["id"] == "administration"
    policy["version"] = "2026.12.2"
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(policy, allow_unicode=True))
    assert cli("policy", "activate", str(path)).exit_code == 0
    add(cli, "ana", "administration")
    refused = cli("principals", "deactivate", "ana")
    assert refused.exit_code == 1 and "'administration'" in refused.stderr
    assert cli("principals", "deactivate", "admin").exit_code == 0  # dpo administers nothing here


def test_reissue_key_revokes_the_old_key_and_shows_the_new_one_once(env, cli):
    old = add(cli, "mia", "marketing")
    result = cli("principals", "reissue-key", "mia", "--json")
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["name"] == "mia" and out["keys_revoked"] == 1
    new = out["api_key"]
    assert new.startswith("tutela_") and new != old
    assert status_with(env, old) == 401 and status_with(env, new) == 200
    assert listed(cli)["mia"]["active_keys"] == 1
    with env.ctx.engine.connect() as conn:
        stored = [row[0] for row in conn.exec_driver_sql("select key_hash from api_keys")]
    assert new not in stored
    (event,) = events(cli, "reissue_key")
    assert event["detail"] == {"principal": "mia", "keys_revoked": 1}
    assert new not in json.dumps(event)

    plain = cli("principals", "reissue-key", "mia")
    assert plain.exit_code == 0 and "shown once" in plain.stdout
    assert cli("principals", "reissue-key", "nobody").exit_code == 1


def test_a_departed_principal_gets_no_new_key(env, cli):
    add(cli, "leo", "sales")
    assert cli("principals", "deactivate", "leo").exit_code == 0
    refused = cli("principals", "reissue-key", "leo")
    assert refused.exit_code == 1 and "left on" in refused.stderr
    assert listed(cli)["leo"]["active_keys"] == 0


def test_roles_change_validated_by_the_policy_and_audited(env, cli):
    key = add(cli, "mia", "marketing")
    with TestClient(create_app(env.ctx)) as client:
        client.headers["Authorization"] = f"Bearer {key}"
        assert client.get("/access-reports").status_code == 403
        result = cli(
            "principals", "roles", "mia", "--add", "dpo", "--remove", "marketing", "--json"
        )
        assert result.exit_code == 0, result.stderr
        assert json.loads(result.stdout) == {
            "name": "mia",
            "roles_before": ["marketing"],
            "roles": ["dpo"],
        }
        assert client.get("/access-reports").status_code == 200  # at once, with the same key
    assert listed(cli)["mia"]["roles"] == ["dpo"]
    (event,) = events(cli, "change_roles")
    assert event["detail"] == {"principal": "mia", "before": ["marketing"], "after": ["dpo"]}

    unknown = cli("principals", "roles", "mia", "--add", "janitor")
    assert unknown.exit_code == 1 and "unknown role 'janitor'" in unknown.stderr
    not_held = cli("principals", "roles", "mia", "--remove", "sales")
    assert not_held.exit_code == 1 and "does not hold" in not_held.stderr
    nothing_left = cli("principals", "roles", "mia", "--remove", "dpo")
    assert nothing_left.exit_code == 1 and "at least one role" in nothing_left.stderr
    assert cli("principals", "roles", "mia").exit_code != 0  # nothing to change
    assert len(events(cli, "change_roles")) == 1


@pytest.mark.parametrize("also_held", [False, True])
def test_a_role_change_never_leaves_no_active_administrator(env, cli, also_held):
    if also_held:
        add(cli, "sam", "dpo")
    result = cli("principals", "roles", "admin", "--add", "sales", "--remove", "dpo")
    if also_held:
        assert result.exit_code == 0, result.stderr
        assert listed(cli)["admin"]["roles"] == ["sales"]
    else:
        assert result.exit_code == 1 and "last active principal" in result.stderr
        assert listed(cli)["admin"]["roles"] == ["dpo"]
        assert events(cli, "change_roles") == []
