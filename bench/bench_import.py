"""Import throughput on SQLite: Tutela's import against a bare script doing the same work.

Both write the same records into the same schema (Tutela's migrations) in fresh database
files. The bare script parses each line, makes one data key per subject and wraps it,
encrypts each identification field, each connection, the payment and the enriched values,
blind-indexes e-mail and phone, and inserts with one executemany per table per batch. It
skips what only the product does: validation against the policy, provenance, updates of
known subjects. The figure that matters is the ratio, which survives a noisy machine.

    python bench/bench_import.py [--subjects N] [--runs R]
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import random
import sqlite3
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tutela.access.flows import add_principal
from tutela.access.gate import Actor
from tutela.bootstrap import initialise
from tutela.clock import now
from tutela.context import build_context
from tutela.db import session_scope
from tutela.settings import Settings
from tutela.subjects.importer import import_file

FIRST = ["Ana", "Louis", "Chloé", "Hugo", "Emma", "Jules", "Léa", "Noah", "Alice", "Tom"]
LAST = ["Roy", "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Petit", "Durand"]


def application_key(ctx) -> str:
    """A new API key of the `application` role, that the HTTP benchmarks read with."""
    with session_scope(ctx.engine) as session:
        _, key = add_principal(
            session=session,
            policy=ctx.policy,
            actor=Actor.console(),
            name="bench-app",
            roles=["application"],
            active_from=None,
            active_until=None,
            at=now(),
        )
    return key


def make_records(count: int, seed: int = 1) -> list[dict]:
    """Records shaped like the issue's example, each with three connection logs."""
    rng = random.Random(seed)
    base = datetime(2023, 1, 1, tzinfo=UTC)
    records = []
    for n in range(count):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        seen = base + timedelta(minutes=rng.randrange(500_000))
        records.append(
            {
                "external_id": f"crm-{n}",
                "kind": "prospect",
                "source": "website_contact",
                "identification": {
                    "first_name": first,
                    "last_name": last,
                    "email": f"{first.lower()}.{last.lower()}.{n}@example.org",
                    "phone": f"+33 6 {rng.randrange(10**8):08d}",
                },
                "provided_by_subject": ["identification"],
                "lifecycle": {"first_contact_at": "2022-05-01", "last_contact_at": "2023-03-01"},
                "consents": [
                    {
                        "purpose": "profiling",
                        "given_at": "2023-03-01T10:00:00Z",
                        "channel": "web_form",
                    }
                ],
                "connections": [
                    {
                        "at": (seen + timedelta(hours=h)).isoformat().replace("+00:00", "Z"),
                        "ip": f"203.0.{rng.randrange(256)}.{rng.randrange(256)}",
                        "device": "desktop",
                        "browser_language": "fr-FR",
                    }
                    for h in range(3)
                ],
                "payments": [
                    {
                        "at": "2023-02-10T12:00:00Z",
                        "method": "card",
                        "card_last4": "4242",
                        "retain_consent": False,
                    }
                ],
                "enriched": {"segment": "smb", "score": 0.7},
            }
        )
    return records


def fresh_tutela(workdir: Path):
    settings = Settings(
        database_url=f"sqlite:///{workdir / 'tutela.db'}", key_file=workdir / "tutela.key"
    )
    ctx = build_context(settings)
    initialise(ctx)
    return ctx


def run_product(source: Path, workdir: Path) -> float:
    ctx = fresh_tutela(workdir)
    started = time.perf_counter()
    report = import_file(
        engine=ctx.engine, keyring=ctx.open_keyring(), rules=ctx.rules, path=source, at=now()
    )
    elapsed = time.perf_counter() - started
    assert report.created == report.read and not report.invalid
    ctx.engine.dispose()
    return elapsed


def _aad(subject_id: str, category: str, slot: str) -> bytes:
    return f"{subject_id}\x1f{category}\x1f{slot}".encode()


def _seal(aead: AESGCM, value: object, ad: bytes) -> bytes:
    nonce = os.urandom(12)
    return nonce + aead.encrypt(nonce, orjson.dumps(value), ad)


def _utc(text: str) -> str:
    moment = datetime.fromisoformat(text).astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(sep=" ", timespec="microseconds")


