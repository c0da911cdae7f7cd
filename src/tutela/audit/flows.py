"""Taking a checkpoint of the trail: check it, sign its head, and keep it outside the store."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from tutela.access.gate import Actor
from tutela.audit import service as audit
from tutela.audit.checkpoint import Checkpoint, take
from tutela.audit.verify import VerifyReport, verify
from tutela.context import Context
from tutela.db import session_scope
from tutela.outbox.service import enqueue_email

__all__ = ["checkpoint"]

logger = logging.getLogger("tutela.audit")


def checkpoint(
    *,
    ctx: Context,
    actor: Actor,
    at: datetime,
    out: Path | None = None,
    email: bool = True,
    progress: Callable[[int], None] = lambda _n: None,
) -> tuple[VerifyReport, Checkpoint | None, Path | None]:
    """Verify the trail, then sign its head: a file (`out`, or one per checkpoint in the
    checkpoint folder), a log line, an e-mail to the DPO. A broken trail gets no checkpoint:
    signing it would vouch for what was done to it."""
    keys = ctx.keyset().chain_keys()
    with session_scope(ctx.engine, write=False) as session:
        report = verify(session, keys=keys, progress=progress)
        if not report.intact:
            return report, None, None
        taken = take(session.connection(), ctx.chain_master(), at)
    path = out or ctx.settings.checkpoint_dir / (
        f"audit-checkpoint-{taken.seq:012d}-{taken.taken_at.replace(':', '')}.json"
    )
    _write(path, taken.to_json() + "\n")
    logger.info("audit checkpoint %s", taken.to_json())
    emailed = email and ctx.policy.dpo.email is not None
    with session_scope(ctx.engine) as session:
        if emailed:
            _email_dpo(ctx, session, taken, at)
        audit.log(
            session,
            ctx.policy,
            at,
            audit.Event(
                actor.name,
                "checkpoint",
                "done",
                detail={"seq": taken.seq, "hash": taken.hash, "emailed": emailed},
            ),
        )
    return report, taken, path


def _write(path: Path, text: str) -> None:
    """Written whole or not at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text)
    os.replace(temporary, path)


def _email_dpo(ctx: Context, session: Session, taken: Checkpoint, at: datetime) -> None:
    name = f"audit-checkpoint-{taken.seq}.json"
    enqueue_email(
        session=session,
        keyring=ctx.keyring(session),
        to=ctx.policy.dpo.email,
        at=at,
        subject=f"Tutela: audit checkpoint at event {taken.seq}",
        body=(
            f"The audit trail held together up to event {taken.seq} on {taken.taken_at}.\n"
            "Keep the attached checkpoint outside the database: `tutela audit verify "
            f"--checkpoint {name}` proves later that the trail still extends it.\n\n"
            f"La piste d'audit était intègre jusqu'à l'événement {taken.seq} le "
            f"{taken.taken_at}.\nConservez le point de contrôle joint hors de la base : "
            f"`tutela audit verify --checkpoint {name}` prouvera que la piste le prolonge "
            "toujours.\n"
        ),
        attachment=(name, "application/json", taken.to_json()),
    )
