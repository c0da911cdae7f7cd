"""A retention run on SQLite against a hand-written SQL script doing the same deletions and
updates on a copy of the same database.

The database holds N subjects (default 1,000,000) with ten connection logs each, over six
years, so that a realistic share expires: stale prospects are anonymised, old logs deleted,
ended subscriptions archived and anonymised, old payments archived and deleted. Tutela also
does what the script does not: the plan with legal holds, the country decrypted into the
anonymised counts, audit events naming each subject acted on, and small transactions that
let other writers in between. The script runs the same set-based statements over whole
tables, in one transaction, with the same pragmas (secure delete included).

    python bench/bench_retention.py [--subjects N]
"""

from __future__ import annotations

import argparse
import random
import shutil
import sqlite3
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import orjson

from tutela.access.gate import Actor
from tutela.bootstrap import initialise
from tutela.clock import now
from tutela.context import build_context
from tutela.retention import flows
from tutela.retention.schedule import latest_anchor
from tutela.retention.service import steps
from tutela.settings import Settings
from tutela.subjects.importer import import_file

AS_OF = date(2026, 11, 27)
CONNECTIONS = 10


def records(count: int, seed: int = 3):
    rng = random.Random(seed)
    start = AS_OF - timedelta(days=6 * 365)
    for n in range(count):
        first = start + timedelta(days=rng.randrange(6 * 365))
        last = first + timedelta(days=rng.randrange((AS_OF - first).days + 1))
        client = rng.random() < 0.4
        record = {
            "external_id": f"r-{n}",
            "kind": "client" if client else "prospect",
            "source": "registration_form" if client else "website_contact",
            "identification": {
                "first_name": "Léa",
                "last_name": "Martin",
                "email": f"p{n}@example.org",
                "country": rng.choice(["FR", "FR", "GB", "BE"]),
            },
            "lifecycle": {
                "first_contact_at": first.isoformat(),
                "last_contact_at": last.isoformat(),
            },
            "connections": [
                {
                    "at": datetime.combine(last - timedelta(days=d * 7), datetime.min.time(), UTC)
                    .isoformat()
                    .replace("+00:00", "Z"),
                    "ip": "198.51.100.7",
                    "device": "desktop",
                }
                for d in range(CONNECTIONS)
            ],
        }
        if client:
            ended = last if rng.random() < 0.4 else None
            record["lifecycle"].update(
                subscription_started_at=first.isoformat(),
                subscription_ended_at=ended and ended.isoformat(),
            )
            record["contract"] = {"plan": "wimi_teamwork", "contract_reference": f"C-{n}"}
            record["payments"] = [
                {
                    "at": f"{last.isoformat()}T12:00:00Z",
                    "method": "card",
                    "card_last4": "4242",
                    "retain_consent": rng.random() < 0.3,
                }
            ]
        yield record


def build(workdir: Path, subjects: int) -> Path:
    db = workdir / "tutela.db"
    settings = Settings(database_url=f"sqlite:///{db}", key_file=workdir / "tutela.key")
    ctx = build_context(settings)
    initialise(ctx)
    source = workdir / "subjects.jsonl"
    with source.open("wb") as handle:
        for record in records(subjects):
            handle.write(orjson.dumps(record) + b"\n")
    import_file(
        engine=ctx.engine, keyring=ctx.open_keyring(), rules=ctx.rules, path=source, at=now()
    )
    ctx.engine.dispose()
    source.unlink()
    return db


def run_tutela(workdir: Path) -> float:
    settings = Settings(
        database_url=f"sqlite:///{workdir / 'tutela.db'}", key_file=workdir / "tutela.key"
    )
    return timed_run(build_context(settings))


def timed_run(ctx) -> float:
    """Seconds of one retention run as of AS_OF, as the console would start it."""
    started = time.perf_counter()
    flows.run(
        engine=ctx.engine,
        policy=ctx.policy,
        keyring=ctx.open_keyring(),
        actor=Actor("bench", None),
        as_of=AS_OF,
        at=now(),
        batch_size=ctx.settings.retention_batch,
    )
    elapsed = time.perf_counter() - started
    ctx.engine.dispose()
    return elapsed


