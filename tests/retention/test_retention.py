"""Retention rules of the bundled policy: the plan, the run, holds, archive, statistics."""

import json
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from tutela.access.gate import Actor
from tutela.audit import service as audit
from tutela.clock import now
from tutela.db import session_scope
from tutela.retention import flows
from tutela.retention.models import AnonymisedCount
from tutela.retention.schedule import add_months
from tutela.subjects import service
from tutela.subjects.models import Connection, Payment, PersonalValue, Subject
from tutela.subjects.validation import validate_record

AS_OF = date(2026, 6, 30)
IDENT = {"first_name": "Ana", "last_name": "Roy", "email": "ana@example.org"}


def person(external_id, kind, **lifecycle):
    record = {
        "external_id": external_id,
        "kind": kind,
        "source": "registration_form" if kind == "client" else "website_contact",
        "identification": dict(IDENT),
        "lifecycle": lifecycle,
    }
    return record


def store(env, *records):
    with session_scope(env.ctx.engine) as session:
        service.save(
            session=session,
            keyring=env.ctx.keyring(session),
            rules=env.ctx.rules,
            records=[validate_record(r, env.ctx.rules) for r in records],
            at=now(),
        )


def categories_of(env, external_id):
    with session_scope(env.ctx.engine, write=False) as session:
        subject = service.find(session=session, external_id=external_id)
        if subject is None:
            return None
        held = set(
            session.scalars(
                select(PersonalValue.category).where(PersonalValue.subject_id == subject.id)
            )
        )
        if session.scalar(
            select(func.count()).select_from(Connection).where(Connection.subject_id == subject.id)
        ):
            held.add("technical")
        if session.scalar(
            select(func.count()).select_from(Payment).where(Payment.subject_id == subject.id)
        ):
            held.add("banking")
        return held


def run(env, as_of=AS_OF, dry_run=False):
    return flows.run(
        engine=env.ctx.engine,
        keyring=env.ctx.open_keyring(),
        policy=env.ctx.policy,
        actor=Actor.console(),
        as_of=as_of,
        at=now(),
        dry_run=dry_run,
    )


@pytest.fixture
def population(env):
    stale = person(
        "p-stale", "prospect", first_contact_at="2022-11-02", last_contact_at="2023-01-15"
    )
    stale["enriched"] = {"segment": "smb"}
    stale["identification"]["country"] = "FR"
    fresh = person("p-fresh", "prospect", last_contact_at="2024-01-01")
    held = person("p-held", "prospect", last_contact_at="2023-01-15")
    former = person(
        "c-former",
        "client",
        subscription_started_at="2019-03-01",
        subscription_ended_at="2022-01-10",
    )
    former["contract"] = {"plan": "wimi_teamwork", "contract_reference": "CTR-1"}
    former["connections"] = [{"at": "2021-12-20T10:00:00Z", "ip": "198.51.100.9"}]
    former["payments"] = [
        {
            "at": "2021-12-01T10:00:00Z",
            "method": "card",
            "card_last4": "1111",
            "retain_consent": False,
        },
        {
            "at": "2021-11-01T10:00:00Z",
            "method": "card",
            "card_last4": "2222",
            "retain_consent": True,
        },
    ]
    active = person("c-active", "client", subscription_started_at="2020-01-01")
    active["connections"] = [{"at": "2026-06-01T10:00:00Z", "ip": "198.51.100.10"}]
    store(env, stale, fresh, held, former, active)
    return env


