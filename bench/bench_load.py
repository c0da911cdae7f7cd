"""Audited reads over HTTP while an import and a retention run write, on SQLite and PostgreSQL.

For each engine, a store of READABLE people (recent, nothing due) and DUE people (prospects
silent for years: the retention run anonymises them and deletes their logs) is served by
`tutela serve`. Client threads read random readable people
(`GET /subjects/{external_id}?purpose=connection`, an API key of the `application` role:
authentication, the policy gate, an audit event, decryption), first alone for the baseline,
then while `tutela subjects import` of PEOPLE new people (three logs, a payment and a consent
each) and `tutela retention run` go on, until both end. Every read must answer 200 within the
timeout; the figures are the read latencies during the writes against the baseline of the
same run. Targets: 0 errors, 0 timeouts, and on SQLite no read waiting more than 1 s (imports
commit in slices readers pass between, `TUTELA_IMPORT_BATCH`).

PostgreSQL: a database of its own is created on the server of `--url` (default the local
`postgres`, `TUTELA_BENCH_POSTGRES_URL`) and dropped at the end; `--engines sqlite` skips it.

    python bench/bench_load.py [--people N] [--readers R] [--seconds S] [--engines sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench_import import application_key, make_records
from tutela.bootstrap import initialise
from tutela.clock import now
from tutela.context import build_context
from tutela.settings import Settings
from tutela.subjects.importer import import_file

PURPOSE = "connection"
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DATABASE = "tutela_bench_load"
BLOCK = 2000  # records generated at a time
NAMES = ("import", "retention")
SLOW = 0.25  # reads slower than this are listed with --verbose


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def people(prefix: str, count: int, *, recent: bool, seed: int) -> Iterator[bytes]:
    """`count` JSON lines shaped like bench_import's records, ids `prefix-N`. Recent people
    have been in touch last month (nothing of theirs is due); the others are the prospects
    of bench_import, silent since 2023 (their data and logs are due)."""
    today = now().date()
    seen = datetime.now(UTC) - timedelta(days=3)
    for start in range(0, count, BLOCK):
        block = make_records(min(BLOCK, count - start), seed=seed + start)
        for n, record in enumerate(block, start=start):
            record["external_id"] = f"{prefix}-{n}"
            record["identification"]["email"] = f"{prefix}.{n}@example.org"
            if recent:
                record["lifecycle"]["last_contact_at"] = str(today - timedelta(days=30))
                for h, connection in enumerate(record["connections"]):
                    at = seen + timedelta(hours=h)
                    connection["at"] = at.isoformat(timespec="seconds").replace("+00:00", "Z")
            yield json.dumps(record).encode() + b"\n"


@dataclass
class Store:
    engine: str
    url: str
    env: dict[str, str]
    key: str


def prepare(engine: str, url: str, workdir: Path, readers: int, due: int) -> Store:
    """A store of `readers` readable and `due` due people, and an `application` API key."""
    env = {
        "TUTELA_DATABASE_URL": url,
        "TUTELA_KEY_FILE": str(workdir / "tutela.key"),
        "TUTELA_OPENGDPR_KEY_FILE": str(workdir / "opengdpr.key"),
        "TUTELA_OPENGDPR_CERTIFICATE_FILE": str(workdir / "opengdpr.pem"),
    }
    settings = Settings(
        database_url=url,
        key_file=workdir / "tutela.key",
        opengdpr_key_file=workdir / "opengdpr.key",
        opengdpr_certificate_file=workdir / "opengdpr.pem",
    )
    ctx = build_context(settings)
    initialise(ctx)
    source = workdir / "base.jsonl"
    with source.open("wb") as handle:
        handle.writelines(people("r", readers, recent=True, seed=1))
        handle.writelines(people("due", due, recent=False, seed=2))
    import_file(
        engine=ctx.engine, keyring=ctx.open_keyring(), rules=ctx.rules, path=source, at=now()
    )
    source.unlink()
    key = application_key(ctx)
    ctx.engine.dispose()
    return Store(engine, url, env, key)


def serve(store: Store, workdir: Path, port: int, workers: int) -> subprocess.Popen:
    command = [sys.executable, "-m", "tutela.cli", "serve", "--port", str(port)]
    log = workdir / "serve.err"
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [*command, "--workers", str(workers)],
            cwd=workdir,
            env={**os.environ, **store.env},
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    process.wait()
    raise SystemExit(f"server did not start: {log.read_text(errors='replace')[-2000:]}")


@dataclass
class Reads:
    latencies: list[float] = field(default_factory=list)  # seconds, of the reads answered 200
    errors: int = 0  # any other answer, or a failed connection
    timeouts: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    slow: list[tuple[float, float]] = field(default_factory=list)  # (began, seconds) over SLOW

    def add(self, other: Reads) -> None:
        self.latencies += other.latencies
        self.errors += other.errors
        self.timeouts += other.timeouts
        self.slow += other.slow
        for status, n in other.statuses.items():
            self.statuses[status] = self.statuses.get(status, 0) + n

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000


def reader(port: int, key: str, readers: int, timeout: float, stop: threading.Event) -> Reads:
    """Read random readable people until `stop`, over one kept-alive connection."""
    reads = Reads()
    rng = random.Random()
    headers = {"Authorization": f"Bearer {key}"}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    while not stop.is_set():
        path = f"/subjects/r-{rng.randrange(readers)}?purpose={PURPOSE}"
        started = time.perf_counter()
        try:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
        except TimeoutError:
            reads.timeouts += 1
            conn.close()
            continue
        except (OSError, http.client.HTTPException) as exc:
            reads.errors += 1
            name = type(exc).__name__
            reads.statuses[name] = reads.statuses.get(name, 0) + 1
            conn.close()
            continue
        elapsed = time.perf_counter() - started
        if response.status == 200:
            reads.latencies.append(elapsed)
            if elapsed > SLOW:
                reads.slow.append((started, elapsed))
        else:
            reads.errors += 1
            reads.statuses[str(response.status)] = reads.statuses.get(str(response.status), 0) + 1
    conn.close()
    return reads


def drive(
    port: int, store: Store, readers: int, clients: int, timeout: float, until: Callable[[], None]
) -> Reads:
    """Reads from `clients` threads until `until()` returns."""
    stop = threading.Event()
    results: list[Reads] = []

    def run() -> None:
        results.append(reader(port, store.key, readers, timeout, stop))

    threads = [threading.Thread(target=run) for _ in range(clients)]
    for thread in threads:
        thread.start()
    try:
        until()
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    total = Reads()
    for part in results:
        total.add(part)
    return total


@dataclass
class Writes:
    started: float  # perf_counter when they began
    ended: dict[str, float] = field(default_factory=dict)  # seconds each took, by name
    failures: list[str] = field(default_factory=list)
    imported: int = 0

    @property
    def seconds(self) -> float:
        return max(self.ended.values())


def write_phase(
    store: Store, workdir: Path, source: Path, names: list[str]
) -> tuple[Writes, Callable[[], None]]:
    """Start the import and the retention run; `wait()` returns once both have ended."""
    env = {**os.environ, **store.env}
    cli = [sys.executable, "-m", "tutela.cli"]
    commands = {
        "import": ["subjects", "import", str(source), "--json"],
        "retention": ["retention", "run", "--json"],  # --json lists every id: to a file
    }
    started = time.perf_counter()
    logs = {name: (workdir / f"{name}.out", workdir / f"{name}.err") for name in names}
    processes = {}
    for name in names:
        command = commands[name]
        out, err = logs[name]
        with out.open("wb") as stdout, err.open("wb") as stderr:
            processes[name] = subprocess.Popen(
                [*cli, *command], cwd=workdir, env=env, stdout=stdout, stderr=stderr
            )
    writes = Writes(started)

    def wait() -> None:
        ended = writes.ended
        while len(ended) < len(processes):
            for name, process in processes.items():
                if name not in ended and process.poll() is not None:
                    ended[name] = time.perf_counter() - started
            time.sleep(0.05)
        for name, process in processes.items():
            out, err = logs[name]
            if process.returncode != 0:
                tail = err.read_text(errors="replace")[-500:]
                writes.failures.append(f"{name}: exit {process.returncode}: {tail}")
            elif name == "import":
                writes.imported = json.loads(out.read_bytes())["created"]

    return writes, wait


@dataclass
class Result:
    engine: str
    baseline: Reads
    loaded: Reads
    writes: Writes
    baseline_seconds: float


def run_engine(engine: str, url: str, workdir: Path, args: argparse.Namespace) -> Result:
    print(f"[{engine}] preparing {args.readers:,} readable and {args.due:,} due people", flush=True)
    store = prepare(engine, url, workdir, args.readers, args.due)
    source = workdir / "import.jsonl"
    with source.open("wb") as handle:
        handle.writelines(people("imp", args.people, recent=False, seed=1000))
    port = free_port()
    server = serve(store, workdir, port, args.workers)
    try:
        drive(port, store, args.readers, args.clients, args.timeout, lambda: time.sleep(2))
        print(f"[{engine}] baseline: {args.seconds} s of reads, no writes", flush=True)
        began = time.perf_counter()
        baseline = drive(
            port,
            store,
            args.readers,
            args.clients,
            args.timeout,
            lambda: time.sleep(args.seconds),
        )
        baseline_seconds = time.perf_counter() - began
        print(f"[{engine}] reads while importing {args.people:,} people and a retention run")
        writes, wait = write_phase(store, workdir, source, args.writes.split(","))
        loaded = drive(port, store, args.readers, args.clients, args.timeout, wait)
    finally:
        server.terminate()
        server.wait()
    return Result(engine, baseline, loaded, writes, baseline_seconds)


def _database_url(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def report(results: list[Result], args: argparse.Namespace) -> None:
    print()
    print(
        f"Audited reads over HTTP while {args.people:,} people are imported and a retention run "
        f"goes on; {args.readers:,} readable and {args.due:,} due people, {args.clients} client "
        f"threads, {args.workers} server processes, timeout {args.timeout:.0f} s"
    )
    print(
        f"{'':34}{'reads':>8}{'reads/s':>9}{'errors':>8}{'timeouts':>9}"
        f"{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}"
    )
    for result in results:
        for label, reads, seconds in (
            ("baseline (no writes)", result.baseline, result.baseline_seconds),
            ("during the writes", result.loaded, result.writes.seconds),
        ):
            print(
                f"{result.engine + ' ' + label:34}{len(reads.latencies):>8,}"
                f"{len(reads.latencies) / seconds:>9,.0f}{reads.errors:>8}{reads.timeouts:>9}"
                f"{reads.percentile(0.50):>9.1f}{reads.percentile(0.99):>9.1f}"
                f"{max(reads.latencies, default=float('nan')) * 1000:>9.1f}"
            )
        base, loaded = result.baseline, result.loaded
        writes = result.writes
        print(
            f"{'':34}ratio during/baseline: p50 x{loaded.percentile(0.5) / base.percentile(0.5):.2f}"
            f", p99 x{loaded.percentile(0.99) / base.percentile(0.99):.2f}; "
            + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in writes.ended.items())
            + (f" ({writes.imported:,} people imported)" if "import" in writes.ended else "")
        )
        if args.verbose:
            for began, seconds in sorted(loaded.slow):
                at = began - writes.started
                print(f"{'':34}slow read at {at:6.2f} s of the writes: {seconds * 1000:.0f} ms")
        if base.statuses or loaded.statuses:
            print(f"{'':34}errors by kind: {base.statuses | loaded.statuses}")
        for failure in writes.failures:
            print(f"{'':34}WRITE FAILED {failure}")
    sqlite = [r for r in results if r.engine == "sqlite"]
    worst = max((max(r.loaded.latencies, default=0) for r in sqlite), default=None)
    failed = sum(r.loaded.errors + r.loaded.timeouts + r.baseline.errors for r in results)
    print(
        "targets: 0 errors and 0 timeouts "
        f"({'met' if not failed else 'MISSED'}); on SQLite no read over 1 s "
        f"({'not run' if worst is None else 'met' if worst <= 1.0 else 'MISSED'})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=200_000, help="people imported")
    parser.add_argument("--readers", type=int, default=10_000, help="readable people")
    parser.add_argument("--due", type=int, default=20_000, help="people the retention run acts on")
    parser.add_argument("--seconds", type=int, default=20, help="baseline duration")
    parser.add_argument("--clients", type=int, default=8, help="reading threads")
    parser.add_argument("--workers", type=int, default=2, help="server processes")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds a read may take")
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--writes", default="import,retention", help="what writes meanwhile")
    parser.add_argument("--verbose", action="store_true", help=f"list reads over {SLOW} s")
    parser.add_argument("--url", default=os.environ.get("TUTELA_BENCH_POSTGRES_URL", DEFAULT_URL))
    args = parser.parse_args()
    results = []
    for engine in args.engines.split(","):
        with tempfile.TemporaryDirectory(prefix="tutela-bench-load-") as tmp:
            workdir = Path(tmp)
            if engine == "sqlite":
                results.append(
                    run_engine(engine, f"sqlite:///{workdir / 'tutela.db'}", workdir, args)
                )
                continue
            admin = create_engine(args.url, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{DATABASE}"'))
                conn.execute(text(f'CREATE DATABASE "{DATABASE}"'))
            try:
                url = _database_url(args.url, DATABASE)
                results.append(run_engine(engine, url, workdir, args))
            finally:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
                admin.dispose()
    report(results, args)


if __name__ == "__main__":
    main()
