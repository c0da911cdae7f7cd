"""Legal holds placed and lifted, each audited: a hold suspends deletion and anonymisation of
the categories it covers (a debt, a dispute: §7), never archiving."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tutela.access.gate import Actor
from tutela.audit import service as audit
from tutela.audit.service import Event
from tutela.crypto.keyring import Keyring
from tutela.policy.schema import Policy
from tutela.retention import service
from tutela.retention.models import LegalHold
from tutela.subjects import receipts
from tutela.subjects import service as subjects
from tutela.subjects.listing import external_ids
from tutela.subjects.models import DataLimit

__all__ = ["listed", "place_hold", "release_hold"]


def listed(*, session: Session, lifted: int = 0) -> list[dict[str, Any]]:
    """The active holds, oldest first, each naming its person by external id; then, when
    `lifted`, that many of the holds lifted last (who lifted each, and when), newest first."""
    held = list(
        session.scalars(
            select(LegalHold).where(LegalHold.released_at.is_(None)).order_by(LegalHold.id)
        )
    )
    if lifted:
        held += session.scalars(
            select(LegalHold)
            .where(LegalHold.released_at.is_not(None))
            .order_by(LegalHold.released_at.desc(), LegalHold.id.desc())
            .limit(lifted)
        )
    named = external_ids(session, (h.subject_id for h in held))
    rows = []
    for h in held:
        row = {
            "id": h.id,
            "external_id": named.get(h.subject_id),
            "categories": h.categories,
            "purpose": h.purpose,
            "reference": h.reference,
            "placed_at": h.placed_at,
            "placed_by": h.placed_by,
        }
        if lifted:
            row |= {"released_at": h.released_at, "released_by": h.released_by}
        rows.append(row)
    return rows


def place_hold(
    *,
    session: Session,
    policy: Policy,
    actor: Actor,
    subject_id: str,
    categories: list[str],
    purpose: str,
    reference: str,
    at: datetime,
) -> LegalHold:
    """Suspend deletion and anonymisation of the subject's categories; audited."""
    hold = service.place_hold(
        session=session,
        policy=policy,
        subject_id=subject_id,
        categories=categories,
        purpose=purpose,
        reference=reference,
        by=actor.name,
        at=at,
    )
    audit.log(
        session,
        policy,
        at,
        Event(
            actor.name,
            "place_hold",
            "done",
            subject_id=subject_id,
            categories=hold.categories,
            purpose=purpose,
            detail={"hold": hold.id},
        ),
    )
    return hold


def release_hold(
    *,
    session: Session,
    policy: Policy,
    keyring: Keyring,
    actor: Actor,
    hold_id: int,
    at: datetime,
) -> tuple[LegalHold, list[str]]:
    """Lift a hold: the rules apply again at the next run, and what an erasure request kept
    only for this hold is erased now (the request asked for it). Returns the hold and the
    categories so erased; audited."""
    hold = service.release_hold(session=session, hold_id=hold_id, by=actor.name, at=at)
    audit.log(
        session,
        policy,
        at,
        Event(
            actor.name,
            "release_hold",
            "done",
            subject_id=hold.subject_id,
            detail={"hold": hold.id},
        ),
    )
    return hold, _erase_what_only_the_hold_kept(session, policy, keyring, actor, hold, at)


def _erase_what_only_the_hold_kept(
    session: Session, policy: Policy, keyring: Keyring, actor: Actor, hold: LegalHold, at: datetime
) -> list[str]:
    """After an erasure request, a held category was kept for the hold (and maybe for other
    grounds). With the hold lifted, that ground goes; a category left with none is erased."""
    backed = {
        (category, f"hold:{other.purpose}")
        for other in service.holds_of(session=session, subject_id=hold.subject_id)
        for category in policy.hold_covers(other.categories)
    }
    erased, request_id = [], None
    for limit in session.scalars(
        select(DataLimit).where(
            DataLimit.subject_id == hold.subject_id, DataLimit.basis == "erasure"
        )
    ):
        grounds = [
            g for g in limit.grounds if not g.startswith("hold:") or (limit.category, g) in backed
        ]
        if grounds == limit.grounds:
            continue
        limit.grounds = grounds
        if not grounds and limit.category in policy.hold_covers(hold.categories):
            erased.append(limit.category)
            request_id = limit.request_id
    if not erased:
        return []
    held = subjects.holdings(session=session, policy=policy, subject_id=hold.subject_id)
    subjects.erase_categories(
        session=session, policy=policy, subject_id=hold.subject_id, categories=set(erased)
    )
    keys = []
    if not set(held) - set(erased):  # nothing left: the person goes, data key first
        ref = subjects.get_by_id(session=session, subject_id=hold.subject_id)
        wrapped = subjects.lookup(session=session, external_id=ref.external_id).wrapped_key
        keys = [keyring.data_key_id(ref.id, wrapped)] if wrapped is not None else []
        subjects.erase(session=session, subject_ids=[hold.subject_id])
    seq = audit.log(
        session,
        policy,
        at,
        Event(
            actor.name,
            "erase",
            "done",
            subject_id=hold.subject_id,
            categories=erased,
            reason="erasure request, once the legal hold that suspended it was lifted",
            detail={"request": request_id, "hold": hold.id, "data_keys_destroyed": keys},
        ),
    )
    receipts.issue(
        session=session,
        at=at,
        policy_version=policy.version,
        erased={c: held[c].records for c in erased if c in held},
        events=[seq],
        request_id=request_id,
        data_keys=keys,
    )
    return sorted(erased)
