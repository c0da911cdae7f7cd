"""A breach's scope by principal and window over a large trail, against the bare query.

The trail holds N events (default 10,000,000) of 200 principals reading 1,000,000 subjects
over a year (rows written straight into `audit_events`: the chain plays no part in the
scope). `tutela breaches scope --principal P --from --until` is timed finding the people
P read in one week (`breaches.service.read_by`), beside the bare SQL doing the same indexed
select with sqlite3, in the same run. Target: under 1 s on 10,000,000 events.

    python bench/bench_breach_scope.py [--events N]
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tutela.breaches.service import read_by
from tutela.db import make_engine, session_scope
from tutela.migrations import upgrade

PRINCIPALS = 200
SUBJECTS = 1_000_000
START = datetime(2026, 1, 1, tzinfo=UTC)
CHUNK = 100_000


def fill(db: Path, events: int) -> None:
    rng = random.Random(5)
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    columns = (
        "seq, at, principal, action, subject_id, categories, purpose, outcome, reason, "
        "policy_version, detail, prev_hash, hash, chain_key_id"
    )
    seconds = 365 * 86400
    for first in range(0, events, CHUNK):
        rows = []
        for seq in range(first + 1, min(first + CHUNK, events) + 1):
            at = START + timedelta(seconds=seconds * seq // events)
            rows.append(
                (
                    seq,
                    at.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds"),
                    f"principal-{rng.randrange(PRINCIPALS)}",
                    "read",
                    f"{rng.randrange(SUBJECTS):032x}",
                    "identification,technical",
                    "support",
                    "allowed" if rng.random() < 0.95 else "denied",
                    "",
                    "bench",
                    "{}",
                    "",
                    "",
                    "bench",
                )
            )
        conn.execute("BEGIN")
        conn.executemany(
            f"INSERT INTO audit_events ({columns}) VALUES ({', '.join('?' * 14)})", rows
        )
        conn.execute("COMMIT")
    conn.close()


def bare(db: Path, principal: str, start: datetime, end: datetime) -> set[str]:
    conn = sqlite3.connect(db)
    found = {
        subject
        for subject, categories in conn.execute(
            "SELECT subject_id, categories FROM audit_events WHERE principal = ? AND at >= ? "
            "AND at < ? AND action = 'read' AND outcome = 'allowed' AND subject_id IS NOT NULL",
            (principal, str(start.replace(tzinfo=None)), str(end.replace(tzinfo=None))),
        )
        if categories
    }
    conn.close()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tutela-bench-") as tmp:
        db = Path(tmp) / "tutela.db"
        engine = make_engine(f"sqlite:///{db}")
        upgrade(engine)
        started = time.perf_counter()
        fill(db, args.events)
        built = time.perf_counter() - started
        principal, start = "principal-7", START + timedelta(days=180)
        end = start + timedelta(days=7)
        bare(db, principal, start, end)  # both read the index from a warm cache
        started = time.perf_counter()
        with session_scope(engine, write=False) as session:
            found = read_by(session, principal, (start, end))
        t_tutela = time.perf_counter() - started
        started = time.perf_counter()
        expected = bare(db, principal, start, end)
        t_bare = time.perf_counter() - started
        engine.dispose()
    assert set(found) == expected, "the scope and the bare query disagree"
    print(
        f"Breach scope by principal and window, SQLite, {args.events:,} events (built in {built:.0f} s)"
    )
    print(f"{len(found):,} people read by {principal} in one week")
    print(f"{'':34}{'seconds':>10}")
    print(f"{'tutela breaches scope (read_by)':34}{t_tutela:>10.3f}")
    print(f"{'bare indexed SQL':34}{t_bare:>10.3f}")
    print(f"ratio tutela/bare: {t_tutela / t_bare:.2f}   (target: tutela under 1 s)")


if __name__ == "__main__":
    main()