def run_bare(source: Path, workdir: Path, batch: int = 2000) -> float:
    """The same storage work with the standard library, cryptography and sqlite3 only."""
    fresh_tutela(workdir).engine.dispose()  # the same schema, created before timing
    master = AESGCM(os.urandom(32))
    index_key = os.urandom(32)
    db = sqlite3.connect(workdir / "tutela.db")
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA foreign_keys=ON")
    db.execute("PRAGMA secure_delete=ON")
    db.execute("PRAGMA cache_size=-65536")
    stamp = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
    tables: dict[str, list[tuple]] = {k: [] for k in ("s", "k", "v", "c", "p", "n")}
    sql = {
        "s": "INSERT INTO subjects (id, external_id, kind, source, created_at, updated_at, "
        "first_contact_at, last_contact_at) VALUES (?,?,?,?,?,?,?,?)",
        "k": "INSERT INTO data_keys (subject_id, wrapped, master_key_id) VALUES (?,?,?)",
        "v": "INSERT INTO personal_data (subject_id, category, field, ciphertext, blind_index, "
        "source, form, collected_at, provided_by_subject) VALUES (?,?,?,?,?,?,?,?,?)",
        "c": "INSERT INTO connections (subject_id, at, ciphertext) VALUES (?,?,?)",
        "p": "INSERT INTO payments (subject_id, at, ciphertext, retain_consent) VALUES (?,?,?,?)",
        "n": "INSERT INTO consents (subject_id, purpose, given_at, channel) VALUES (?,?,?,?)",
    }

    def flush() -> None:
        for name, rows in tables.items():
            db.executemany(sql[name], rows)
            rows.clear()

    started = time.perf_counter()
    count = 0
    with source.open("rb") as handle:
        for line in handle:
            r = orjson.loads(line)
            sid = uuid.uuid4().hex
            key = os.urandom(32)
            nonce = os.urandom(12)
            wrapped = nonce + master.encrypt(nonce, key, b"tutela-wrap\x1f" + sid.encode())
            aead = AESGCM(key)
            life = r["lifecycle"]
            tables["s"].append(
                (
                    sid,
                    r["external_id"],
                    r["kind"],
                    r["source"],
                    stamp,
                    stamp,
                    life["first_contact_at"],
                    life["last_contact_at"],
                )
            )
            tables["k"].append((sid, wrapped, "bench"))
            for category in ("identification", "enriched"):
                for field, value in r[category].items():
                    index = None
                    if field in ("email", "phone"):
                        normal = value.casefold() if field == "email" else value.replace(" ", "")
                        index = hmac.new(
                            index_key, f"{field}\x1f{normal}".encode(), hashlib.sha256
                        ).hexdigest()[:32]
                    tables["v"].append(
                        (
                            sid,
                            category,
                            field,
                            _seal(aead, value, _aad(sid, category, field)),
                            index,
                            r["source"],
                            None,
                            stamp,
                            category == "identification",
                        )
                    )
            for c in r["connections"]:
                at = _utc(c.pop("at"))
                tables["c"].append((sid, at, _seal(aead, c, _aad(sid, "technical", at))))
            for p in r["payments"]:
                at = _utc(p.pop("at"))
                retain = p.pop("retain_consent")
                tables["p"].append((sid, at, _seal(aead, p, _aad(sid, "banking", at)), retain))
            for consent in r["consents"]:
                tables["n"].append(
                    (sid, consent["purpose"], _utc(consent["given_at"]), consent["channel"])
                )
            count += 1
            if count % batch == 0:
                flush()
    flush()
    db.commit()
    elapsed = time.perf_counter() - started
    db.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tutela-bench-") as tmp:
        tmp_path = Path(tmp)
        source = tmp_path / "subjects.jsonl"
        with source.open("w") as handle:
            for record in make_records(args.subjects):
                handle.write(json.dumps(record) + "\n")
        product, bare = [], []
        for run in range(args.runs):  # interleaved, so that drift hits both alike
            for name, runner, times in (("tutela", run_product, product), ("bare", run_bare, bare)):
                workdir = tmp_path / f"{name}-{run}"
                workdir.mkdir()
                times.append(runner(source, workdir))
        p_rate = args.subjects / statistics.median(product)
        b_rate = args.subjects / statistics.median(bare)
    print(
        f"Import of {args.subjects:,} subjects (3 connections, 1 payment, 1 consent each), "
        f"SQLite, median of {args.runs} runs"
    )
    print(f"{'':24}{'seconds':>10}{'subjects/s':>14}")
    print(f"{'tutela subjects import':24}{statistics.median(product):>10.2f}{p_rate:>14,.0f}")
    print(f"{'bare script':24}{statistics.median(bare):>10.2f}{b_rate:>14,.0f}")
    print(f"ratio tutela/bare: {p_rate / b_rate:.2f}   (target: >= 0.50, and >= 10,000 subjects/s)")


if __name__ == "__main__":
    main()
