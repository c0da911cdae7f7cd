"""Console sessions: a random cookie, of which only the SHA-256 is stored, with its CSRF
token; one idle longer than the setting is gone, and signing out deletes it."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from tutela.access.gate import Actor
from tutela.access.models import Principal
from tutela.access.service import actor_of
from tutela.clock import utc_naive
from tutela.web.models import ConsoleSession

__all__ = ["COOKIE", "SignedIn", "close", "close_all", "find", "open_session"]

COOKIE = "tutela_console"


@dataclass(frozen=True)
class SignedIn:
    actor: Actor
    csrf: str
    token_hash: str


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(*, session: Session, principal: Principal, at: datetime) -> str:
    """A new session for the principal; the cookie's value, to send once."""
    token = secrets.token_urlsafe(32)
    moment = utc_naive(at)
    session.add(
        ConsoleSession(
            token_hash=_hash(token),
            principal_id=principal.id,
            csrf=secrets.token_urlsafe(32),
            created_at=moment,
            last_seen_at=moment,
        )
    )
    return token


def find(
    *, session: Session, token: str | None, idle: timedelta, lifetime: timedelta, at: datetime
) -> SignedIn | None:
    """The session the cookie names, if it was used within `idle` and opened within
    `lifetime` (a stolen cookie kept busy still ends); its use is recorded."""
    if not token or len(token) > 128:
        return None
    row = session.get(ConsoleSession, _hash(token))
    if row is None:
        return None
    moment = utc_naive(at)
    if moment - row.last_seen_at > idle or moment - row.created_at > lifetime:
        session.delete(row)
        return None
    principal = session.get(Principal, row.principal_id)
    row.last_seen_at = moment
    return SignedIn(actor_of(principal), row.csrf, row.token_hash)


def close(*, session: Session, token_hash: str) -> None:
    session.execute(delete(ConsoleSession).where(ConsoleSession.token_hash == token_hash))


def close_all(*, session: Session, principal_id: int) -> None:
    """Every session of the principal: their password or second factor changed."""
    session.execute(delete(ConsoleSession).where(ConsoleSession.principal_id == principal_id))
