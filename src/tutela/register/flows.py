"""Activating a policy version (§24): diffed against the one in force, refused when it lowers
security without a recorded reason (§20), stored with its hash, and recorded in the trail
with what it changes for subprocessors and who gains or loses access to what."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from tutela.access.gate import Actor
from tutela.audit import service as audit
from tutela.audit.service import Event
from tutela.errors import Conflict, Denied
from tutela.policy import Policy, parse_policy
from tutela.register import notify, versions
from tutela.register.diff import diff, weakened_security

__all__ = ["Activated", "activate", "record_first"]


@dataclass
class Activated:
    version: str
    digest: str
    change: dict[str, Any]
    weakened: list[str]


def record_first(
    *, session: Session, policy: Policy, text: str, actor: Actor, at: datetime
) -> bool:
    """Store the policy in force as the first version when the store holds none."""
    if versions.in_force(session) is not None:
        return False
    row = versions.record(
        session=session, version=policy.version, text=text, by=actor.name, at=at, reason=None
    )
    event = Event(
        actor.name,
        "policy_activate",
        "done",
        reason="first version of this store",
        detail={
            "version": policy.version,
            "digest": row.digest,
            "subprocessors": {
                "added": [s.id for s in policy.subprocessors],
                "removed": [],
                "changed": [],
            },
        },
    )
    audit.log(session, policy, at, event)
    return True


def activate(
    *,
    session: Session,
    current: Policy,
    text: str,
    source: str,
    actor: Actor,
    at: datetime,
    reason: str | None = None,
) -> Activated:
    """Make the policy of `text` the one in force. Its version must be new; a version that
    removes or changes a security measure needs `reason`, recorded with it."""
    new = parse_policy(text, source=source)
    if versions.text_of(session, new.version) is not None or new.version == current.version:
        raise Conflict(f"version {new.version} was already activated: give this one a new version")
    change = diff(current, new)
    weakened = weakened_security(change)
    if weakened and not reason:
        raise Denied(
            "this version removes or changes security measures "
            f"({', '.join(weakened)}): no development may lower the level of security (§20); "
            "activate it with the reason it does not"
        )
    row = versions.record(
        session=session, version=new.version, text=text, by=actor.name, at=at, reason=reason
    )
    detail = {
        "version": new.version,
        "from": current.version,
        "digest": row.digest,
        "purposes_added": [p["id"] for p in change["purposes"]["added"]],
        "purposes_removed": [p["id"] for p in change["purposes"]["removed"]],
        "subprocessors": change["subprocessors"],
        "security_measures": change["security_measures"],
        "grants_widened": len(change["grants"]["widened"]),
        "grants_narrowed": len(change["grants"]["narrowed"]),
    }
    added = [p["id"] for p in change["purposes"]["added"]]
    notify.queue(session=session, version=new.version, purposes=added, at=at)
    detail["notices_queued"] = added  # the people each concerns are told (Art. 13(3))
    event = Event(actor.name, "policy_activate", "done", reason=reason or "", detail=detail)
    audit.log(session, new, at, event)
    return Activated(new.version, row.digest, change, weakened)
