"""Principals and their API keys. Keys are shown once and stored as SHA-256 digests."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from tutela.access.gate import Actor
from tutela.access.models import ApiKey, Principal
from tutela.db import utc_naive
from tutela.errors import Conflict, InvalidInput, NotFound
from tutela.policy.schema import Policy
from tutela.prepared import Prepared

__all__ = [
    "active_key_count",
    "actor_of",
    "authenticate",
    "create_principal",
    "deactivate",
    "get_principal",
    "hash_key",
    "issue_key",
    "list_principals",
]

KEY_PREFIX = "tutela_"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_principal(
    *,
    session: Session,
    policy: Policy,
    name: str,
    roles: Sequence[str],
    at: datetime,
    active_from: datetime | None = None,
    active_until: datetime | None = None,
) -> Principal:
    for role in roles:
        if policy.recipient(role) is None:
            known = ", ".join(r.id for r in policy.recipients)
            raise InvalidInput(f"unknown role '{role}'; expected one of: {known}", location="role")
    if session.scalar(select(Principal.id).where(Principal.name == name)) is not None:
        raise Conflict(f"a principal named '{name}' already exists")
    principal = Principal(
        name=name,
        roles=list(roles),
        active_from=active_from,
        active_until=active_until,
        created_at=utc_naive(at),
    )
    session.add(principal)
    session.flush()
    return principal


def issue_key(*, session: Session, principal: Principal, at: datetime) -> str:
    """A new API key for the principal, returned in clear this one time only."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiKey(principal_id=principal.id, key_hash=hash_key(key), created_at=utc_naive(at)))
    session.flush()
    return key


_principals, _keys = Principal.__table__.c, ApiKey.__table__.c
_BY_KEY = Prepared(  # every request runs it
    select(_principals.name, _principals.roles, _principals.active_from, _principals.active_until)
    .join_from(Principal.__table__, ApiKey.__table__, _keys.principal_id == _principals.id)
    .where(_keys.key_hash == bindparam("key_hash"), _keys.revoked_at.is_(None))
)


def authenticate(*, session: Session, key: str) -> Actor | None:
    """The principal holding `key`, as an actor, if the key exists and is not revoked.

    Whether the principal is active (arrival, departure) is the gate's decision, so that a
    departed principal's attempt is refused with its reason and audited.
    """
    row = _BY_KEY.first(session.connection(), {"key_hash": hash_key(key)})
    if row is None:
        return None
    name, roles, active_from, active_until = row
    return Actor(name, tuple(roles), active_from, active_until)


def actor_of(principal: Principal) -> Actor:
    return Actor(
        principal.name, tuple(principal.roles), principal.active_from, principal.active_until
    )


def get_principal(*, session: Session, name: str) -> Principal:
    principal = session.scalar(select(Principal).where(Principal.name == name))
    if principal is None:
        raise NotFound(f"no principal named '{name}'")
    return principal


def list_principals(*, session: Session) -> list[Principal]:
    return list(session.scalars(select(Principal).order_by(Principal.name)))


def active_key_count(*, session: Session, principal: Principal) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(ApiKey)
            .where(ApiKey.principal_id == principal.id, ApiKey.revoked_at.is_(None))
        )
        or 0
    )


def deactivate(*, session: Session, principal: Principal, at: datetime) -> int:
    """End the principal's activity now and revoke its keys; the number of keys revoked."""
    moment = utc_naive(at)
    if principal.active_until is None or principal.active_until > moment:
        principal.active_until = moment
    result = session.execute(
        update(ApiKey)
        .where(ApiKey.principal_id == principal.id, ApiKey.revoked_at.is_(None))
        .values(revoked_at=moment)
    )
    return result.rowcount
