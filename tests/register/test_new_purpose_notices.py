"""A new purpose in an activated version is told to the people it concerns (Art. 13(3)):
each living person of its kinds holding an e-mail address gets one message, in the policy's
languages, recorded in the trail before any address is read; a killed worker resumes."""

import json
from pathlib import Path

import yaml

from tutela.clock import now
from tutela.register import notify

BUNDLED = Path(__file__).parents[2] / "src/tutela/policy/default.yaml"


def _with_webinars(tmp_path: Path) -> Path:
    data = yaml.safe_load(BUNDLED.read_text())
    data["version"] = "2027.7.0"
    data["purposes"].append(
        {
            "id": "webinars",
            "name": "Invitations to our webinars",
            "legal_basis": "consent",
            "withdrawal": "The link in every invitation.",
            "categories": ["identification"],
            "subject_kinds": ["prospect"],
        }
    )
    data["translations"]["fr"]["purposes.webinars.name"] = "Invitations à nos webinaires"
    data["translations"]["fr"]["purposes.webinars.withdrawal"] = "Le lien de chaque invitation."
    path = tmp_path / "v.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return path


def _person(external_id, kind, email, **lifecycle):
    return {
        "external_id": external_id,
        "kind": kind,
        "source": "website_contact" if email else "purchased_database",
        "identification": {"last_name": "Roy", "email": email} if email else {"last_name": "Roy"},
        "lifecycle": lifecycle,
    }


def test_the_people_a_new_purpose_concerns_are_told_once(env, cli, tmp_path, inbox):
    people = [
        _person("p-1", "prospect", "one@example.org", last_contact_at="2026-10-01"),
        _person("p-2", "prospect", "two@example.org", last_contact_at="2026-10-01"),
        _person("p-3", "prospect", None, last_contact_at="2026-10-01"),  # no address
        _person("c-1", "client", "client@example.org", subscription_started_at="2026-01-01"),
        _person(
            "p-dead",
            "prospect",
            "gone@example.org",
            last_contact_at="2025-01-01",
            date_of_death="2026-02-01",
        ),
    ]
    source = tmp_path / "people.jsonl"
    source.write_text("".join(json.dumps(p) + "\n" for p in people))
    assert cli("subjects", "import", str(source)).exit_code == 0
    assert cli("policy", "activate", str(_with_webinars(tmp_path))).exit_code == 0
    (job,) = json.loads(cli("policy", "notices", "--json").stdout)
    assert (job["purpose"], job["status"], job["queued"]) == ("webinars", "pending", 0)
    report = json.loads(cli("worker", "--once", "--json").stdout)
    assert report["outbox"]["failed"] == 0
    told = sorted(m.rcpt_tos[0] for m in inbox.messages if b"webinars" in m.content)
    assert told == ["one@example.org", "two@example.org"]
    message = next(m for m in inbox.messages if b"webinars" in m.content).content.decode()
    assert "Invitations to our webinars" in message and "The link in every invitation" in message
    assert (
        "Invitations =C3=A0 nos webinaires" in message or "Invitations à nos webinaires" in message
    )
    (job,) = json.loads(cli("policy", "notices", "--json").stdout)
    assert (job["status"], job["queued"]) == ("done", 2)
    events = json.loads(cli("audit", "show", "--principal", notify.NOTIFIER, "--json").stdout)
    (event,) = events
    assert (
        event["action"] == "inform" and event["purpose"] == env.ctx.policy.rights_requests.purpose
    )
    assert len(event["detail"]["subjects"]) == 2 and "one@example.org" not in json.dumps(event)
    # Another turn tells nobody again.
    cli("worker", "--once", "--json")
    assert len([m for m in inbox.messages if b"webinars" in m.content]) == 2


def test_a_job_resumes_after_the_last_batch_committed(env, cli, tmp_path):
    people = [
        _person(f"p-{n}", "prospect", f"p{n}@example.org", last_contact_at="2026-10-01")
        for n in range(5)
    ]
    source = tmp_path / "people.jsonl"
    source.write_text("".join(json.dumps(p) + "\n" for p in people))
    assert cli("subjects", "import", str(source)).exit_code == 0
    assert cli("policy", "activate", str(_with_webinars(tmp_path))).exit_code == 0
    ctx, keyring = env.ctx, env.ctx.open_keyring()
    ctx.follow_policy(now=True)
    calls = {"n": 0}
    original = notify._one_batch

    def dies_after_two(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt  # the worker is killed
        return original(*args, **kwargs)

    notify._one_batch = dies_after_two
    try:
        notify.send_due(engine=ctx.engine, keyring=keyring, policy=ctx.policy, at=now(), batch=2)
    except KeyboardInterrupt:
        pass
    finally:
        notify._one_batch = original
    (job,) = json.loads(cli("policy", "notices", "--json").stdout)
    assert (job["status"], job["queued"]) == ("pending", 4)
    assert (
        notify.send_due(engine=ctx.engine, keyring=keyring, policy=ctx.policy, at=now(), batch=2)
        == 1
    )
    (job,) = json.loads(cli("policy", "notices", "--json").stdout)
    assert (job["status"], job["queued"]) == ("done", 5)


def test_two_workers_tell_each_person_once(env, cli, tmp_path):
    import threading

    from sqlalchemy import func, select

    from tutela.db import session_scope
    from tutela.outbox.models import OutboxMessage

    people = [
        _person(f"p-{n}", "prospect", f"p{n}@example.org", last_contact_at="2026-10-01")
        for n in range(30)
    ]
    source = tmp_path / "people.jsonl"
    source.write_text("".join(json.dumps(p) + "\n" for p in people))
    assert cli("subjects", "import", str(source)).exit_code == 0
    assert cli("policy", "activate", str(_with_webinars(tmp_path))).exit_code == 0
    env.ctx.follow_policy(now=True)
    keyring, start, told = env.ctx.open_keyring(), threading.Barrier(2), []

    def worker():
        start.wait()
        told.append(
            notify.send_due(
                engine=env.ctx.engine, keyring=keyring, policy=env.ctx.policy, at=now(), batch=4
            )
        )

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(told) == 30
    with session_scope(env.ctx.engine, write=False) as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 30
