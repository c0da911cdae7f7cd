"""The worker sweeps on schedule, and never two sweeps at once."""

import json

from tutela.worker import sweep_lock, sweep_once


def test_one_sweep_at_a_time(env):
    with sweep_lock(env.ctx.engine) as first:
        assert first
        assert sweep_once(env.ctx) is None  # another process (here: this one) is sweeping
    assert sweep_once(env.ctx) is not None


def test_worker_once_runs_the_sweep_and_audits_it(env, cli, example, tmp_path):
    example["lifecycle"].update(first_contact_at="2014-06-01", last_contact_at="2015-01-01")
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps(example) + "\n")
    assert cli("subjects", "import", str(path)).exit_code == 0
    result = cli("worker", "--once", "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert {"rule": "prospect_data", "action": "anonymise", "subjects": 1} in report["actions"]
    events = json.loads(cli("audit", "show", "--principal", "worker", "--json").stdout)
    assert {e["action"] for e in events} >= {"anonymise"}


def test_the_worker_delivers_the_outbox(env, cli, example, tmp_path, inbox):
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps(example) + "\n")
    assert cli("subjects", "import", str(path)).exit_code == 0
    opened = cli("requests", "open", "--type", "access", "--email", "ana@example.org")
    assert opened.exit_code == 0 and not inbox.messages
    report = json.loads(cli("worker", "--once", "--json").stdout)
    # The code to the person, and the day's checkpoint of the trail to the DPO.
    assert report["outbox"] == {"sent": 2, "retry": 0, "failed": 0}
    recipients = sorted(m.rcpt_tos[0] for m in inbox.messages)
    assert recipients == sorted(["ana@example.org", env.ctx.policy.dpo.email])
