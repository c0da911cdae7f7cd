"""Audited, purpose-checked single-subject reads over HTTP: Tutela against a bare endpoint.

Both serve the same SQLite database (100,000 subjects with three connection logs each, one
copy each) with the same number of uvicorn processes, and wrk drives each with 16
connections reading random subjects. Tutela goes through authentication, the policy gate
(purpose, role, consent, objections, active dates), decryption and the audit trail; the bare
endpoint (bench/bare_read_app.py) checks the key, decrypts the same values and appends the
same audit row, with raw sqlite3. Needs wrk (`apt-get install wrk`; `make bench` does it).

    python bench/bench_read_api.py [--subjects N] [--seconds S] [--workers W]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bench_import import make_records
from tutela.access.flows import add_principal
from tutela.access.gate import Actor
from tutela.bootstrap import initialise
from tutela.clock import now
from tutela.context import build_context
from tutela.crypto.master_key import read_key_file
from tutela.db import session_scope
from tutela.settings import Settings
from tutela.subjects.importer import import_file

HERE = Path(__file__).parent
PURPOSE = "connection"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(workdir: Path, subjects: int) -> tuple[Path, str, str]:
    """A database of `subjects` people, an API key of the `application` role, the master key."""
    db = workdir / "tutela.db"
    settings = Settings(database_url=f"sqlite:///{db}", key_file=workdir / "tutela.key")
    ctx = build_context(settings)
    initialise(ctx)
    source = workdir / "subjects.jsonl"
    with source.open("w") as handle:
        for record in make_records(subjects):
            handle.write(json.dumps(record) + "\n")
    with session_scope(ctx.engine) as session:
        import_file(
            session=session, keyring=ctx.keyring(session), rules=ctx.rules, path=source, at=now()
        )
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
    ctx.engine.dispose()
    return db, key, read_key_file(workdir / "tutela.key").active.to_text()


def serve(command: list[str], env: dict, port: int) -> subprocess.Popen:
    process = subprocess.Popen(
        command, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/docs", timeout=1)
            return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"server did not start: {process.stderr.read().decode()[-2000:]}")


def drive(port: int, seconds: int, subjects: int, key: str) -> tuple[float, float, int]:
    """(requests per second, p99 latency in ms, non-2xx responses) measured by wrk."""
    env = {
        **os.environ,
        "BENCH_SUBJECTS": str(subjects),
        "BENCH_KEY": key,
        "BENCH_PURPOSE": PURPOSE,
    }
    url = f"http://127.0.0.1:{port}"
    script = str(HERE / "random_read.lua")
    subprocess.run(
        ["wrk", "-t2", "-c16", "-d2s", "-s", script, url], env=env, capture_output=True, check=True
    )  # warm-up
    out = subprocess.run(
        ["wrk", "-t2", "-c16", f"-d{seconds}s", "--latency", "-s", script, url],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", out).groups()
    p99 = float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rate, p99, int(errors.group(1)) if errors else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=100_000)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    with tempfile.TemporaryDirectory(prefix="tutela-bench-") as tmp:
        workdir = Path(tmp)
        db, key, master = prepare(workdir, args.subjects)
        bare_db = workdir / "bare.db"
        shutil.copy(db, bare_db)
        results = {}
        port = free_port()
        tutela = [
            sys.executable,
            "-m",
            "tutela.cli",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(args.workers),
        ]
        env = {
            "TUTELA_DATABASE_URL": f"sqlite:///{db}",
            "TUTELA_KEY_FILE": str(workdir / "tutela.key"),
        }
        process = serve(tutela, env, port)
        try:
            results["tutela"] = drive(port, args.seconds, args.subjects, key)
        finally:
            process.terminate()
            process.wait()
        port = free_port()
        bare = [
            sys.executable,
            "-m",
            "uvicorn",
            "bare_read_app:app",
            "--port",
            str(port),
            "--workers",
            str(args.workers),
            "--no-access-log",
            "--app-dir",
            str(HERE),
        ]
        process = serve(bare, {"BENCH_DB": str(bare_db), "BENCH_MASTER": master}, port)
        try:
            results["bare"] = drive(port, args.seconds, args.subjects, key)
        finally:
            process.terminate()
            process.wait()
    print(
        f"Audited single-subject reads over HTTP, SQLite, {args.subjects:,} subjects, "
        f"16 connections, {args.workers} server processes, {args.seconds} s each"
    )
    print(f"{'':28}{'requests/s':>12}{'p99 ms':>10}{'errors':>8}")
    for name, label in (("tutela", "tutela GET /subjects/{id}"), ("bare", "bare endpoint")):
        rate, p99, errors = results[name]
        print(f"{label:28}{rate:>12,.0f}{p99:>10.1f}{errors:>8}")
    ratio = results["tutela"][0] / results["bare"][0]
    print(f"ratio tutela/bare: {ratio:.2f}   (target: >= 1,500 requests/s, p99 < 50 ms; aim 0.5)")


if __name__ == "__main__":
    main()
