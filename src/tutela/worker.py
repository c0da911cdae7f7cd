"""The scheduled worker: the outbox every minute, the retention sweep once a day, and after
it a signed checkpoint of the audit trail.

On PostgreSQL the sweep holds a session advisory lock; on SQLite a lock file beside the
database. A worker that finds the sweep taken skips its turn, and a sweep done ends with an
audit event naming its day, which a worker that comes later the same day finds and skips:
several workers may run for availability, and the day is still swept once (one run, one
checkpoint e-mailed to the DPO). The outbox needs no such lock: a worker claims messages
before sending them, and another skips what is claimed (`outbox.deliver`).
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime

from sqlalchemy import Engine, select, text

from tutela.access.gate import Actor
from tutela.audit import flows as audit_flows
from tutela.audit import service as audit
from tutela.audit.models import AuditEvent
from tutela.breaches import reminders
from tutela.clock import now
from tutela.context import Context
from tutela.db import session_scope
from tutela.outbox.service import deliver_due
from tutela.register import notify
from tutela.requests import intake
from tutela.retention import flows

__all__ = ["deliver_once", "sweep_lock", "sweep_once", "swept", "work"]

logger = logging.getLogger("tutela.worker")
WORKER = Actor("worker", None)  # the scheduled jobs act as the operator
OUTBOX_SECONDS = 60.0
ADVISORY_KEY = 0x7475_7465_6C61  # "tutela"
SWEPT = "sweep"  # the audit event that ends a day's sweep


@contextmanager
def sweep_lock(engine: Engine) -> Iterator[bool]:
    """Whether this process holds the sweep: True inside the block if it got it."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            got = conn.execute(
                text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_KEY}
            ).scalar()
            try:
                yield bool(got)
            finally:
                if got:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_KEY})
                conn.commit()
        return
    database = engine.url.database or ""
    fd = os.open(f"{database}-sweep.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def swept(engine: Engine, day: date) -> bool:
    """Whether the sweep as of `day` is done (its closing event is in the trail)."""
    with session_scope(engine, write=False) as session:
        found = session.scalar(
            select(AuditEvent.seq)
            .where(
                AuditEvent.principal == WORKER.name,
                AuditEvent.action == SWEPT,
                AuditEvent.detail["as_of"].as_string() == day.isoformat(),
            )
            .limit(1)
        )
    return found is not None


def sweep_once(ctx: Context, at: datetime | None = None) -> dict | None:
    """One daily sweep (retention as of the day, then the requests whose requester never
    proved their identity, then a checkpoint of the trail), or None when another process is
    sweeping; `{"skipped": ...}` when the day's sweep is done already."""
    with sweep_lock(ctx.engine) as got:
        if not got:
            logger.info("another worker is sweeping; skipped")
            return None
        at = at or now()
        if swept(ctx.engine, at.date()):
            logger.info("the sweep as of %s is done; skipped", at.date())
            return {"skipped": f"the sweep as of {at.date().isoformat()} is done"}
        report = flows.run(
            engine=ctx.engine,
            policy=ctx.policy,
            keyring=ctx.open_keyring(),
            actor=WORKER,
            as_of=at.date(),
            at=at,
            batch_size=ctx.settings.retention_batch,
        ).as_dict()
        for action in report["actions"]:
            logger.info(
                "%s: %s %s subject(s)", action["rule"], action["action"], action["subjects"]
            )
        logger.info(
            "retention sweep as of %s done: %d skipped for legal holds, %d subjects removed",
            report["as_of"],
            report["skipped_for_holds"],
            report["subjects_removed"],
        )
        with session_scope(ctx.engine) as session:
            closed = intake.close_unverified(
                session=session, keyring=ctx.keyring(session), rules=ctx.rules, actor=WORKER, at=at
            )
        if closed:
            logger.info("%d request(s) closed as unverified", len(closed))
        report["requests_closed_unverified"] = len(closed)
        trail, taken, _ = audit_flows.checkpoint(
            ctx=ctx, actor=WORKER, at=at, email=ctx.settings.checkpoint_email
        )
        if taken is None:
            logger.error(
                "audit trail broken at event %s: %s; no checkpoint taken",
                trail.first_bad,
                trail.problem,
            )
        report["checkpoint_seq"] = taken.seq if taken else None
        with session_scope(ctx.engine) as session:  # the day is done: no worker sweeps it again
            audit.log(
                session,
                ctx.policy,
                at,
                audit.Event(
                    WORKER.name,
                    SWEPT,
                    "done",
                    detail={
                        "as_of": report["as_of"],
                        "subjects_removed": report["subjects_removed"],
                        "requests_closed_unverified": len(closed),
                        "checkpoint_seq": report["checkpoint_seq"],
                    },
                ),
            )
        return report


def deliver_once(ctx: Context, at: datetime | None = None) -> dict[str, int]:
    """Queue what a new purpose owes the people it concerns, then deliver the outbox."""
    informed = notify.send_due(
        engine=ctx.engine, keyring=ctx.open_keyring(), policy=ctx.policy, at=at or now()
    )
    if informed:
        logger.info("policy notices: %d people told of a new purpose", informed)
    with session_scope(ctx.engine) as session:
        reminded = reminders.remind(
            session=session, keyring=ctx.keyring(session), policy=ctx.policy, at=at or now()
        )
    if reminded:
        logger.info("breaches: %d reminder(s) to the DPO", reminded)
    counts = deliver_due(ctx, at=at or now())
    if any(counts.values()):
        logger.info("outbox: %(sent)d sent, %(retry)d to retry, %(failed)d failed", counts)
    return counts


def work(
    ctx: Context,
    *,
    interval_seconds: float,
    stop: threading.Event,
    outbox_seconds: float = OUTBOX_SECONDS,
) -> None:
    """Sweep now and then every `interval_seconds`, deliver the outbox every
    `outbox_seconds`, until `stop` is set. A failed job is retried at its next turn."""
    next_sweep = time.monotonic()
    while not stop.is_set():
        if time.monotonic() >= next_sweep:
            next_sweep = time.monotonic() + interval_seconds
            try:
                sweep_once(ctx)
            except Exception:
                logger.exception("retention sweep failed")
        try:
            deliver_once(ctx)
        except Exception:
            logger.exception("outbox delivery failed")
        stop.wait(max(0.0, min(outbox_seconds, next_sweep - time.monotonic())))
