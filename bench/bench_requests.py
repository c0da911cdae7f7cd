"""Rights requests on SQLite: an access export and an erasure for one person, at two sizes.

Two stores are built, of 10,000 and of 1,000,000 people (the import's records, three
connection logs each), plus 30 people who each have a year of daily connection logs and
twelve payments. For each of those, a verified access request is processed and its answer
written as JSON (decision, decryption, copy, audit), and a verified erasure is processed
(set-based deletion, key destruction, audit, recipients' notices queued). The benchmark
prints the median and 95th percentile at both sizes and the ratio of the large store to the
small one: the cost of one person's request must not grow with the store.

    python bench/bench_requests.py [--large N] [--small N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from bench_import import make_records
from tutela.access.gate import Actor
from tutela.bootstrap import initialise
from tutela.clock import now
from tutela.context import build_context
from tutela.db import session_scope
from tutela.requests import flows, intake
from tutela.settings import Settings
from tutela.subjects.importer import import_file

PEOPLE = 30


def heavy_people() -> list[dict]:
    """Clients with a year of daily connections and a payment a month."""
    start = datetime(2025, 11, 1, 8, tzinfo=UTC)
    people = []
    for n in range(PEOPLE):
        people.append(
            {
                "external_id": f"heavy-{n}",
                "kind": "client",
                "source": "registration_form",
                "identification": {
                    "first_name": "Léa",
                    "last_name": "Martin",
                    "email": f"heavy.{n}@example.org",
                    "phone": "+33 6 12 34 56 78",
                    "country": "FR",
                },
                "provided_by_subject": ["identification"],
                "contract": {"plan": "wimi_teamwork", "contract_reference": f"C-{n}"},
                "lifecycle": {
                    "first_contact_at": "2025-10-01",
                    "subscription_started_at": "2025-11-01",
                    "subscription_ended_at": "2026-10-31",
                },
                "connections": [
                    {
                        "at": (start + timedelta(days=d)).isoformat().replace("+00:00", "Z"),
                        "ip": "198.51.100.7",
                        "device": "desktop",
                    }
                    for d in range(365)
                ],
                "payments": [
                    {
                        "at": (start + timedelta(days=30 * m)).isoformat().replace("+00:00", "Z"),
                        "method": "card",
                        "card_last4": "4242",
                        "retain_consent": False,
                    }
                    for m in range(12)
                ],
            }
        )
    return people


def build(workdir: Path, size: int):
    settings = Settings(database_url=f"sqlite:///{workdir / 'tutela.db'}", key_file=workdir / "k")
    ctx = build_context(settings)
    initialise(ctx)
    source = workdir / "people.jsonl"
    with source.open("w") as handle:
        for record in make_records(size):
            handle.write(json.dumps(record) + "\n")
        for record in heavy_people():
            handle.write(json.dumps(record) + "\n")
    import_file(
        engine=ctx.engine, keyring=ctx.open_keyring(), rules=ctx.rules, path=source, at=now()
    )
    source.unlink()
    return ctx


def verified(ctx, type_: str, external_id: str) -> str:
    with session_scope(ctx.engine) as session:
        keyring = ctx.keyring(session)
        request = intake.open_request(
            session=session,
            keyring=keyring,
            rules=ctx.rules,
            actor=Actor.console(),
            type_=type_,
            external_id=external_id,
            email=None,
            channel="post",
            received=now().date(),
            at=now(),
        )
        intake.verify(
            session=session,
            keyring=keyring,
            rules=ctx.rules,
            actor=Actor.console(),
            request_id=request.id,
            code=None,
            id_checked_by="bench",
            at=now(),
        )
        return request.id


def process(ctx, request_id: str, out: Path | None) -> float:
    """Milliseconds to process a verified request in its own transaction, and for an access
    request to export its copy (made then, once) in another."""
    started = time.perf_counter()
    with session_scope(ctx.engine) as session:
        flows.process(
            session=session,
            keyring=ctx.keyring(session),
            rules=ctx.rules,
            actor=Actor.console(),
            request_id=request_id,
            at=now(),
        )
    if out is not None:
        with session_scope(ctx.engine, write=False) as session:
            copy = flows.export_copy(
                session=session,
                keyring=ctx.keyring(session),
                rules=ctx.rules,
                actor=Actor.console(),
                request_id=request_id,
                fmt="json",
                at=now(),
            )
        out.write_text(copy)
    return (time.perf_counter() - started) * 1000


def measure(size: int) -> dict[str, list[float]]:
    with tempfile.TemporaryDirectory(prefix="tutela-bench-") as tmp:
        workdir = Path(tmp)
        ctx = build(workdir, size)
        access = [verified(ctx, "access", f"heavy-{n}") for n in range(PEOPLE)]
        spread = size // PEOPLE  # people across the store
        erasure = [verified(ctx, "erasure", f"crm-{n * spread}") for n in range(PEOPLE)]
        times = {
            "access": [process(ctx, rid, workdir / f"{rid}.json") for rid in access],
            "erasure": [process(ctx, rid, None) for rid in erasure],
        }
        copy = json.loads((workdir / f"{access[0]}.json").read_text())
        assert len(copy["copy"]["personal_data"]["technical"]) == 365, "a year of logs"
        with session_scope(ctx.engine, write=False) as session:
            left = session.execute(
                text("SELECT count(*) FROM subjects WHERE external_id LIKE 'crm-%'")
            ).scalar()
        assert left == size - PEOPLE, "every erasure erased its person"
        ctx.engine.dispose()
    return times


def summary(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[int(len(ordered) * 0.95) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    args = parser.parse_args()
    results = {size: measure(size) for size in (args.small, args.large)}
    print(f"Rights requests, SQLite, one person's request, {PEOPLE} people per measure")
    print(f"{'':34}{'median ms':>10}{'p95 ms':>9}{'target':>9}")
    for kind, target in (("access", 50), ("erasure", 20)):
        for size in (args.small, args.large):
            median, p95 = summary(results[size][kind])
            print(
                f"{kind + f' ({size:,} people)':34}{median:>10.1f}{p95:>9.1f}{'< ' + str(target):>9}"
            )
        ratio = summary(results[args.large][kind])[0] / summary(results[args.small][kind])[0]
        print(f"{kind} large/small median ratio: {ratio:.2f}   (flat: close to 1)")


if __name__ == "__main__":
    main()