def test_the_plan_lists_what_is_due_with_rule_anchor_and_due_date(population, cli):
    cli("holds", "add", "p-held", "--purpose", "debt_disputes", "--reference", "CASE-7")
    due = {
        (d["external_id"], d["category"], d["action"]): d
        for d in json.loads(cli("retention", "plan", "--as-of", str(AS_OF), "--json").stdout)
    }
    stale = due[("p-stale", "identification", "anonymise")]
    assert (stale["rule"], stale["anchor"], stale["due"]) == (
        "prospect_data",
        "2023-01-15",
        "2026-01-15",
    )
    assert ("p-stale", "enriched", "anonymise") in due
    assert not any(k[0] == "p-fresh" for k in due)  # due 2027-01-01
    assert not any(k[0] == "c-active" for k in due)  # still subscribed, recently connected
    assert due[("p-held", "identification", "anonymise")]["skipped"] == "legal hold: CASE-7"
    plan_rows = json.loads(cli("retention", "plan", "--as-of", str(AS_OF), "--json").stdout)
    former = {
        (d["category"], d["action"], d["rule"]) for d in plan_rows if d["external_id"] == "c-former"
    }
    assert former == {
        ("identification", "anonymise", "client_data"),  # 3 years after the end
        ("contract", "archive", "proof_of_contract"),  # archived at the end, kept 60 months
        ("technical", "delete", "technical_data"),  # 12 months after the last connection
        ("banking", "archive", "banking_data"),  # at the transaction, without consent
        ("banking", "delete", "banking_data"),  # after 13 months of archive
        ("banking", "archive", "banking_data_kept_with_consent"),  # kept while subscribed
        ("banking", "delete", "banking_data_kept_with_consent"),
    }


def test_the_run_acts_once_and_leaves_only_statistics(population, cli):
    cli("holds", "add", "p-held", "--purpose", "debt_disputes", "--reference", "CASE-7")
    report = run(population).as_dict()
    assert report["skipped_for_holds"] >= 1
    assert categories_of(population, "p-stale") is None  # nothing left: the subject is gone
    assert categories_of(population, "p-fresh") == {"identification"}
    assert categories_of(population, "p-held") == {"identification"}  # held
    assert categories_of(population, "c-former") == {"contract"}  # the proof-of-contract archive
    assert categories_of(population, "c-active") == {"identification", "technical"}
    with session_scope(population.ctx.engine, write=False) as session:
        counts = session.execute(
            select(
                AnonymisedCount.rule,
                AnonymisedCount.kind,
                AnonymisedCount.month,
                AnonymisedCount.count,
            )
        ).all()
    assert ("prospect_data", "prospect", "2022-11", 1) in [tuple(c) for c in counts]
    stats = json.loads(cli("stats", "--json").stdout)
    assert {
        "kind": "prospect",
        "source": "website_contact",
        "country": "FR",
        "month": "2022-11",
        "count": 1,
    } in stats

    again = run(population).as_dict()
    assert again["actions"] == [] and again["subjects_removed"] == 0

    cli("holds", "release", "1")
    run(population)
    assert categories_of(population, "p-held") is None


def test_a_dry_run_changes_nothing(population):
    report = run(population, dry_run=True).as_dict()
    assert report["actions"] and report["dry_run"]
    assert categories_of(population, "p-stale") == {"identification", "enriched"}


def test_archived_data_is_read_only_for_archive_purposes_and_roles(population, cli):
    run(population, as_of=date(2022, 6, 1))  # banking archived, not yet deleted
    cli("principals", "add", "ada", "--role", "administration")
    billing = json.loads(
        cli(
            "subjects",
            "show",
            "c-former",
            "--as",
            "ada",
            "--purpose",
            "accounting_billing",
            "--json",
        ).stdout
    )
    assert billing["data"]["banking"] == []  # archived: not for billing any more
    archive = json.loads(
        cli(
            "subjects", "show", "c-former", "--as", "ada", "--purpose", "legal_archiving", "--json"
        ).stdout
    )
    assert sorted(p["card_last4"] for p in archive["data"]["banking"]) == ["1111", "2222"]
    assert archive["data"]["contract"]["contract_reference"] == "CTR-1"
    cli("principals", "add", "sam", "--role", "sales")
    sales = json.loads(
        cli(
            "subjects",
            "show",
            "c-former",
            "--as",
            "sam",
            "--purpose",
            "registration_subscription",
            "--json",
        ).stdout
    )
    assert "contract" not in sales["data"]  # archived at the end of the subscription


