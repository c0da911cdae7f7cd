"""The breach register (§21): recorded with its 72-hour clock (across a daylight-saving
change), scoped exactly from the trail, by category or by a list, sealed, audited, closed."""

import json
from datetime import datetime

from breach_people import CASE, import_people, open_breach, person, read_as

from tutela.access.gate import Actor
from tutela.breaches.models import Breach
from tutela.db import session_scope


def test_the_deadline_is_72_hours_across_a_daylight_saving_change(env, cli):
    # Paris leaves summer time on 2026-10-25: 72 hours after 10:00 CEST is 09:00 CET.
    opened = open_breach(cli, "2026-10-24T10:00+02:00")
    assert opened["deadline_local"] == "2026-10-27T09:00+01:00"
    assert opened["deadline_at"] == "2026-10-27T08:00:00Z"
    assert opened["overdue"] is True and opened["hours_left"] < 0
    future = cli("breaches", "open", "--aware-at", "2099-01-01T00:00Z", "--nature", "integrity",
                 "--description", "x")  # fmt: skip
    assert future.exit_code == 1 and "aware_at" in future.stderr
    naive = cli("breaches", "open", "--aware-at", "2026-12-01T10:00", "--nature", "integrity",
                "--description", "x")  # fmt: skip
    assert naive.exit_code == 2 and "offset" in naive.stderr
    wrong = cli("breaches", "open", "--aware-at", "2026-12-01T10:00Z", "--nature", "leak",
                "--description", "x")  # fmt: skip
    assert wrong.exit_code == 1 and "confidentiality" in wrong.stderr


def test_a_principals_reads_in_a_window_are_scoped_exactly(env, cli, tmp_path):
    import_people(cli, tmp_path, *(person(f"p-{n}") for n in range(5)))
    mia = Actor("mia", ("marketing",))
    sam = Actor("sam", ("sales",))
    at = lambda h: datetime.fromisoformat(f"2026-12-03T{h:02d}:00:00+00:00")  # noqa: E731
    read_as(env, mia, "p-0", "relationship_management", at(10))  # in the window
    read_as(env, mia, "p-1", "newsletter", at(11))  # in the window, refused: no consent
    read_as(env, mia, "p-2", "market_research", at(12))  # in the window
    read_as(env, mia, "p-3", "relationship_management", at(16))  # after it
    read_as(env, sam, "p-4", "relationship_management", at(11))  # another principal
    breach = open_breach(cli)
    args = ["breaches", "scope", breach["id"], "--principal", "mia",
            "--from", "2026-12-03T09:00Z", "--until", "2026-12-03T14:00Z", "--json"]  # fmt: skip
    scoped = json.loads(cli(*args).stdout)
    assert scoped["people"] == 2
    # mia was given identification and enriched data; these people hold no enriched data.
    assert set(scoped["by_category"]) == {"identification"}
    assert scoped["by_category"]["identification"]["people"] == 2
    assert scoped["by_category"]["identification"]["records"] == 6  # three fields each
    with session_scope(env.ctx.engine, write=False) as session:
        from tutela.breaches.models import BreachPerson
        from tutela.subjects.listing import external_ids

        people = session.query(BreachPerson).filter_by(breach_id=breach["id"]).all()
        named = external_ids(session, [p.subject_id for p in people])
    assert sorted(named.values()) == ["p-0", "p-2"]
    events = json.loads(cli("audit", "show", "--json").stdout)
    (event,) = [e for e in events if e["action"] == "breach_scope"]
    assert len(event["detail"]["subjects"]) == 2 and event["detail"]["people"] == 2


def test_scope_by_category_and_kind_and_by_a_list(env, cli, tmp_path):
    client = person("c-1", "client")
    client["payments"] = [{"at": "2026-11-01T10:00:00Z", "method": "card", "card_last4": "4242"}]
    import_people(cli, tmp_path, client, person("c-2", "client"), person("p-1"))
    breach = open_breach(cli)
    out = json.loads(
        cli("breaches", "scope", breach["id"], "--category", "banking", "--json").stdout
    )
    assert out["people"] == 1 and out["by_category"]["banking"] == {"people": 1, "records": 1}
    listed = tmp_path / "ids.txt"
    listed.write_text("p-1\nc-2\n")
    out = json.loads(
        cli("breaches", "scope", breach["id"], "--external-ids", str(listed), "--json").stdout
    )
    assert out["people"] == 3
    out = json.loads(
        cli(
            "breaches",
            "scope",
            breach["id"],
            "--category",
            "identification",
            "--kind",
            "client",
            "--json",
        ).stdout
    )
    assert out["people"] == 3  # c-1 and c-2 again, p-1 from the list


