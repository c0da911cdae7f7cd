"""What every endpoint shares: the context, the caller's credentials, and `call`, which opens
the request's one transaction and authenticates the caller.

Endpoints are plain functions that run in one worker thread each and enter `call` there:
FastAPI runs every synchronous dependency in a thread of its own, and those hops cost more
than the work of a read. The single-subject read goes further (`on_loop_if_embedded`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, TypeVar

import anyio.to_thread
from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from tutela.access.gate import Actor
from tutela.access.service import authenticate
from tutela.access.throttle import FailureThrottle
from tutela.audit.service import Event, record_apart
from tutela.clock import now
from tutela.context import Context
from tutela.crypto.keyring import Keyring
from tutela.db import WouldWait, never_waiting, session_scope
from tutela.errors import Denied

__all__ = ["Call", "Credentials", "call", "on_loop_if_embedded"]

T = TypeVar("T")

_bearer = HTTPBearer(auto_error=False, description="An API key (`tutela principals add`).")

Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


@dataclass
class Call:
    """One request: the context, its transaction, the authenticated caller."""

    ctx: Context
    session: Session
    actor: Actor

    @property
    def keyring(self) -> Keyring:
        return self.ctx.keyring(self.session)

    @property
    def flow(self) -> dict:
        """What every flow takes: the session, the keyring, the record rules, the caller."""
        return {
            "session": self.session,
            "keyring": self.keyring,
            "rules": self.ctx.rules,
            "actor": self.actor,
        }


@contextmanager
def call(request: Request, credentials: Credentials, *, write: bool = False) -> Iterator[Call]:
    """The request's transaction (read-only unless `write`) with its authenticated caller.

    Repeated failures from one client get 429; a principal outside its active dates gets 403
    with the reason, and the attempt is audited.
    """
    ctx: Context = request.app.state.ctx
    throttle: FailureThrottle = request.app.state.throttle
    client = request.client.host if request.client else "unknown"
    wait = throttle.retry_after(client)
    if wait:
        raise HTTPException(
            status_code=429,
            detail="too many failed authentications; try again later",
            headers={"Retry-After": str(wait)},
        )
    with session_scope(ctx.engine, write=write) as session:
        actor = credentials and authenticate(session=session, key=credentials.credentials)
        if not actor:
            throttle.failed(client)
            raise HTTPException(
                status_code=401,
                detail="a valid API key is required (Authorization: Bearer KEY)",
                headers={"WWW-Authenticate": "Bearer"},
            )
        at = now()
        inactive = actor.inactive_reason(at)
        if inactive:
            event = Event(actor.name, "authenticate", "denied", reason=inactive)
            record_apart(ctx.engine, [event], at=at, policy_version=ctx.policy.version)
            raise Denied(inactive)
        yield Call(ctx, session, actor)


async def on_loop_if_embedded(request: Request, work: Callable[[], T]) -> T:
    """Run short, bounded work on the event loop when the database is an embedded SQLite file,
    in a worker thread otherwise.

    Such work never waits on the network, and the interpreter lock lets one thread run Python
    at a time: handing it to a thread and back only adds switches, which cost more than the
    work itself. It must not wait long for the writer lock either: when another writer holds
    it, the work starts again in a thread (it has written nothing yet; once it has, it waits). A PostgreSQL round trip
    would stall the loop, so there it always goes to a thread.
    """
    ctx: Context = request.app.state.ctx
    if ctx.engine.dialect.name == "sqlite":
        try:
            with never_waiting():
                return work()
        except WouldWait:  # another writer holds the lock: wait for it in a thread instead
            pass
    return await anyio.to_thread.run_sync(work)
