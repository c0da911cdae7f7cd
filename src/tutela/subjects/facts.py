"""The facts the gate decides on, gathered for one person with as few queries as the purpose
allows: consents and objections only when they can change the decision, limits only when the
person has some."""

from __future__ import annotations

from datetime import datetime

from tutela.access.gate import SubjectFacts, depends_on_standing
from tutela.consent.service import standing
from tutela.db import Connected
from tutela.policy.schema import Policy
from tutela.subjects.service import SubjectRef, limits_of

__all__ = ["subject_facts"]


def subject_facts(
    *, session: Connected, policy: Policy, ref: SubjectRef, purpose: str | None, at: datetime
) -> SubjectFacts:
    """What the gate needs to know of `ref` for `purpose` (every fact when None)."""
    consented, objections = (
        standing(session=session, subject_id=ref.id, at=at)
        if purpose is None or depends_on_standing(policy, purpose)
        else (set(), set())
    )
    return SubjectFacts(
        kind=ref.kind,
        consented=frozenset(consented),
        objections=frozenset(objections),
        limits=limits_of(session=session, subject_id=ref.id) if ref.limited_at else {},
        lifecycle=ref.lifecycle,
    )
