"""Master key rotation: new key file, every key re-wrapped in one transaction, audited."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from tutela.access.gate import Actor
from tutela.audit import service as audit
from tutela.audit.service import Event
from tutela.clock import now
from tutela.context import Context
from tutela.crypto.keyring import rotate_master_key
from tutela.crypto.master_key import KeyFileError, MasterKey, create_key_file
from tutela.db import session_scope

__all__ = ["rotate"]


def rotate(
    *, ctx: Context, actor: Actor, out: Path | None, progress: Callable[[int], None]
) -> dict:
    """Re-wrap every data key under a new master key.

    With a key file, the new key is written beside it (`.next`) first and replaces it only once
    the database is committed; with TUTELA_MASTER_KEY, it is written to `out` for the operator.
    """
    settings = ctx.settings
    from_env = settings.master_key is not None
    if from_env and out is None:
        raise KeyFileError(
            "the master key comes from TUTELA_MASTER_KEY: give --out FILE for the new one"
        )
    target = out if from_env else settings.key_file.with_name(settings.key_file.name + ".next")
    new_master = create_key_file(target, MasterKey.generate())
    try:
        with session_scope(ctx.engine) as session:
            count = rotate_master_key(session, ctx.keyring(session), new_master, progress=progress)
            audit.log(
                session,
                ctx.policy,
                now(),
                Event(
                    actor.name,
                    "rotate_keys",
                    "done",
                    detail={"rewrapped": count, "master_key_id": new_master.key_id},
                ),
            )
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    if not from_env:
        os.replace(target, settings.key_file)
    ctx.forget_keys()
    return {
        "rewrapped_data_keys": count,
        "master_key_id": new_master.key_id,
        "key_file": str(target if from_env else settings.key_file),
        "from_environment": from_env,
    }
