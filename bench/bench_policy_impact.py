"""`tutela policy impact` on a large store, beside the retention plan it predicts.

The store holds N subjects (default 1,000,000; the population of bench_retention.py: ten
connection logs each over six years, clients with payments) and a few legal holds. A new
policy version shortens three retention periods; the benchmark times `policy impact` (how
many people fall due per rule and action under both versions, and the reads refused) and
`retention plan` for the new version at the same date (every due item listed, the
baseline), and prints both times, then each step's counts beside the people the plan lists
(the plan lists each rule alone: where an earlier rule already acted on the same records, a
run, and so the impact, finds fewer). Target: impact under 10 s on 1,000,000 people.

    python bench/bench_policy_impact.py [--subjects N]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import yaml
from sqlalchemy import text

from bench_retention import AS_OF, build
from tutela.clock import now
from tutela.context import build_context
from tutela.db import session_scope
from tutela.policy import parse_policy, policy_text
from tutela.register.impact import impact
from tutela.retention.service import place_hold, plan
from tutela.settings import Settings

HOLDS = 20


def new_version(text: str):
    data = yaml.safe_load(text)
    data["version"] = "bench.2"
    for rule in data["retention"]:
        if rule["id"] == "prospect_data":
            rule["active_months"] = 24
        if rule["id"] == "technical_data":
            rule["active_months"] = 6
        if rule["id"] == "cookies":
            rule["active_months"] = 12
    return parse_policy(yaml.safe_dump(data, allow_unicode=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tutela-bench-") as tmp:
        workdir = Path(tmp)
        started = time.perf_counter()
        db = build(workdir, args.subjects)
        built = time.perf_counter() - started
        ctx = build_context(
            Settings(database_url=f"sqlite:///{db}", key_file=workdir / "tutela.key")
        )
        current, new = ctx.policy, new_version(policy_text(None))
        with session_scope(ctx.engine) as session:
            ids = [r[0] for r in session.execute(text(f"SELECT id FROM subjects LIMIT {HOLDS}"))]
            for subject_id in ids:
                place_hold(
                    session=session,
                    policy=current,
                    subject_id=subject_id,
                    categories=[],
                    purpose="debt_disputes",
                    reference="BENCH",
                    by="bench",
                    at=now(),
                )
        started = time.perf_counter()
        found = impact(
            engine=ctx.engine, keyring=ctx.open_keyring(), current=current, new=new, as_of=AS_OF
        )
        t_impact = time.perf_counter() - started
        started = time.perf_counter()
        with session_scope(ctx.engine, write=False) as session:
            planned = plan(session=session, policy=new, as_of=AS_OF)
        t_plan = time.perf_counter() - started
        ctx.engine.dispose()
    people = defaultdict(set)
    for due in planned:
        if due.held_by is None or due.action == "archive":
            people[(due.rule, due.action)].add(due.subject_id)
    print(
        f"Policy impact, SQLite, {args.subjects:,} subjects (built in {built:.0f} s), as of {AS_OF}"
    )
    print(f"{'':36}{'seconds':>10}")
    print(f"{'tutela policy impact (both versions)':36}{t_impact:>10.2f}")
    print(f"{'retention plan of the new version':36}{t_plan:>10.2f}")
    print(f"ratio impact/plan: {t_impact / t_plan:.2f}   (target: impact under 10 s)")
    print(f"{'rule':32}{'action':>10}{'in force':>12}{'new':>12}{'plan lists':>12}")
    for row in found["retention"]:
        listed = len(people.get((row["rule"], row["action"]), ()))
        print(
            f"{row['rule']:32}{row['action']:>10}{row['in_force'] or 0:>12,}"
            f"{row['new'] or 0:>12,}{listed:>12,}"
        )


if __name__ == "__main__":
    main()
