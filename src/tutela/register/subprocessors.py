"""The subprocessors (§19) of the policy in force, and how they changed from version to
version: each added, changed (field by field) or removed, on the day its version was
activated (that activation is in the trail with the same changes)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tutela.policy import Policy
from tutela.policy.loader import parse_stored
from tutela.policy.texts import Localised
from tutela.register import versions
from tutela.register.diff import diff

__all__ = ["describe", "history"]


def describe(policy: Policy, lang: str) -> list[dict[str, Any]]:
    """Every subprocessor with what the register and the notices say of it."""
    t = Localised(policy, lang)
    return [
        {
            "id": s.id,
            "name": t.of("subprocessors", s, "name"),
            "service": t.of("subprocessors", s, "service"),
            "location": t.of("subprocessors", s, "location"),
            "purposes": s.purposes,
            "categories": s.categories,
            "guarantees": t.of("subprocessors", s, "guarantees"),
            "contract_reference": s.contract_reference,
            "contract_date": s.contract_date,
            "last_audit": s.last_audit,
            "outside_eea": s.outside_eea,
            "transfer_safeguard": t.of("subprocessors", s, "transfer_safeguard") or None,
        }
        for s in policy.subprocessors
    ]


def history(session: Session) -> list[dict[str, Any]]:
    """Each change to the subprocessors, oldest first, with the version and day it came in."""
    out: list[dict[str, Any]] = []
    before: Policy | None = None
    for row in versions.history(session):
        policy = parse_stored(row.text)
        when = {"version": row.version, "at": row.activated_at, "by": row.activated_by}
        if before is None:
            out += [{**when, "id": s.id, "change": "added"} for s in policy.subprocessors]
        else:
            change = diff(before, policy)["subprocessors"]
            out += [{**when, "id": i, "change": "added"} for i in change["added"]]
            out += [
                {**when, "id": c["id"], "change": "changed", "fields": c["fields"]}
                for c in change["changed"]
            ]
            out += [{**when, "id": i, "change": "removed"} for i in change["removed"]]
        before = policy
    return out
