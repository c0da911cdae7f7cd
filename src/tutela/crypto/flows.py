"""Master key rotation: online, in resumable batches, audited.

1. A new master key joins the key file, before the store hears of it: a process that finds
   the store's active key missing from its keyring reads the file again.
2. The store makes it active, and the previous one `retiring`: from then on every process
   wraps new keys under the new key (`Keyring.ensure_current`).
3. Every data key and service key wrapped under another key is re-wrapped, a batch per
   transaction: a rotation killed at any moment is resumed by running it again.
4. Once nothing is wrapped under the retiring key, it is retired, and the key file keeps only
   the key its part of the audit trail was chained with.

With TUTELA_MASTER_KEY, no running process can read a new key: the rotation stops after
step 1, writing the key set to `--out`; set the variable to it, restart, and run it again.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import exists, or_, select, update
from sqlalchemy.orm import Session

from tutela.access.gate import Actor
from tutela.audit import service as audit
from tutela.audit.service import Event
from tutela.clock import now, utc_naive
from tutela.context import Context
from tutela.crypto.cipher import unwrap_key, wrap_key
from tutela.crypto.keyring import open_keyring
from tutela.crypto.master_key import KeyFileError, KeySet, MasterKey, write_key_file
from tutela.crypto.models import DataKey, MasterKeyRecord, WrappedKey
from tutela.db import session_scope

__all__ = ["rotate"]


def _states(session: Session) -> dict[str, str]:
    return dict(session.execute(select(MasterKeyRecord.id, MasterKeyRecord.state)).all())


def rotate(
    *,
    ctx: Context,
    actor: Actor,
    out: Path | None,
    progress: Callable[[int], None],
    batch: int,
) -> dict:
    """Rotate the master key, or resume a rotation left unfinished."""
    from_env = ctx.settings.master_key is not None
    if from_env and out is None:
        raise KeyFileError(
            "the master key comes from TUTELA_MASTER_KEY: give --out FILE for the new key set"
        )
    keyset = ctx.keyset()
    with session_scope(ctx.engine, write=False) as session:
        states = _states(session)
    active = next(key_id for key_id, state in states.items() if state == "active")
    resumed = keyset.active.key_id != active or "retiring" in states.values()
    if not resumed:
        keyset = KeySet(MasterKey.generate(), (keyset.active, *keyset.retiring), keyset.retired)
        write_key_file(out if from_env else ctx.settings.key_file, keyset)
        if from_env:
            return _report(keyset, 0, from_env, out, finished=False)
    if keyset.active.key_id != active:
        _make_active(ctx, actor, keyset)
    rewrapped = 0
    while True:
        rewrapped += _rewrap(ctx, keyset, batch, progress)
        if _retire(ctx, actor, keyset):
            break
    retired = {m.key_id: m.chain_key for m in keyset.retiring}
    final = KeySet(keyset.active, (), {**keyset.retired, **retired})
    write_key_file(out if from_env else ctx.settings.key_file, final)
    ctx.forget_keys()
    return _report(final, rewrapped, from_env, out, finished=True, resumed=resumed)


def _make_active(ctx: Context, actor: Actor, keyset: KeySet) -> None:
    """The key file's active key becomes the store's; the others it holds are retiring."""
    new = keyset.active.key_id
    with session_scope(ctx.engine) as session:
        states = _states(session)
        session.execute(
            update(MasterKeyRecord)
            .where(MasterKeyRecord.state == "active")
            .values(state="retiring")
        )
        if new in states:
            session.execute(
                update(MasterKeyRecord).where(MasterKeyRecord.id == new).values(state="active")
            )
        else:
            session.add(MasterKeyRecord(id=new, state="active", created_at=utc_naive(now())))
        audit.log(
            session,
            ctx.policy,
            now(),
            Event(actor.name, "rotate_keys", "done", detail={"master_key_id": new}),
        )


def _rewrap(ctx: Context, keyset: KeySet, batch: int, progress: Callable[[int], None]) -> int:
    """Re-wrap under the active key every key wrapped under another, a batch at a time."""
    new = keyset.active.key_id
    keys_t = DataKey.__table__
    done = 0
    while True:
        with session_scope(ctx.engine) as session:
            rows = session.execute(
                select(keys_t.c.subject_id, keys_t.c.wrapped)
                .where(keys_t.c.master_key_id != new)
                .limit(batch)
                .with_for_update(skip_locked=True)
            ).all()
            if not rows:
                break
            keyring = open_keyring(session, keyset)
            session.execute(  # by primary key, one statement for the batch
                update(DataKey),
                [
                    {"subject_id": sid, "wrapped": keyring.rewrap(sid, w), "master_key_id": new}
                    for sid, w in rows
                ],
            )
        done += len(rows)
        progress(len(rows))
    with session_scope(ctx.engine) as session:
        masters = {m.key_id: m for m in keyset.masters}
        for stored in session.scalars(select(WrappedKey).where(WrappedKey.master_key_id != new)):
            key = unwrap_key(
                masters[stored.master_key_id].material, stored.wrapped, label=stored.name
            )
            stored.wrapped = wrap_key(keyset.active.material, key, label=stored.name)
            stored.master_key_id = new
    return done


def _retire(ctx: Context, actor: Actor, keyset: KeySet) -> bool:
    """Retire the retiring keys once nothing is wrapped under them; False when a writer that
    began before the switch wrapped a key under one meanwhile (then re-wrap again)."""
    new = keyset.active.key_id
    with session_scope(ctx.engine) as session:
        retiring = session.scalars(
            select(MasterKeyRecord.id)
            .where(MasterKeyRecord.state == "retiring")
            .with_for_update()  # waits for the writers still wrapping under them
        ).all()
        in_use = session.scalar(
            select(
                or_(
                    exists().where(DataKey.master_key_id != new),
                    exists().where(WrappedKey.master_key_id != new),
                )
            )
        )
        if in_use:
            return False
        if retiring:
            session.execute(
                update(MasterKeyRecord)
                .where(MasterKeyRecord.id.in_(retiring))
                .values(state="retired", retired_at=utc_naive(now()))
            )
            audit.log(
                session,
                ctx.policy,
                now(),
                Event(actor.name, "retire_keys", "done", detail={"master_key_ids": retiring}),
            )
    return True


def _report(
    keyset: KeySet,
    rewrapped: int,
    from_env: bool,
    out: Path | None,
    *,
    finished: bool,
    resumed: bool = False,
) -> dict:
    return {
        "master_key_id": keyset.active.key_id,
        "rewrapped_data_keys": rewrapped,
        "finished": finished,
        "resumed": resumed,
        "retired_master_key_ids": sorted(keyset.retired),
        "from_environment": from_env,
        "key_file": str(out) if from_env else None,
    }