def run_script(db: Path, policy) -> float:
    """The same steps as bare SQL over whole tables, as an administrator would write them."""
    conn = sqlite3.connect(db, isolation_level=None)
    for pragma in (
        "journal_mode=WAL",
        "synchronous=NORMAL",
        "secure_delete=ON",
        "cache_size=-65536",
    ):
        conn.execute(f"PRAGMA {pragma}")
    stamp = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
    started = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    for step in steps(policy):
        kinds = ",".join(f"'{k}'" for k in step.rule.subject_kinds)
        cutoff = latest_anchor(AS_OF, step.months).isoformat()
        due = (
            f"SELECT id FROM subjects WHERE kind IN ({kinds}) AND {step.rule.anchor} <= '{cutoff}'"
        )
        if step.rule.anchor == "collected_at":
            due = f"SELECT id FROM subjects WHERE kind IN ({kinds})"
        cats = ",".join(f"'{c}'" for c in step.record_categories)
        if step.action == "anonymise":
            conn.execute(
                "INSERT INTO anonymised_counts (rule, kind, source, country, month, count) "
                f"SELECT '{step.rule.id}', kind, source, 'unknown', "
                "coalesce(strftime('%Y-%m', first_contact_at), 'unknown'), count(*) "
                f"FROM subjects WHERE id IN ({due}) AND EXISTS (SELECT 1 FROM personal_data "
                f"WHERE subject_id = subjects.id AND category IN ({cats})) "
                "GROUP BY kind, source, 3, 5"
            )
        if cats:
            if step.action == "archive":
                conn.execute(
                    f"UPDATE personal_data SET archived_at = '{stamp}' WHERE "
                    f"archived_at IS NULL AND category IN ({cats}) AND subject_id IN ({due})"
                )
            else:
                conn.execute(
                    f"DELETE FROM personal_data WHERE category IN ({cats}) "
                    f"AND subject_id IN ({due})"
                )
        if step.connections:
            conn.execute(f"DELETE FROM connections WHERE subject_id IN ({due})")
        if step.payments:
            consent = " AND retain_consent = 0" if step.rule.unless == "retain_consent" else ""
            if step.action == "archive":
                conn.execute(
                    f"UPDATE payments SET archived_at = '{stamp}' WHERE "
                    f"archived_at IS NULL{consent} AND subject_id IN ({due})"
                )
            else:
                conn.execute(f"DELETE FROM payments WHERE subject_id IN ({due}){consent}")
    empty = (
        "SELECT id FROM subjects s WHERE NOT EXISTS (SELECT 1 FROM personal_data v WHERE "
        "v.subject_id = s.id) AND NOT EXISTS (SELECT 1 FROM connections c WHERE "
        "c.subject_id = s.id) AND NOT EXISTS (SELECT 1 FROM payments p WHERE "
        "p.subject_id = s.id)"
    )
    for table in ("data_keys", "consents", "objections", "legal_holds"):
        conn.execute(f"DELETE FROM {table} WHERE subject_id IN ({empty})")
    conn.execute(f"DELETE FROM subjects WHERE id IN ({empty})")
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def counts(db: Path) -> dict[str, int]:
    conn = sqlite3.connect(db)
    out = {
        t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        for t in ("subjects", "personal_data", "connections", "payments")
    }
    conn.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tutela-bench-") as tmp:
        product = Path(tmp) / "tutela"
        product.mkdir()
        built = time.perf_counter()
        db = build(product, args.subjects)
        built = time.perf_counter() - built
        bare = Path(tmp) / "bare.db"
        shutil.copy(db, bare)
        before = counts(db)
        policy = build_context(Settings(database_url=f"sqlite:///{db}")).policy
        t_product = run_tutela(product)
        t_script = run_script(bare, policy)
        after_product, after_script = counts(db), counts(bare)
    print(
        f"Retention run, SQLite, {args.subjects:,} subjects, {before['connections']:,} "
        f"connection logs (built in {built:.0f} s), as of {AS_OF}"
    )
    print(f"{'':28}{'seconds':>10}")
    print(f"{'tutela retention run':28}{t_product:>10.2f}")
    print(f"{'hand-written SQL script':28}{t_script:>10.2f}")
    print(f"ratio tutela/script: {t_product / t_script:.2f}   (target: <= 1.5)")
    print(f"rows before: {before}")
    print(f"rows after, tutela: {after_product}")
    print(f"rows after, script: {after_script}")
    if after_product != after_script:
        print("WARNING: the two runs left different rows")


if __name__ == "__main__":
    main()
