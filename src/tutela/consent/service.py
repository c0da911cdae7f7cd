"""The consent ledger (give, withdraw, expiry) and objections, as the gate reads them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, literal, or_, select, union_all, update
from sqlalchemy.orm import Session

from tutela.consent.models import Consent, Objection, Suppression
from tutela.db import Connected, utc_naive
from tutela.errors import InvalidInput, NotFound
from tutela.policy.schema import Policy
from tutela.subjects.dates import consent_problem
from tutela.subjects.models import PersonalValue

__all__ = [
    "give",
    "history",
    "object_to",
    "standing",
    "withdraw",
]


_consented = select(literal("consent").label("kind"), Consent.purpose.label("name")).where(
    Consent.subject_id == bindparam("subject_id"),
    Consent.given_at <= bindparam("at"),
    or_(Consent.withdrawn_at.is_(None), Consent.withdrawn_at > bindparam("at")),
    or_(Consent.expires_at.is_(None), Consent.expires_at > bindparam("at")),
)
_objected = select(literal("objection"), Objection.scope).where(
    Objection.subject_id == bindparam("subject_id"),
    Objection.made_at <= bindparam("at"),
    or_(Objection.withdrawn_at.is_(None), Objection.withdrawn_at > bindparam("at")),
)
_STANDING = union_all(_consented, _objected)  # built once: every read runs it


def standing(*, session: Connected, subject_id: str, at: datetime) -> tuple[set[str], set[str]]:
    """The purposes consented to and the scopes objected to at `at`, in one round trip."""
    purposes, scopes = set(), set()
    rows = session.connection().execute(_STANDING, {"subject_id": subject_id, "at": utc_naive(at)})
    for kind, name in rows:
        (purposes if kind == "consent" else scopes).add(name)
    return purposes, scopes


def give(
    *,
    session: Session,
    policy: Policy,
    subject_id: str,
    purpose: str,
    at: datetime,
    channel: str | None = None,
    expires_at: datetime | None = None,
) -> Consent:
    spec = policy.purpose(purpose)
    if spec is None:
        raise InvalidInput(f"unknown purpose '{purpose}'", location="purpose")
    if spec.legal_basis != "consent":
        raise InvalidInput(
            f"purpose '{purpose}' rests on {spec.legal_basis}, not on consent", location="purpose"
        )
    if why := consent_problem(at, expires_at, at):
        raise InvalidInput(why, location="expires")
    consent = Consent(
        subject_id=subject_id,
        purpose=purpose,
        given_at=utc_naive(at),
        channel=channel,
        expires_at=utc_naive(expires_at) if expires_at else None,
        withdrawn_at=None,
    )
    session.add(consent)
    session.flush()
    return consent


def withdraw(*, session: Session, subject_id: str, purpose: str, at: datetime) -> int:
    """Withdraw every active consent for the purpose; the number withdrawn."""
    moment = utc_naive(at)
    result = session.execute(
        update(Consent)
        .where(
            Consent.subject_id == subject_id,
            Consent.purpose == purpose,
            Consent.withdrawn_at.is_(None),
        )
        .values(withdrawn_at=moment)
    )
    if not result.rowcount:
        raise NotFound(f"no active consent for purpose '{purpose}'")
    return result.rowcount


def object_to(
    *, session: Session, policy: Policy, subject_id: str, scope: str, at: datetime
) -> Objection:
    if policy.objection(scope) is None:
        known = ", ".join(o.id for o in policy.objections)
        raise InvalidInput(f"unknown objection scope; expected one of: {known}", location="scope")
    objection = Objection(subject_id=subject_id, scope=scope, made_at=utc_naive(at))
    session.add(objection)
    session.flush()
    return objection


def history(*, session: Session, subject_id: str) -> dict[str, list[dict]]:
    consents = session.scalars(
        select(Consent).where(Consent.subject_id == subject_id).order_by(Consent.given_at)
    )
    objections = session.scalars(
        select(Objection).where(Objection.subject_id == subject_id).order_by(Objection.made_at)
    )
    return {
        "consents": [
            {
                "purpose": c.purpose,
                "given_at": c.given_at,
                "channel": c.channel,
                "expires_at": c.expires_at,
                "withdrawn_at": c.withdrawn_at,
            }
            for c in consents
        ],
        "objections": [
            {"scope": o.scope, "made_at": o.made_at, "withdrawn_at": o.withdrawn_at}
            for o in objections
        ],
    }


def suppress(*, session: Session, subject_id: str, reason: str, at: datetime) -> int:
    """Put the subject's blind indexes on the suppression list; how many were added."""
    digests = set(
        session.scalars(
            select(PersonalValue.blind_index).where(
                PersonalValue.subject_id == subject_id, PersonalValue.blind_index.is_not(None)
            )
        )
    )
    known = set(
        session.scalars(select(Suppression.blind_index).where(Suppression.blind_index.in_(digests)))
    )
    for digest in digests - known:
        session.add(Suppression(blind_index=digest, reason=reason, added_at=utc_naive(at)))
    session.flush()
    return len(digests - known)


def suppressed(*, session: Session, digests: set[str]) -> set[str]:
    """Those of `digests` on the suppression list."""
    if not digests:
        return set()
    return set(
        session.scalars(
            select(Suppression.blind_index).where(
                Suppression.blind_index.in_(bindparam("d", expanding=True))
            ),
            {"d": list(digests)},
        )
    )