def test_every_action_is_audited_with_its_rule_and_policy_version(population, cli):
    run(population)
    events = json.loads(cli("audit", "show", "--json").stdout)
    retention = [e for e in events if e["reason"].startswith("retention rule")]
    assert {e["detail"]["rule"] for e in retention} >= {
        "prospect_data",
        "client_data",
        "technical_data",
        "banking_data",
        "proof_of_contract",
    }
    assert all(e["policy_version"] == population.ctx.policy.version for e in retention)


PAST = date(2026, 11, 30)  # lifecycle dates are stored only once they have come
lifecycles = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(["prospect", "client"]),
        "last_contact": st.dates(date(2018, 1, 1), PAST),
        "ended": st.one_of(st.none(), st.dates(date(2018, 1, 1), PAST)),
        "connected": st.dates(date(2018, 1, 1), PAST),
        "as_of": st.dates(date(2019, 1, 1), date(2030, 12, 31)),
    }
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(life=lifecycles, n=st.integers(0, 10**9))
def test_no_data_outlives_its_rule_and_none_goes_early(env, life, n):
    external_id = f"h-{n}"
    record = person(external_id, life["kind"], last_contact_at=str(life["last_contact"]))
    if life["kind"] == "client":
        record["lifecycle"].update(
            subscription_started_at="2017-01-01",
            subscription_ended_at=str(life["ended"]) if life["ended"] else None,
        )
    record["connections"] = [{"at": f"{life['connected']}T12:00:00Z", "ip": "198.51.100.1"}]
    with session_scope(env.ctx.engine, write=False) as session:
        if service.find(session=session, external_id=external_id):
            return
    store(env, record)
    run(env, as_of=life["as_of"])
    held = categories_of(env, external_id) or set()
    ident_months = 36
    ident_anchor = life["last_contact"] if life["kind"] == "prospect" else life["ended"]
    ident_due = ident_anchor is not None and add_months(ident_anchor, ident_months) <= life["as_of"]
    tech_due = add_months(life["connected"], 12) <= life["as_of"]
    assert ("identification" in held) == (not ident_due)
    assert ("technical" in held) == (not tech_due)


def test_a_subjects_trail_shows_the_batch_events_that_acted_on_it(population, cli):
    run(population)
    mine = json.loads(cli("audit", "show", "--subject", "c-former", "--json").stdout)
    archived = [e for e in mine if e["action"] == "archive"]
    assert archived and all(e["reason"].startswith("retention rule") for e in archived)
    with session_scope(population.ctx.engine, write=False) as session:
        former = session.scalar(select(Subject.id).where(Subject.external_id == "c-former"))
    assert all(former in e["detail"]["subjects"] for e in archived)


def test_a_contact_arriving_after_the_plan_keeps_the_person(population, monkeypatch):
    """A prospect who writes between the moment they are found due and the moment the step
    acts (another transaction committing on PostgreSQL) is no longer due, and the run
    neither touches, counts nor audits them."""
    found = flows._due_by_subject

    def contact_after_planning(session, step, as_of, span, only):
        due = found(session, step, as_of, span, only)
        if step.rule.id == "prospect_data":
            subject = service.find(session=session, external_id="p-stale")
            if subject is not None:
                subject.last_contact_at = date(2026, 6, 1)
                session.flush()
        return due

    monkeypatch.setattr(flows, "_due_by_subject", contact_after_planning)
    report = run(population).as_dict()
    assert categories_of(population, "p-stale") == {"identification", "enriched"}
    acted = {(a["rule"], a["action"]): a["subjects"] for a in report["actions"]}
    assert acted[("prospect_data", "anonymise")] == 1  # p-held (no hold here), not p-stale
    with session_scope(population.ctx.engine, write=False) as session:
        stale_id = service.find(session=session, external_id="p-stale").id
        assert not [e.action for e in audit.events(session, subject_id=stale_id)]


