"""Audit trail throughput: bulk appends and chain verification, each against a bare loop.

Append: Tutela's `audit.record` writing events in batches of 1,000 (one transaction each)
against a bare script that links the same events into the same keyed chain (HMAC-SHA256
under the chain key) and inserts them with sqlite3's executemany. Verify: `audit.verify`
over the whole chain against a bare loop that reads the rows with sqlite3 and recomputes
each link.

    python bench/bench_audit.py [--events N]
"""

from __future__ import annotations

import argparse
import hmac
import sqlite3
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson

from tutela.audit.chain import GENESIS, chain_with
from tutela.audit.service import Event, ensure_head, record
from tutela.audit.verify import verify
from tutela.crypto.master_key import MasterKey
from tutela.db import make_engine, session_scope
from tutela.migrations import upgrade

MASTER = MasterKey.generate()
KEYS = {MASTER.key_id: MASTER.chain_key}

BATCH = 1000


def events(n: int) -> list[Event]:
    return [
        Event(
            f"principal-{i % 50}",
            "read",
            "allowed",
            subject_id=f"{i:032x}",
            categories=("identification", "technical"),
            purpose="support",
        )
        for i in range(n)
    ]


def fresh(path: Path):
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    chain_with(engine, lambda: MASTER)
    with session_scope(engine) as session:
        ensure_head(session)
    return engine


def tutela_append(path: Path, batch_list: list[list[Event]]) -> float:
    engine = fresh(path)
    at = datetime.now(UTC)
    started = time.perf_counter()
    for batch in batch_list:
        with session_scope(engine) as session:
            record(session, batch, at=at, policy_version="bench")
    elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed


def bare_append(path: Path, batch_list: list[list[Event]]) -> float:
    fresh(path).dispose()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous=NORMAL")
    stamp = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    started = time.perf_counter()
    seq, last = 0, GENESIS
    for batch in batch_list:
        rows = []
        for e in batch:
            seq += 1
            fields = [
                e.principal,
                e.action,
                e.subject_id,
                ",".join(sorted(e.categories)),
                e.purpose,
                e.outcome,
                e.reason,
                "bench",
                e.detail,
            ]
            message = last.encode() + orjson.dumps(
                [seq, stamp, *fields], option=orjson.OPT_SORT_KEYS
            )
            digest = hmac.digest(MASTER.chain_key, message, "sha256").hex()
            rows.append((seq, stamp, *fields[:-1], "{}", last, digest, MASTER.key_id))
            last = digest
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany("INSERT INTO audit_events VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
        conn.execute("UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1", (seq, last))
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def tutela_verify(path: Path) -> tuple[float, int]:
    engine = make_engine(f"sqlite:///{path}")
    started = time.perf_counter()
    with session_scope(engine, write=False) as session:
        report = verify(session, keys=KEYS)
    elapsed = time.perf_counter() - started
    assert report.intact
    engine.dispose()
    return elapsed, report.checked


def bare_verify(path: Path) -> float:
    conn = sqlite3.connect(path)
    started = time.perf_counter()
    prev = GENESIS
    cursor = conn.execute(
        "SELECT seq, at, principal, action, subject_id, categories, purpose, outcome, reason, "
        "policy_version, detail, prev_hash, hash, chain_key_id FROM audit_events ORDER BY seq"
    )
    for seq, at, *fields, detail, prev_hash, stored, key_id in cursor:
        payload = orjson.dumps(
            [seq, at, *fields, orjson.loads(detail)], option=orjson.OPT_SORT_KEYS
        )
        link = hmac.digest(KEYS[key_id], prev.encode() + payload, "sha256").hex()
        if prev_hash != prev or link != stored:
            raise SystemExit(f"bare verify: chain broken at {seq}")
        prev = stored
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=500_000)
    args = parser.parse_args()
    all_events = events(args.events)
    batches = [all_events[i : i + BATCH] for i in range(0, len(all_events), BATCH)]
    with tempfile.TemporaryDirectory(prefix="tutela-bench-") as tmp:
        tmp_path = Path(tmp)
        t_append = tutela_append(tmp_path / "tutela.db", batches)
        b_append = bare_append(tmp_path / "bare.db", batches)
        t_verify, checked = tutela_verify(tmp_path / "tutela.db")
        b_verify = bare_verify(tmp_path / "tutela.db")
    n = args.events
    print(f"Audit trail, SQLite, {n:,} events (appends in batches of {BATCH:,})")
    print(f"{'':22}{'tutela/s':>12}{'bare/s':>12}{'ratio':>8}{'target':>12}")
    print(
        f"{'append (events)':22}{n / t_append:>12,.0f}{n / b_append:>12,.0f}"
        f"{b_append / t_append:>8.2f}{'>= 20,000':>12}"
    )
    print(
        f"{'verify (events)':22}{checked / t_verify:>12,.0f}{n / b_verify:>12,.0f}"
        f"{b_verify / t_verify:>8.2f}{'>= 200,000':>12}"
    )


if __name__ == "__main__":
    main()
