"""Every console page, and the portal's, over HTTP with 100,000 people: Tutela beside a bare
page of the same framework running the same SQL.

A store of N demo people (default 100,000) is given a DPO who signs in, rights requests,
a scoped and assessed breach, a legal hold and a portal request. Each page is then fetched
once in process with SQLite's trace on (a copy of the store, the forecast counted every
time), which records every statement it runs with its values. `tutela serve` serves the
store and `bare_console_app.py` a copy of it, one process each; the pages are fetched in
turn, Tutela then bare, `--rounds` times, with the DPO's session. Targets (issue 14): every
page under 200 ms at p95, the dashboard under 500 ms. The dashboard is measured twice:
as served (its forecast kept `TUTELA_FORECAST_CACHE_SECONDS`) and counted on every request.
Actions (a POST: processing a request, a policy's impact) are not pages and are left out;
`bench_policy_impact.py` measures the impact.

    python bench/bench_console.py [--subjects N] [--rounds R]
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx2
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.engine import Engine

import tutela.policy as policy_module
from tutela.access.service import create_principal, get_principal
from tutela.api import create_app
from tutela.clock import now
from tutela.context import build_context
from tutela.db import session_scope
from tutela.settings import Settings
from tutela.web import accounts, sessions
from tutela.web.portal import CSRF, GRANT

HERE = Path(__file__).parent
TUTELA = str(Path(sys.executable).parent / "tutela")
PASSWORD = "a long enough passphrase"
CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "PRAGMA")
TARGET_MS = {"dashboard": 500.0, "dashboard, counted every time": 500.0}
PAGE_TARGET_MS = 200.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tutela(env: dict, *args: str) -> str:
    done = subprocess.run(
        [TUTELA, *args], env=env, capture_output=True, text=True, check=False, timeout=600
    )
    if done.returncode:
        raise SystemExit(f"tutela {' '.join(args)} failed: {done.stderr[-2000:]}")
    return done.stdout


def prepare(workdir: Path, subjects: int) -> tuple[dict, dict[str, str]]:
    """The store, and the values the pages' addresses need (ids, an e-mail, cookies)."""
    env = {
        **os.environ,
        "TUTELA_DATABASE_URL": f"sqlite:///{workdir / 'tutela.db'}",
        "TUTELA_KEY_FILE": str(workdir / "tutela.key"),
        "TUTELA_OPENGDPR_KEY_FILE": str(workdir / "opengdpr.key"),
        "TUTELA_OPENGDPR_CERTIFICATE_FILE": str(workdir / "opengdpr.pem"),
    }
    os.environ.update(env)
    tutela(env, "init")
    started = time.perf_counter()
    tutela(env, "demo", "--subjects", str(subjects))
    print(f"{subjects:,} demo people in {time.perf_counter() - started:.0f} s", flush=True)
    person = "demo-0-0000002"
    shown = json.loads(tutela(env, "subjects", "show", person, "--purpose", "support", "--json"))
    email = shown["data"]["identification"]["email"]
    for n in range(3, 23):
        tutela(
            env,
            "requests",
            "open",
            "--type",
            "access",
            "--external-id",
            f"demo-0-{n:07d}",
            "--channel",
            "post",
        )
    request_id = json.loads(tutela(env, "requests", "list", "--json"))[0]["id"]
    tutela(env, "requests", "verify", request_id, "--id-checked-by", "bench")
    opened = json.loads(
        tutela(
            env,
            "breaches",
            "open",
            "--aware-at",
            now().isoformat(),
            "--nature",
            "confidentiality",
            "--description",
            "bench",
            "--json",
        )
    )
    breach = opened["id"]
    ids = workdir / "ids.txt"
    ids.write_text("\n".join(f"demo-0-{n:07d}" for n in range(100, 400)))
    tutela(env, "breaches", "scope", breach, "--external-ids", str(ids))
    tutela(env, "breaches", "assess", breach, "--measures", "key revoked")
    tutela(env, "holds", "add", person, "--purpose", "debt_disputes", "--reference", "CASE-1")
    newer = yaml.safe_load((Path(policy_module.__file__).parent / "default.yaml").read_text())
    newer["version"] = "2027.1.0"  # a second version: the policy page shows their diff
    next(r for r in newer["retention"] if r["id"] == "prospect_data")["active_months"] = 24
    (workdir / "newer.yaml").write_text(yaml.safe_dump(newer, sort_keys=False))
    tutela(env, "policy", "activate", str(workdir / "newer.yaml"), "--reason", "bench")
    ctx = build_context(Settings())
    with session_scope(ctx.engine) as session:
        create_principal(session=session, policy=ctx.policy, name="claire", roles=["dpo"], at=now())
    with session_scope(ctx.engine) as session:
        claire = get_principal(session=session, name="claire")
        accounts.set_password(
            session=session,
            policy=ctx.policy,
            principal=claire,
            password=PASSWORD,
            by="bench",
            at=now(),
        )
    with TestClient(create_app(ctx)) as client:
        form = client.get("/console/login")
        token = form.text.split('name="csrf" value="')[1].split('"')[0]
        client.post(
            "/console/login",
            data={"csrf": token, "name": "claire", "password": PASSWORD, "code": ""},
        )
        session_cookie = client.cookies.get(sessions.COOKIE)
        client.get("/portal")
        made = client.post(
            "/portal/requests",
            data={"csrf": client.cookies.get(CSRF), "type": "access", "email": email},
            follow_redirects=False,
        )
        portal_path = made.headers["location"]
        grant = made.cookies.get(GRANT)
    ctx.engine.dispose()
    values = {
        "request": request_id,
        "breach": breach,
        "person": person,
        "email": email,
        "portal": portal_path,
        "session": session_cookie,
        "grant": grant,
    }
    return env, values


