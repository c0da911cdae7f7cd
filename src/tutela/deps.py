"""FastAPI dependencies shared by every router: context, one transaction, the caller."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from tutela.access.gate import Actor
from tutela.access.service import actor_of, authenticate
from tutela.access.throttle import FailureThrottle
from tutela.audit.service import Event, record_apart
from tutela.clock import now
from tutela.context import Context
from tutela.crypto.keyring import Keyring
from tutela.db import session_scope
from tutela.errors import Denied

__all__ = ["CurrentActor", "DbSession", "Keys", "TutelaContext", "WriteSession"]

_bearer = HTTPBearer(auto_error=False, description="An API key (`tutela principals add`).")


def _context(request: Request) -> Context:
    return request.app.state.ctx


TutelaContext = Annotated[Context, Depends(_context)]


def _read_session(ctx: TutelaContext) -> Iterator[Session]:
    with session_scope(ctx.engine, write=False) as session:
        yield session


def _write_session(ctx: TutelaContext) -> Iterator[Session]:
    with session_scope(ctx.engine) as session:
        yield session


# Reads do not wait for writers; what they must record goes through `audit.record_apart`.
DbSession = Annotated[Session, Depends(_read_session)]
WriteSession = Annotated[Session, Depends(_write_session)]


def _keys(ctx: TutelaContext, session: DbSession) -> Keyring:
    return ctx.keyring(session)


Keys = Annotated[Keyring, Depends(_keys)]


def _actor(
    request: Request,
    ctx: TutelaContext,
    session: DbSession,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    """The caller, from its API key. Repeated failures from one client get 429; a principal
    outside its active dates gets 403 with the reason, and the attempt is audited."""
    throttle: FailureThrottle = request.app.state.throttle
    client = request.client.host if request.client else "unknown"
    wait = throttle.retry_after(client)
    if wait:
        raise HTTPException(
            status_code=429,
            detail="too many failed authentications; try again later",
            headers={"Retry-After": str(wait)},
        )
    principal = credentials and authenticate(session=session, key=credentials.credentials)
    if not principal:
        throttle.failed(client)
        raise HTTPException(
            status_code=401,
            detail="a valid API key is required (Authorization: Bearer KEY)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    actor = actor_of(principal)
    at = now()
    inactive = actor.inactive_reason(at)
    if inactive:
        event = Event(actor.name, "authenticate", "denied", reason=inactive)
        record_apart(ctx.engine, [event], at=at, policy_version=ctx.policy.version)
        raise Denied(inactive)
    return actor


CurrentActor = Annotated[Actor, Depends(_actor)]
