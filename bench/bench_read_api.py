"""Audited, purpose-checked single-subject reads over HTTP: Tutela against a bare endpoint.

On each engine, both serve the same database (100,000 subjects with three connection logs
each, one copy each) with the same number of uvicorn processes, both up side by side, and
wrk drives each in turn with 16 connections reading random subjects, round after round: on a
shared host whose speed drifts, both meet the same drift within a round, and the figure is
the median of the rounds' ratios. Tutela goes through authentication, the policy gate
(purpose, role, consent, objections, active dates), decryption and the audit trail; the bare
endpoint checks the key, decrypts the same values and appends the same audit row, with the
raw driver: sqlite3 (bench/bare_read_app.py) or psycopg (bench/bare_read_app_pg.py). Target:
Tutela at 0.6 of the bare endpoint or more, on each engine. Needs wrk (`apt-get install
wrk`; `make bench` does it).

PostgreSQL: databases of their own are created on the server of `--url` (default the local
`postgres`, `TUTELA_BENCH_POSTGRES_URL`) and dropped at the end; `--engines sqlite` skips it.

    python bench/bench_read_api.py [--subjects N] [--seconds S] [--rounds R] [--workers W]
        [--engines sqlite,postgresql]
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

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench_import import application_key, make_records
from tutela.bootstrap import initialise
from tutela.clock import now
from tutela.context import build_context
from tutela.crypto.master_key import read_key_file
from tutela.settings import Settings
from tutela.subjects.importer import import_file

HERE = Path(__file__).parent
PURPOSE = "connection"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DATABASE = "tutela_bench_read"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(workdir: Path, url: str, subjects: int) -> tuple[str, str]:
    """A database of `subjects` people at `url`, an API key of the `application` role, the
    master key."""
    settings = Settings(database_url=url, key_file=workdir / "tutela.key")
    ctx = build_context(settings)
    initialise(ctx)
    source = workdir / "subjects.jsonl"
    with source.open("w") as handle:
        for record in make_records(subjects):
            handle.write(json.dumps(record) + "\n")
    import_file(
        engine=ctx.engine, keyring=ctx.open_keyring(), rules=ctx.rules, path=source, at=now()
    )
    key = application_key(ctx)
    ctx.engine.dispose()
    return key, read_key_file(workdir / "tutela.key").active.to_text()


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


def run_engine(engine: str, args: argparse.Namespace, workdir: Path) -> dict[str, list[tuple]]:
    """Tutela's and the bare endpoint's figures on one engine, each on its own copy, round
    by round."""
    if engine == "sqlite":
        db = workdir / "tutela.db"
        url = f"sqlite:///{db}"
        key, master = prepare(workdir, url, args.subjects)
        shutil.copy(db, workdir / "bare.db")
        bare_app, bare_env = "bare_read_app:app", {"BENCH_DB": str(workdir / "bare.db")}
        return _pair(url, bare_app, bare_env, key, master, args, workdir)
    admin = create_engine(args.url, isolation_level="AUTOCOMMIT")
    names = (f"{DATABASE}_tutela", f"{DATABASE}_bare")
    try:
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{names[0]}"'))
        url = make_url(args.url).set(database=names[0]).render_as_string(hide_password=False)
        key, master = prepare(workdir, url, args.subjects)
        with admin.connect() as conn:  # the same store, for the bare endpoint to write to
            conn.execute(text(f'CREATE DATABASE "{names[1]}" TEMPLATE "{names[0]}"'))
        bare_url = make_url(args.url).set(database=names[1], drivername="postgresql")
        bare_env = {"BENCH_DSN": bare_url.render_as_string(hide_password=False)}
        return _pair(url, "bare_read_app_pg:app", bare_env, key, master, args, workdir)
    finally:
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _pair(url, bare_app, bare_env, key, master, args, workdir) -> dict[str, list[tuple]]:
    """Both servers up side by side, driven in turn, round after round: a machine whose
    speed drifts (a shared host) slows both alike rather than the one measured second."""
    ports = {"tutela": free_port(), "bare": free_port()}
    tutela = [sys.executable, "-m", "tutela.cli", "serve", "--port", str(ports["tutela"])]
    tutela += ["--workers", str(args.workers)]
    env = {"TUTELA_DATABASE_URL": url, "TUTELA_KEY_FILE": str(workdir / "tutela.key")}
    bare = [sys.executable, "-m", "uvicorn", bare_app, "--port", str(ports["bare"])]
    bare += ["--workers", str(args.workers), "--no-access-log", "--app-dir", str(HERE)]
    servers = [serve(tutela, env, ports["tutela"])]
    try:
        servers.append(serve(bare, {**bare_env, "BENCH_MASTER": master}, ports["bare"]))
        results: dict[str, list[tuple]] = {"tutela": [], "bare": []}
        for _ in range(args.rounds):
            for name in ("tutela", "bare"):
                results[name].append(drive(ports[name], args.seconds, args.subjects, key))
        return results
    finally:
        for process in servers:
            process.terminate()
            process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=100_000)
    parser.add_argument("--seconds", type=int, default=8, help="of each round, for each server")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--url", default=os.environ.get("TUTELA_BENCH_POSTGRES_URL", PG_URL))
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    print(
        f"Audited single-subject reads over HTTP, {args.subjects:,} subjects, "
        f"16 connections, {args.workers} server processes, {args.rounds} rounds of "
        f"{args.seconds} s for each server in turn (median rates; the ratio is the median of the rounds' ratios)"
    )
    print(f"{'':40}{'requests/s':>12}{'p99 ms':>10}{'errors':>8}")
    for engine in args.engines.split(","):
        with tempfile.TemporaryDirectory(prefix="tutela-bench-") as tmp:
            results = run_engine(engine, args, Path(tmp))
        for name, label in (("tutela", "tutela GET /subjects/{id}"), ("bare", "bare endpoint")):
            rounds = sorted(results[name])
            rate, p99, _ = rounds[len(rounds) // 2]
            errors = sum(r[2] for r in rounds)
            print(f"{engine + ' ' + label:40}{rate:>12,.0f}{p99:>10.1f}{errors:>8}")
        # Each round's ratio pairs two runs a few seconds apart, which met the same drift of
        # the host; the median of those is the figure (the medians above come from rounds
        # that may lie minutes apart).
        paired = [t[0] / b[0] for t, b in zip(results["tutela"], results["bare"], strict=True)]
        ratio = sorted(paired)[len(paired) // 2]
        each = ", ".join(f"{r:.2f}" for r in paired)
        print(f"{engine} ratio tutela/bare: {ratio:.2f}   (target: >= 0.6; rounds: {each})")


if __name__ == "__main__":
    main()
