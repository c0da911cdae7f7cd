"""Expiring connection logs on PostgreSQL: does the cost stay per expired log as the table grows?

The policy keeps a person's logs one year after their *last* connection, so what expires is
every log of the people gone quiet, whatever the age of each log. Tutela keeps that cheap by
reaching the logs through the primary key (subject, time): a batch of expired people is a
range scan per person in the index, never a pass over the table, so a run costs what it
deletes, not what the table holds. (Monthly partitions by time would not help this rule: a
quiet person's logs are spread over every month they were active, so each delete would
probe every old partition.)

The benchmark builds two stores, SMALL and LARGE subjects with ten logs each, a third of
them quiet for over a year, runs `tutela retention` on each and, on a copy of the same
database, the plain SQL statement deleting the same logs. It prints the times, the cost per
expired log, the ratio to the plain statement, and the query plan of the batch delete.

    python bench/bench_retention_pg.py [--small N] [--large N] [--url postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import base64
import os
import time
from datetime import date

from sqlalchemy import create_engine, delete, text
from sqlalchemy.engine import make_url

from bench_retention import AS_OF, timed_run
from tutela.bootstrap import initialise
from tutela.context import build_context
from tutela.policy.loader import load_policy
from tutela.retention import flows
from tutela.retention.schedule import latest_anchor
from tutela.retention.service import steps
from tutela.settings import Settings
from tutela.subjects.models import Connection

LOGS = 10
QUIET_SHARE = 3  # one subject in three has not connected for over a year
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

# Subjects, one personal value each (so that only their logs expire), ten logs each; set in
# the database, since the importer's speed is not what is measured here (foreign keys are not
# checked while filling: every row refers to a subject made just before).
POPULATE = """
SET session_replication_role = replica;
INSERT INTO subjects (id, external_id, kind, source, created_at, updated_at,
                      first_contact_at, last_contact_at, last_connection_at)
SELECT md5(n::text), 'r-' || n, 'prospect', 'website_contact', now(), now(),
       DATE '2020-01-01', :as_of - 30,
       CASE WHEN n % :quiet = 0 THEN :as_of - 400 - n % 900 ELSE :as_of - n % 300 END
FROM generate_series(1, :n) AS n;
INSERT INTO personal_data (subject_id, category, field, ciphertext, source, collected_at,
                           provided_by_subject)
SELECT id, 'identification', 'last_name', decode(md5(id), 'hex'), 'website_contact', now(), true
FROM subjects;
INSERT INTO connections (subject_id, at, ciphertext)
SELECT s.id, s.last_connection_at - (7 * k), decode(md5(s.id || k), 'hex')
FROM subjects s, generate_series(0, :logs - 1) AS k;
VACUUM ANALYZE;
"""
BARE = """
DELETE FROM connections WHERE subject_id IN (
    SELECT id FROM subjects WHERE last_connection_at <= :cutoff)
"""


def _admin(url: str):
    return create_engine(url, isolation_level="AUTOCOMMIT")


def _url(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def build(admin, url: str, name: str, subjects: int, master_key: str) -> None:
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    db_url = _url(url, name)
    ctx = build_context(Settings(database_url=db_url, master_key=master_key))
    initialise(ctx)
    ctx.engine.dispose()
    engine = _admin(db_url)
    with engine.connect() as conn:
        for statement in POPULATE.split(";"):
            if statement.strip():
                conn.execute(
                    text(statement),
                    {"as_of": AS_OF, "quiet": QUIET_SHARE, "n": subjects, "logs": LOGS},
                )
    engine.dispose()


def run_tutela(url: str, name: str, master_key: str) -> float:
    return timed_run(build_context(Settings(database_url=_url(url, name), master_key=master_key)))


def run_bare(admin, url: str, source: str, name: str) -> tuple[float, int]:
    """The plain statement on a copy of the same database: seconds, logs deleted."""
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{source}"'))
    engine = create_engine(_url(url, name))
    with engine.begin() as conn:
        started = time.perf_counter()
        deleted = conn.execute(text(BARE), {"cutoff": _cutoff()}).rowcount
        elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed, deleted


def _cutoff() -> date:
    """The last connection day whose logs have expired, from the bundled policy's rule."""
    (months,) = (step.months for step in steps(load_policy()) if step.connections)
    return latest_anchor(AS_OF, months)


def count_logs(url: str, name: str) -> int:
    engine = create_engine(_url(url, name))
    with engine.connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM connections")).scalar_one()
    engine.dispose()
    return count


def plan(url: str, name: str) -> str:
    """The query plan of the statement a retention batch runs on the logs, for one batch of
    quiet subjects loaded as the run loads them."""
    engine = create_engine(_url(url, name))
    statement = delete(Connection.__table__).where(
        Connection.__table__.c.subject_id.in_(flows._IN_PART.params(part=0))
    )
    with engine.begin() as conn:
        flows.batch_t.create(conn)
        conn.execute(
            text(
                "INSERT INTO retention_batch (part, subject_id, emptied) SELECT 0, id, false "
                "FROM subjects WHERE last_connection_at <= :cutoff ORDER BY id LIMIT :batch"
            ),
            {"cutoff": _cutoff(), "batch": flows.BATCH},
        )
        sql = statement.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True})
        rows = conn.execute(text(f"EXPLAIN {sql}"))
        lines = rows.scalars().all()
        conn.rollback()
    engine.dispose()
    return "\n".join(f"    {line}" for line in lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=100_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--url", default=os.environ.get("TUTELA_BENCH_POSTGRES_URL", DEFAULT_URL))
    args = parser.parse_args()
    admin = _admin(args.url)
    master_key = base64.b64encode(os.urandom(32)).decode()
    rows = []
    try:
        for size in (args.small, args.large):
            name, bare = f"tutela_bench_{size}", f"tutela_bench_{size}_bare"
            build(admin, args.url, name, size, master_key)
            before = count_logs(args.url, name)
            if size == args.large:
                query_plan = plan(args.url, name)
            t_bare, deleted = run_bare(admin, args.url, name, bare)
            t_tutela = run_tutela(args.url, name, master_key)
            left = count_logs(args.url, name)
            rows.append((size, before, before - left, deleted, t_tutela, t_bare))
    finally:
        with admin.connect() as conn:
            for size in (args.small, args.large):
                for name in (f"tutela_bench_{size}", f"tutela_bench_{size}_bare"):
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()
    print(f"Expiring connection logs on PostgreSQL, as of {AS_OF} (one year after the last one)")
    print(
        f"{'logs':>12}{'expired':>11}{'tutela s':>10}{'µs/log':>8}"
        f"{'plain SQL s':>13}{'µs/log':>8}{'ratio':>7}"
    )
    for _size, before, expired, deleted, t_tutela, t_bare in rows:
        print(
            f"{before:>12,}{expired:>11,}{t_tutela:>10.2f}{t_tutela / expired * 1e6:>8.1f}"
            f"{t_bare:>13.2f}{t_bare / deleted * 1e6:>8.1f}{t_tutela / t_bare:>7.2f}"
        )
        if expired != deleted:
            print(f"WARNING: tutela expired {expired:,} logs, the plain statement {deleted:,}")
    (small, *_s), (large, *_l) = rows[0], rows[1]
    per_log = [r[4] / r[2] for r in rows]
    print(
        f"cost per expired log, {large // small}x the logs: x{per_log[1] / per_log[0]:.2f} "
        "(flat means expiry costs what it deletes, not what the table holds)"
    )
    print("plan of one batch's delete (10,000 subjects):")
    print(query_plan)


if __name__ == "__main__":
    main()
