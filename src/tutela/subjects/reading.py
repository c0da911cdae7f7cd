"""The one way personal data is decrypted for someone: decide, record, then decrypt.

Every read that decrypts (a read for a purpose, a rights-request copy, the values a
rectification compares) comes through `audited_read` with the person and their facts
already gathered: one decision through the gate, one `read` event naming what was allowed
or why not, and only then the decryption of what the decision allows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tutela.access.gate import Actor, Decision, SubjectFacts, authorize
from tutela.audit import service as audit
from tutela.audit.service import Event
from tutela.crypto.keyring import Keyring
from tutela.db import Connected
from tutela.policy.schema import Policy
from tutela.subjects import service

__all__ = ["Read", "audited_read"]


@dataclass(frozen=True, slots=True)
class Read:
    """A decision and what it let be decrypted (nothing when refused)."""

    decision: Decision
    data: dict[str, Any]
    provenance: dict[str, dict[str, Any]]


def audited_read(
    *,
    session: Connected,
    keyring: Keyring,
    policy: Policy,
    actor: Actor,
    subject: service.SubjectRef,
    facts: SubjectFacts,
    purpose: str,
    categories: Sequence[str] | None,
    at: datetime,
    apart: bool = True,
    detail: dict[str, Any] | None = None,
) -> Read:
    """Decide `actor`'s read of `subject` for `purpose`, record it, then decrypt.

    `apart`: the event commits on its own before anything is decrypted (the caller's
    transaction must not have written yet); otherwise it commits or rolls back with the
    caller's transaction, for a read whose values leave only through it (an e-mail queued
    in it, a comparison in memory). `detail` adds to the event (the request it serves).
    """
    decision = authorize(
        policy=policy,
        actor=actor,
        action="read",
        facts=facts,
        purpose=purpose,
        categories=categories,
        at=at,
    )
    extra = dict(detail or {})
    if decision.withheld:
        extra["withheld"] = sorted(decision.withheld)
    event = Event(
        actor.name,
        "read",
        "allowed" if decision.granted else "denied",
        subject_id=subject.id,
        categories=decision.allowed,
        purpose=purpose,
        reason=decision.reason,
        detail=extra,
    )
    (audit.log_apart if apart else audit.log)(session, policy, at, event)
    if not decision.granted or subject.wrapped_key is None:
        return Read(decision, {}, {})
    data, provenance = service.read(
        session=session,
        cipher=keyring.cipher_for(subject.id, subject.wrapped_key),
        policy=policy,
        categories=decision.allowed,
        archived=decision.archive,
    )
    return Read(decision, data, provenance)
