"""FastAPI dependencies shared by every router: context, one transaction, the caller."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from tutela.access.models import Principal
from tutela.access.service import authenticate
from tutela.clock import now
from tutela.context import Context
from tutela.crypto.keyring import Keyring
from tutela.db import session_scope

__all__ = ["CurrentPrincipal", "DbSession", "Keys", "TutelaContext"]

_bearer = HTTPBearer(auto_error=False, description="An API key from `tutela init`.")


def _context(request: Request) -> Context:
    return request.app.state.ctx


TutelaContext = Annotated[Context, Depends(_context)]


def _session(ctx: TutelaContext) -> Iterator[Session]:
    with session_scope(ctx.engine) as session:
        yield session


DbSession = Annotated[Session, Depends(_session)]


def _keys(ctx: TutelaContext, session: DbSession) -> Keyring:
    return ctx.keyring(session)


Keys = Annotated[Keyring, Depends(_keys)]


def _principal(
    session: DbSession,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    principal = credentials and authenticate(session=session, key=credentials.credentials, at=now())
    if not principal:
        raise HTTPException(
            status_code=401,
            detail="a valid API key is required (Authorization: Bearer KEY)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return principal


CurrentPrincipal = Annotated[Principal, Depends(_principal)]
