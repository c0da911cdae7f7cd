"""What a policy version would do to the data held, before it is activated (§24): how many
people's data would fall due at a date, per retention rule and action, against the policy in
force, and which reads would start (or stop) being refused.

The counts are what a retention run at that date would act on, step by step: each step
counts the subjects due for it once the steps before it have run (records a rule removed or
archived are not acted on again by the next). Subjects without a legal hold are counted in
one pass over the subjects, every step of both versions at once; the few with a hold are
previewed exactly as a run treats them (a dry run over them alone, rolled back).
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from tutela import clock
from tutela.access.gate import Actor
from tutela.crypto.keyring import Keyring
from tutela.db import session_scope
from tutela.policy.schema import Policy
from tutela.register.diff import grants
from tutela.retention import flows
from tutela.retention.service import Step, active_holds, due_conditions, prior_steps, steps
from tutela.subjects.models import Subject

__all__ = ["impact"]

subjects_t = Subject.__table__


def impact(
    *, engine: Engine, keyring: Keyring, current: Policy, new: Policy, as_of: date
) -> dict[str, Any]:
    with session_scope(engine, write=False) as session:
        held = sorted(active_holds(session=session))
        counts = _count(session, {"in_force": current, "new": new}, as_of, held)
    for name, policy in (("in_force", current), ("new", new)):
        if held:  # the few held subjects: exactly as a run would treat them, rolled back
            preview = flows.run(
                engine=engine,
                policy=policy,
                keyring=keyring,
                actor=Actor("policy-impact", None),
                as_of=as_of,
                at=clock.now(),
                dry_run=True,
                only=held,
            )
            for (rule, action), n in preview.actions.items():
                counts[name][(rule, action)] += n
    before, after = counts["in_force"], counts["new"]
    rows = [
        {
            "rule": rule,
            "action": action,
            "in_force": before.get((rule, action)),
            "new": after.get((rule, action)),
            "change": (after.get((rule, action)) or 0) - (before.get((rule, action)) or 0),
        }
        for rule, action in sorted(before.keys() | after.keys())
    ]
    old_grants, new_grants = grants(current), grants(new)
    return {
        "as_of": as_of,
        "from": current.version,
        "to": new.version,
        "retention": rows,
        "reads_refused": _listed(old_grants - new_grants),
        "reads_allowed": _listed(new_grants - old_grants),
    }


def _count(
    session: Session, policies: dict[str, Policy], as_of: date, held: list[str]
) -> dict[str, Counter]:
    """Subjects without a legal hold due for each step of each policy, in one pass over the
    subjects (the held ones, counted alike, are taken off). A step is counted once for both
    policies where it and the steps that may act before it are the same."""
    columns: dict[tuple, Any] = {}
    keys: dict[str, list[tuple[tuple, tuple[str, str]]]] = {}
    for name, policy in policies.items():
        ordered = steps(policy)
        keys[name] = []
        for k, (step, condition) in enumerate(
            zip(ordered, due_conditions(ordered, as_of), strict=True)
        ):
            key = (_key(step), tuple(_key(j) for j in prior_steps(ordered, k)))
            columns.setdefault(key, func.count().filter(condition))
            keys[name].append((key, (step.rule.id, step.action)))
    labelled = [c.label(f"s{n}") for n, c in enumerate(columns.values())]
    every = select(*labelled).select_from(subjects_t)
    (row,) = session.execute(every).all()
    found = dict(zip(columns, row, strict=True))
    if held:
        (taken,) = session.execute(every.where(subjects_t.c.id.in_(held))).all()
        found = {key: n - off for (key, n), off in zip(found.items(), taken, strict=True)}
    return {
        name: Counter({step: found[key] for key, step in pairs}) for name, pairs in keys.items()
    }


def _key(step: Step) -> tuple:
    """What decides a step's due subjects: two steps alike count alike."""
    rule = step.rule
    return (
        step.action,
        step.months,
        step.record_categories,
        step.connections,
        step.payments,
        rule.anchor,
        tuple(rule.subject_kinds),
        rule.unless,
    )


def _listed(triples: set[tuple[str, str, str]]) -> list[dict[str, str]]:
    return [{"role": r, "purpose": p, "category": c} for r, p, c in sorted(triples)]
