"""Gathering what a decision needs: the request's particulars and the facts about the person.

Everything is read here, once, before deciding; `requests.decide` then needs no database.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from sqlalchemy.orm import Session

from tutela.access.gate import Actor, SubjectFacts
from tutela.crypto.keyring import Keyring
from tutela.policy.schema import Policy
from tutela.requests.decide import decide
from tutela.requests.decision import Decision, Hold, PersonFacts, RequestFacts
from tutela.requests.models import PostMortemDirective, RightsRequest
from tutela.retention.service import holds_of
from tutela.subjects import service as subjects
from tutela.subjects.facts import subject_facts
from tutela.subjects.reading import audited_read

__all__ = ["decided", "particulars_label", "person_facts", "request_facts", "seal_particulars"]


def particulars_label(request_id: str) -> str:
    """The label a request's sealed particulars are bound to."""
    return f"request-changes:{request_id}"


def seal_particulars(keyring: Keyring, request_id: str, particulars: dict[str, Any]) -> bytes:
    return keyring.seal_note(
        orjson.dumps(particulars).decode(), label=particulars_label(request_id)
    )


def request_facts(request: RightsRequest, keyring: Keyring) -> RequestFacts:
    particulars: dict[str, Any] = {}
    if request.particulars is not None:
        particulars = orjson.loads(
            keyring.open_note(request.particulars, label=particulars_label(request.id))
        )
        if request.type == "rectification" and "changes" not in particulars:
            particulars = {"changes": particulars}  # sealed before particulars had keys
    return RequestFacts(request.id, request.type, particulars)


def person_facts(
    *,
    session: Session,
    keyring: Keyring,
    policy: Policy,
    actor: Actor,
    request: RightsRequest,
    asked: RequestFacts,
    at: datetime,
) -> PersonFacts | None:
    """The facts about the person a request is about, as `actor` gathers them; None when
    Tutela holds nothing."""
    subject = request.subject_id and subjects.get_by_id(
        session=session, subject_id=request.subject_id
    )
    if not subject:
        return None
    ref = subjects.lookup(session=session, external_id=subject.external_id)
    directive = session.get(PostMortemDirective, subject.id)
    facts = subject_facts(session=session, policy=policy, ref=ref, purpose=None, at=at)
    return PersonFacts(
        external_id=subject.external_id,
        subject=facts,
        held=subjects.holdings(session=session, policy=policy, subject_id=subject.id),
        holds=tuple(
            Hold(h.reference, h.purpose, policy.hold_covers(h.categories))
            for h in holds_of(session=session, subject_id=subject.id)
        ),
        directive=directive.directive if directive else None,
        current=_current(session, keyring, policy, actor, ref, facts, asked, at),
    )


def _current(
    session: Session,
    keyring: Keyring,
    policy: Policy,
    actor: Actor,
    ref: subjects.SubjectRef,
    facts: SubjectFacts,
    asked: RequestFacts,
    at: datetime,
) -> dict[str, object]:
    """The values a rectification asks to replace, as held now, read through the gate for the
    rights purpose (decrypted, in memory only: compared, never kept)."""
    keys = list(asked.particulars.get("changes") or ())
    if not keys or ref.wrapped_key is None:
        return {}
    data = audited_read(  # in this transaction: the values never leave it
        session=session,
        keyring=keyring,
        policy=policy,
        actor=actor,
        subject=ref,
        facts=facts,
        purpose=policy.rights_requests.purpose,
        categories=sorted({key.partition(".")[0] for key in keys}),
        at=at,
        apart=False,
        detail={"request": asked.id},
    ).data
    current = {}
    for key in keys:
        category, _, field = key.partition(".")
        values = data.get(category)
        if isinstance(values, dict) and field in values:
            current[key] = values[field]
    return current


def decided(
    *,
    session: Session,
    keyring: Keyring,
    policy: Policy,
    actor: Actor,
    request: RightsRequest,
    at: datetime,
) -> tuple[PersonFacts | None, Decision]:
    """Gather the facts of a request, then decide it as of `at`'s day."""
    asked = request_facts(request, keyring)
    facts = person_facts(
        session=session,
        keyring=keyring,
        policy=policy,
        actor=actor,
        request=request,
        asked=asked,
        at=at,
    )
    return facts, decide(asked, facts, policy, at.date())