def pages(v: dict[str, str]) -> dict[str, str]:
    """Each page a DPO reaches, by name, with the address that shows it."""
    return {
        "dashboard": "/console",
        "requests": "/console/requests",
        "requests, filtered": "/console/requests?status=verified&type=access&due_within=60",
        "request": f"/console/requests/{v['request']}",
        "people": "/console/people",
        "people, found by e-mail": f"/console/people?email={v['email']}",
        "person, read for rights requests": f"/console/people/{v['person']}?purpose=rights_requests",
        "audit trail": "/console/audit",
        "audit trail of a person": f"/console/audit?person={v['person']}",
        "register": "/console/register",
        "policy, with its diff": "/console/policy",
        "legal holds": "/console/holds",
        "principals": "/console/principals",
        "breaches": "/console/breaches",
        "breach": f"/console/breaches/{v['breach']}",
        "portal": "/portal",
        "portal request": v["portal"],
    }


def cookies(v: dict[str, str]) -> dict[str, str]:
    return {sessions.COOKIE: v["session"], GRANT: v["grant"]}


def record(workdir: Path, v: dict[str, str]) -> dict[str, list[str]]:
    """Every statement each page runs, values included, on a copy of the store."""
    shutil.copy(workdir / "tutela.db", workdir / "capture.db")
    traced: list[str] = []

    def trace(dbapi_connection, _record) -> None:
        if isinstance(dbapi_connection, sqlite3.Connection):
            dbapi_connection.set_trace_callback(traced.append)

    event.listen(Engine, "connect", trace)
    settings = Settings(
        database_url=f"sqlite:///{workdir / 'capture.db'}", forecast_cache_seconds=0
    )
    ctx = build_context(settings)
    recorded = {}
    with TestClient(create_app(ctx), cookies=cookies(v)) as client:
        for name, path in pages(v).items():
            assert client.get(path).status_code == 200, name  # warm: the policy, templates
            traced.clear()
            assert client.get(path).status_code == 200, name
            recorded[name] = [s for s in traced if not s.lstrip().upper().startswith(CONTROL)]
    event.remove(Engine, "connect", trace)
    ctx.engine.dispose()
    return recorded