@pytest.mark.parametrize("kind", ["prospect", "client"])
def test_cookies_go_13_months_after_they_were_placed_whatever_the_kind(env, kind):
    """§9: cookies 13 months, for everyone (a prospect's were once kept 36 months)."""
    record = person(f"{kind}-cookie", kind, last_contact_at="2026-01-01")
    if kind == "client":
        record["lifecycle"]["subscription_started_at"] = "2020-01-01"
    record["cookies"] = {"cookie_id": "c-123", "set_at": "2025-01-10"}
    record["collected_at"] = "2025-01-10T08:00:00Z"
    store(env, record)
    run(env, as_of=date(2026, 2, 9))
    assert "cookies" in categories_of(env, f"{kind}-cookie")
    run(env, as_of=date(2026, 2, 10))
    assert categories_of(env, f"{kind}-cookie") == {"identification"}


def test_a_dry_run_reports_exactly_what_the_run_then_does(population, cli):
    """Same counts, same subjects: the dry run does the run's work and rolls it back, so a
    rule acting after another on the same data (banking kept with and without consent), or
    a subject emptied by the run, is reported as the run then finds it."""
    former = person(
        "c-old", "client", subscription_started_at="2018-01-01", subscription_ended_at="2020-01-01"
    )
    former["payments"] = [
        {
            "at": "2019-12-01T10:00:00Z",
            "method": "card",
            "card_last4": "3333",
            "retain_consent": False,
        }
    ]
    store(population, former)
    cli("holds", "add", "p-held", "--purpose", "debt_disputes", "--reference", "CASE-7")
    before = categories_of(population, "c-old")
    dry = json.loads(cli("retention", "run", "--as-of", str(AS_OF), "--dry-run", "--json").stdout)
    assert categories_of(population, "c-old") == before  # nothing changed
    done = json.loads(cli("retention", "run", "--as-of", str(AS_OF), "--json").stdout)
    assert dry.pop("dry_run") and not done.pop("dry_run")
    assert dry == done
    acted = {(a["rule"], a["action"]): a["external_ids"] for a in done["actions"]}
    assert "c-old" in acted[("banking_data", "delete")]
    assert "c-old" not in acted.get(("banking_data_kept_with_consent", "delete"), [])
    assert done["subjects_removed"] >= 1 and done["receipts"] >= 1


def test_each_removal_by_retention_yields_a_receipt(population, cli):
    run(population)
    receipts = json.loads(cli("retention", "receipts", "--json").stdout)
    by_rule = {r["rule"]: r for r in receipts}
    assert {"prospect_data", "technical_data", "banking_data"} <= set(by_rule)
    prospects = by_rule["prospect_data"]
    assert prospects["by"] == "retention" and prospects["as_of"] == str(AS_OF)
    assert prospects["data_keys_destroyed"]  # p-stale was left with nothing: its key went
    assert all(e["hash"] for e in prospects["events"])
    assert prospects["policy_version"] == population.ctx.policy.version
    assert "Ana" not in json.dumps(receipts) and "ana@example.org" not in json.dumps(receipts)
    assert json.loads(cli("retention", "receipts", "--rule", "cookies", "--json").stdout) == []


def test_a_run_that_fails_leaves_no_transaction_open(population, monkeypatch):
    """The ranges of subjects are read in transactions that end before each range is worked
    on: a run that fails in its last range, its error kept (as a log or a test keeps it),
    holds no snapshot that would block a TRUNCATE or a checkpoint."""
    from sqlalchemy import text

    from tutela.retention import batches

    def fails(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(batches, "apply", fails)
    with pytest.raises(RuntimeError) as kept:
        run(population)
    assert kept.value.args == ("disk full",)
    if population.is_sqlite:
        return
    with population.ctx.engine.connect() as conn:
        waiting = conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND state = 'idle in transaction' AND pid <> pg_backend_pid()"
            )
        ).scalar()
    assert waiting == 0