def test_the_description_is_sealed_and_handling_is_for_the_policys_roles(env, cli):
    breach = open_breach(cli)
    with session_scope(env.ctx.engine, write=False) as session:
        stored = session.get(Breach, breach["id"]).description
    assert CASE.encode() not in stored
    shown = json.loads(cli("breaches", "show", breach["id"], "--json").stdout)
    assert shown["description"] == CASE
    assert cli("principals", "add", "mia", "--role", "marketing").exit_code == 0
    refused = cli("breaches", "show", breach["id"], "--as", "mia")
    assert refused.exit_code == 1 and "breaches.roles" in refused.stderr
    assert cli("principals", "add", "claire", "--role", "dpo").exit_code == 0
    assert cli("breaches", "show", breach["id"], "--as", "claire").exit_code == 0


def test_closing_keeps_the_breach_in_the_register(env, cli, tmp_path):
    import_people(cli, tmp_path, person("p-1"))
    breach = open_breach(cli, "2026-12-03T10:00+01:00", "--encrypted")  # a stolen backup
    refused = cli("breaches", "close", breach["id"])
    assert refused.exit_code == 1 and "assess" in refused.stderr  # the register says why
    assert cli("breaches", "scope", breach["id"], "--category", "identification").exit_code == 0
    assert cli("breaches", "assess", breach["id"]).exit_code == 0
    assert cli("breaches", "close", breach["id"]).exit_code == 0
    (listed,) = json.loads(cli("breaches", "list", "--json").stdout)
    assert listed["status"] == "closed" and listed["hours_left"] is None
    again = cli("breaches", "scope", breach["id"], "--category", "banking")
    assert again.exit_code == 1 and "closed" in again.stderr
    actions = [e["action"] for e in json.loads(cli("audit", "show", "--json").stdout)]
    assert {"breach_open", "breach_close"} <= set(actions)


def test_the_dpo_is_told_as_the_deadline_nears_and_once_it_has_passed(env, cli, inbox):
    from datetime import UTC, timedelta

    from tutela.clock import now

    soon = (now() - timedelta(hours=60)).astimezone(UTC).isoformat()  # 12 hours left
    late = (now() - timedelta(hours=80)).astimezone(UTC).isoformat()  # 8 hours past
    fresh = (now() - timedelta(hours=1)).astimezone(UTC).isoformat()  # 71 hours left
    ids = [open_breach(cli, t)["id"] for t in (soon, late, fresh)]
    report = json.loads(cli("worker", "--once", "--json").stdout)
    assert report["outbox"]["failed"] == 0
    to_dpo = [m for m in inbox.messages if env.ctx.policy.dpo.email in m.rcpt_tos]
    subjects = sorted(
        line for m in to_dpo for line in m.content.decode().splitlines() if "breach B-" in line
    )
    assert any(ids[0] in s and "hours left" in s for s in subjects)
    assert any(ids[1] in s and "has passed" in s for s in subjects)
    assert not any(ids[2] in s for s in subjects)
    cli("worker", "--once", "--json")  # told once each
    again = [m for m in inbox.messages if env.ctx.policy.dpo.email in m.rcpt_tos]
    assert len([m for m in again if b"breach B-" in m.content]) == 2


def test_two_workers_remind_the_dpo_once(env, cli):
    import threading
    from datetime import UTC, timedelta

    from sqlalchemy import func, select

    from tutela.breaches import reminders
    from tutela.clock import now
    from tutela.outbox.models import OutboxMessage

    for hours in (60, 80, 65):
        open_breach(cli, (now() - timedelta(hours=hours)).astimezone(UTC).isoformat())
    start, sent = threading.Barrier(2), []

    def worker():
        start.wait()
        with session_scope(env.ctx.engine) as session:
            sent.append(
                reminders.remind(
                    session=session,
                    keyring=env.ctx.keyring(session),
                    policy=env.ctx.policy,
                    at=now(),
                )
            )

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(sent) == 3
    with session_scope(env.ctx.engine, write=False) as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 3