def serve(command: list[str], env: dict, port: int) -> subprocess.Popen:
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    for _ in range(150):
        try:
            httpx2.get(
                f"http://127.0.0.1:{port}/portal"
                if "serve" in command
                else f"http://127.0.0.1:{port}/bare/portal",
                timeout=1,
            )
            return process
        except httpx2.TransportError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"server did not start: {process.stderr.read().decode()[-2000:]}")


def timed(client: httpx2.Client, path: str) -> float:
    started = time.perf_counter()
    answer = client.get(path)
    elapsed = (time.perf_counter() - started) * 1000
    if answer.status_code != 200:
        raise SystemExit(f"{path}: {answer.status_code}")
    return elapsed


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def measure(env: dict, v: dict, recorded: dict, rounds: int, workdir: Path) -> list[tuple]:
    port, bare_port, cold_port = free_port(), free_port(), free_port()
    shutil.copy(workdir / "tutela.db", workdir / "bare.db")
    statements = workdir / "statements.pkl"
    statements.write_bytes(pickle.dumps(recorded))
    servers = [
        serve([TUTELA, "serve", "--port", str(port)], env, port),
        serve(
            [TUTELA, "serve", "--port", str(cold_port)],
            {**env, "TUTELA_FORECAST_CACHE_SECONDS": "0"},
            cold_port,
        ),
        serve(
            [
                sys.executable,
                str(HERE / "bare_console_app.py"),
                str(workdir / "bare.db"),
                str(statements),
                str(bare_port),
            ],
            env,
            bare_port,
        ),
    ]
    rows = []
    try:
        base = "http://127.0.0.1:{}"
        with (
            httpx2.Client(base_url=base.format(port), cookies=cookies(v)) as ours,
            httpx2.Client(base_url=base.format(cold_port), cookies=cookies(v)) as cold,
            httpx2.Client(base_url=base.format(bare_port)) as bare,
        ):
            runs = [(n, ours, p) for n, p in pages(v).items()]
            runs.insert(1, ("dashboard, counted every time", cold, "/console"))
            for name, client, path in runs:
                replayed = "dashboard" if name.startswith("dashboard") else name
                timed(client, path), timed(bare, f"/bare/{replayed}")  # warm
                mine, theirs = [], []
                for _ in range(rounds):
                    mine.append(timed(client, path))
                    theirs.append(timed(bare, f"/bare/{replayed}"))
                rows.append((name, len(recorded[replayed]), mine, theirs))
                print(".", end="", flush=True)
    finally:
        for server in servers:
            server.terminate()
            server.wait(10)
    print()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tutela-bench-console-") as folder:
        workdir = Path(folder)
        env, values = prepare(workdir, args.subjects)
        recorded = record(workdir, values)
        rows = measure(env, values, recorded, args.rounds, workdir)
    print(f"\n{args.subjects:,} people, {args.rounds} requests a page, SQLite, 1 process each")
    header = ("page", "SQL", "tutela p50", "p95", "bare p50", "p95", "p95 ratio", "target")
    print(f"{header[0]:32}" + "".join(f"{h:>11}" for h in header[1:]))
    missed = 0
    for name, count, mine, theirs in rows:
        target = TARGET_MS.get(name, PAGE_TARGET_MS)
        ok = p95(mine) < target
        missed += not ok
        print(
            f"{name:32}{count:>11}{statistics.median(mine):>9.1f}ms{p95(mine):>9.1f}ms"
            f"{statistics.median(theirs):>9.1f}ms{p95(theirs):>9.1f}ms"
            f"{p95(mine) / p95(theirs):>11.2f}{f'< {target:.0f} ms':>10} {'ok' if ok else 'MISSED'}"
        )
    print(f"\n{len(rows) - missed} of {len(rows)} pages within their target")


if __name__ == "__main__":
    main()
