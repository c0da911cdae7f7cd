"""Keying a trail written before chains were keyed, once, when `tutela init` upgrades it.

Such a trail is linked with plain SHA-256, which anyone who can write the database can
recompute. It is first checked as it stands; only if it holds is every link computed again
under the active chain key, and the old head recorded in the event that says so, so that a
head hash noted outside the database before the upgrade can still be matched. A trail that
does not hold is left as it is: keying it would hide what was done to it.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import bindparam, exists, select, update
from sqlalchemy.orm import Session

from tutela.audit.chain import GENESIS, chain_key, mac
from tutela.audit.service import HEAD_ID, Event, events_t, head_t, log
from tutela.audit.verify import VerifyReport, chain_rows, link_message, verify
from tutela.clock import now
from tutela.crypto.master_key import KeySet
from tutela.policy.schema import Policy

__all__ = ["key_legacy_trail"]

_RELINK = (
    update(events_t)
    .where(events_t.c.seq == bindparam("event_seq"))
    .values(
        prev_hash=bindparam("new_prev"),
        hash=bindparam("new_hash"),
    )
)


def key_legacy_trail(
    session: Session,
    policy: Policy,
    keyset: KeySet,
    *,
    actor: str,
    progress: Callable[[int], None] = lambda _n: None,
) -> VerifyReport | None:
    """Key the trail if any event of it is unkeyed, in the caller's transaction; None when
    there was nothing to do, else the check of the trail as it stood (keyed only if intact)."""
    if not session.scalar(select(exists().where(events_t.c.chain_key_id.is_(None)))):
        return None
    ((old_seq, old_hash),) = session.execute(  # appends wait until this commits
        select(head_t.c.seq, head_t.c.hash).where(head_t.c.id == HEAD_ID).with_for_update()
    ).all()
    report = verify(session, keys={**keyset.chain_keys(), None: None})
    if not report.intact:
        return report
    key = chain_key(session)
    prev = GENESIS
    digest = mac(key.chain_key)
    for batch in chain_rows(session.connection(), 1, old_seq):
        changes = []
        for seq, at, *fields, detail, _, _, _ in batch:
            this = digest(link_message(prev, seq, at, fields, detail))
            changes.append({"event_seq": seq, "new_prev": prev, "new_hash": this})
            prev = this
        session.execute(_RELINK.values(chain_key_id=key.key_id), changes)
        progress(len(changes))
    session.execute(update(head_t).where(head_t.c.id == HEAD_ID).values(hash=prev))
    log(
        session,
        policy,
        now(),
        Event(
            actor,
            "key_trail",
            "done",
            detail={"unkeyed_head_seq": old_seq, "unkeyed_head_hash": old_hash},
        ),
    )
    return report
