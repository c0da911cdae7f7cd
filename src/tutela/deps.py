"""What every endpoint shares: the context, the caller (`Caller`, authenticated by `edges`
before the body is read), and `call`, which opens the request's one transaction.

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
from fastapi.security import HTTPBearer
from pydantic import BaseModel
from sqlalchemy.orm import Session

from tutela.access.gate import Actor
from tutela.audit.service import Event, record_apart
from tutela.clock import now
from tutela.context import Context
from tutela.crypto.keyring import Keyring
from tutela.db import Connected, WouldWait, never_waiting, read_connection, session_scope
from tutela.edges import ACTOR
from tutela.errors import Denied

__all__ = [
    "BEARER",
    "KEYED",
    "Call",
    "Caller",
    "Problem",
    "ReadCall",
    "answers",
    "call",
    "on_loop_if_embedded",
    "read_call",
]

T = TypeVar("T")


class Problem(BaseModel):
    """Every refusal but a validation error: the reason, never a personal value."""

    detail: str


_MEANINGS = {
    401: "No valid API key (checked before the body is read).",
    403: "Refused, with the reason: it holds whoever the person is (roles, purpose, dates).",
    404: "Unknown, or refused for what is true of the person (told alike).",
    409: "In conflict with the current state (exists, ended, already done).",
    413: "The body is over the size limit; none of it was parsed.",
    422: "Not valid: the field and the rule broken, never the value.",
    429: "Too many failed keys from this address; see Retry-After.",
    503: "Not available: the database, or the OpenGDPR signing key, is missing.",
}
KEYED = (401, 403, 413, 429)  # what any endpoint that takes a key may answer


def answers(*codes: int) -> dict[int | str, dict]:
    """The refusals a route may give, for its OpenAPI document."""
    return {code: {"model": Problem, "description": _MEANINGS[code]} for code in codes}


class _AuthenticatedCaller(HTTPBearer):
    """The caller `edges` authenticated before the body was read. A bearer scheme itself, so
    that the OpenAPI document declares the key on every route that takes a `Caller` (the
    operations `edges` guards are read from that declaration), with one dependency to solve
    per request rather than a scheme and a dependency on it."""

    async def __call__(self, request: Request) -> Actor:  # type: ignore[override]
        actor = request.scope.get("state", {}).get(ACTOR)
        if actor is None:  # only if the app runs without its edges
            raise HTTPException(status_code=401, detail="a valid API key is required")
        return actor


BEARER = _AuthenticatedCaller(
    auto_error=False,
    scheme_name="HTTPBearer",
    description="An API key (`tutela principals add`).",
)
Caller = Annotated[Actor, Depends(BEARER)]


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


def _refuse_inactive(ctx: Context, caller: Actor) -> None:
    """403 with the reason for a principal outside its active dates; the attempt audited."""
    at = now()
    inactive = caller.inactive_reason(at)
    if inactive:
        event = Event(caller.name, "authenticate", "denied", reason=inactive)
        record_apart(ctx.engine, [event], at=at, policy_version=ctx.policy.version)
        raise Denied(inactive)


@contextmanager
def call(request: Request, caller: Actor, *, write: bool = False) -> Iterator[Call]:
    """The request's transaction (read-only unless `write`) with its caller."""
    ctx: Context = request.app.state.ctx
    _refuse_inactive(ctx, caller)
    with session_scope(ctx.engine, write=write) as session:
        yield Call(ctx, session, caller)


@dataclass
class ReadCall:
    """A request that reads at the connection (`read_call`): no ORM session."""

    ctx: Context
    connected: Connected
    keyring: Keyring
    actor: Actor


@contextmanager
def read_call(request: Request, caller: Actor) -> Iterator[ReadCall]:
    """`call` for the audited single-subject read, on `db.read_connection`: opening and
    closing an ORM session would cost more than the read's queries."""
    ctx: Context = request.app.state.ctx
    _refuse_inactive(ctx, caller)
    keyring = ctx.open_keyring()
    with read_connection(ctx.engine) as connected:
        yield ReadCall(ctx, connected, keyring, caller)


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
