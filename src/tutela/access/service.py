"""Principals and their API keys. Keys are shown once and stored as SHA-256 digests."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Engine, bindparam, func, select, update
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
    "change_roles",
    "create_principal",
    "deactivate",
    "get_principal",
    "hash_key",
    "issue_key",
    "keep_an_administrator",
    "list_principals",
    "reissue_key",
    "sole_administrators",
]

KEY_PREFIX = "tutela_"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


# Names the trail gives to who acts without being a principal: the portal, a person who
# made a portal request, the operator at the console.
RESERVED = frozenset({"portal"})
RESERVED_PREFIXES = ("requester:", "console:")


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
    _check_roles(policy, roles, "role")
    if name in RESERVED or name.startswith(RESERVED_PREFIXES):
        raise InvalidInput(
            "this name is the portal's or a person's: choose another", location="name"
        )
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


def _check_roles(policy: Policy, roles: Sequence[str], location: str) -> None:
    for role in roles:
        if policy.recipient(role) is None:
            known = ", ".join(r.id for r in policy.recipients)
            raise InvalidInput(
                f"unknown role '{role}'; expected one of: {known}", location=location
            )


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


def authenticate(*, engine: Engine, key: str) -> Actor | None:
    """The principal holding `key`, as an actor, if the key exists and is not revoked: one
    statement, read on its own (every request runs it).

    Whether the principal is active (arrival, departure) is the gate's decision, so that a
    departed principal's attempt is refused with its reason and audited.
    """
    row = _BY_KEY.first_alone(engine, {"key_hash": hash_key(key)})
    if row is None:
        return None
    name, roles, active_from, active_until = row
    return Actor(name, tuple(roles), active_from, active_until)


def actor_of(principal: Principal) -> Actor:
    return Actor(
        principal.name, tuple(principal.roles), principal.active_from, principal.active_until
    )


def get_principal(*, session: Session, name: str, lock: bool = False) -> Principal:
    """The principal named `name`. With `lock`, every principal row is locked first, in one
    order, for a change that counts administrators: two such changes at once (on PostgreSQL)
    then cannot each count on the other's administrator; SQLite writers queue up anyway."""
    if lock:
        session.execute(select(Principal.id).order_by(Principal.id).with_for_update())
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


def _revoke_keys(session: Session, principal: Principal, moment: datetime) -> int:
    result = session.execute(
        update(ApiKey)
        .where(ApiKey.principal_id == principal.id, ApiKey.revoked_at.is_(None))
        .values(revoked_at=moment)
    )
    return result.rowcount


def keep_an_administrator(
    *,
    session: Session,
    policy: Policy,
    principal: Principal,
    roles_after: Sequence[str],
    at: datetime,
) -> None:
    """Conflict when the change would leave an administrator role of the policy with no
    active holder: nobody could then administer the store through the API. The caller holds
    the principals locked (`get_principal(lock=True)`)."""
    losing = (set(policy.administrator_roles) & set(principal.roles)) - set(roles_after)
    if not losing or actor_of(principal).inactive_reason(at):
        return  # it gives up no administrator role it holds now
    others = [
        p
        for p in session.scalars(select(Principal).where(Principal.id != principal.id))
        if not actor_of(p).inactive_reason(at)
    ]
    for role in sorted(losing):
        if not any(role in p.roles for p in others):
            raise Conflict(
                f"'{principal.name}' is the last active principal holding the administrator "
                f"role '{role}': give that role to another principal first"
            )


def sole_administrators(*, session: Session, policy: Policy, at: datetime) -> set[str]:
    """The active principals each alone in holding an administrator role: those
    `deactivate` refuses (the console offers them no Deactivate)."""
    active = [p for p in session.scalars(select(Principal)) if not actor_of(p).inactive_reason(at)]
    sole = set()
    for role in policy.administrator_roles:
        holders = [p.name for p in active if role in p.roles]
        if len(holders) == 1:
            sole.add(holders[0])
    return sole


def deactivate(*, session: Session, policy: Policy, principal: Principal, at: datetime) -> int:
    """End the principal's activity now and revoke its keys; the number of keys revoked.
    Refused for the last active holder of an administrator role."""
    keep_an_administrator(
        session=session, policy=policy, principal=principal, roles_after=(), at=at
    )
    moment = utc_naive(at)
    if principal.active_until is None or principal.active_until > moment:
        principal.active_until = moment
    return _revoke_keys(session, principal, moment)


def reissue_key(*, session: Session, principal: Principal, at: datetime) -> tuple[int, str]:
    """Revoke the principal's keys and issue a new one (a key lost or leaked): the number of
    keys revoked and the new key, in clear this one time only. A departed principal gets none."""
    moment = utc_naive(at)
    if principal.active_until is not None and principal.active_until <= moment:
        raise Conflict(f"{actor_of(principal).inactive_reason(at)}: it gets no new key")
    revoked = _revoke_keys(session, principal, moment)
    return revoked, issue_key(session=session, principal=principal, at=at)


def change_roles(
    *,
    session: Session,
    policy: Policy,
    principal: Principal,
    add: Sequence[str],
    remove: Sequence[str],
    at: datetime,
) -> tuple[list[str], list[str]]:
    """Give and take roles of the policy; the roles before and after."""
    if not add and not remove:
        raise InvalidInput("name a role to add or to remove", location="roles")
    _check_roles(policy, add, "add")
    _check_roles(policy, remove, "remove")
    if both := sorted(set(add) & set(remove)):
        raise InvalidInput(f"role '{both[0]}' is both added and removed", location="roles")
    before = list(principal.roles)
    if missing := [r for r in remove if r not in before]:
        raise InvalidInput(
            f"principal '{principal.name}' does not hold role '{missing[0]}'", location="remove"
        )
    after = [r for r in before if r not in remove]
    after += [r for r in dict.fromkeys(add) if r not in after]
    if not after:
        raise InvalidInput(
            "a principal keeps at least one role; deactivate it instead", location="remove"
        )
    keep_an_administrator(
        session=session, policy=policy, principal=principal, roles_after=after, at=at
    )
    principal.roles = after
    session.flush()
    return before, after
