"""Signing in to the console: a staff principal's password (argon2id) and, if set, a TOTP
code (RFC 6238). An unknown name and a wrong password get the same answer and take about the
same time; every attempt is audited, never with what was typed."""

from __future__ import annotations

import secrets
from datetime import datetime

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pyotp.utils import strings_equal
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from tutela.access.models import Principal
from tutela.access.service import actor_of
from tutela.audit import service as audit
from tutela.audit.service import Event
from tutela.clock import utc_naive
from tutela.crypto.keyring import Keyring
from tutela.errors import InvalidInput
from tutela.policy.schema import Policy
from tutela.web import sessions
from tutela.web.models import ConsoleCredential

__all__ = ["MIN_PASSWORD", "enable_totp", "one_time_password", "set_password", "sign_in"]

MIN_PASSWORD = 12  # characters: NIST SP 800-63B asks at least 8; a console of personal data, 12
_HASHER = PasswordHasher()  # argon2id with the library's current parameters
_DUMMY = _HASHER.hash("an unknown name takes as long as a wrong password")


def _label(principal_id: int) -> str:
    return f"console:{principal_id}:totp"


def set_password(
    *, session: Session, policy: Policy, principal: Principal, password: str, by: str, at: datetime
) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"expected at least {MIN_PASSWORD} characters", location="password")
    if len(password) > 1024:
        raise InvalidInput("expected at most 1,024 characters", location="password")
    credential = session.get(ConsoleCredential, principal.id)
    digest = _HASHER.hash(password)
    if credential is None:
        credential = ConsoleCredential(principal_id=principal.id, password_hash=digest)
        session.add(credential)
    credential.password_hash, credential.set_at = digest, utc_naive(at)
    sessions.close_all(session=session, principal_id=principal.id)  # an old password's too
    event = Event(by, "set_password", "done", detail={"principal": principal.name})
    audit.log(session, policy, at, event)


def one_time_password() -> str:
    """A password to show once (at `tutela init`): 24 characters from an unambiguous set."""
    alphabet = "abcdefghjkmnpqrstuvwxyzACDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(24))


def enable_totp(
    *, session: Session, keyring: Keyring, policy: Policy, principal: Principal, by: str, at
) -> str:
    """Give the principal a TOTP secret; its `otpauth://` URI, to show once (as a QR code
    or typed into an authenticator app)."""
    credential = session.get(ConsoleCredential, principal.id)
    if credential is None:
        raise InvalidInput("set a password first", location="principal")
    secret = pyotp.random_base32()
    credential.totp_secret = keyring.seal_note(secret, label=_label(principal.id))
    sessions.close_all(session=session, principal_id=principal.id)  # signed in without it
    audit.log(session, policy, at, Event(by, "enable_totp", "done",
                                         detail={"principal": principal.name}))  # fmt: skip
    return pyotp.TOTP(secret).provisioning_uri(name=principal.name, issuer_name="Tutela")


def _totp_step(totp: pyotp.TOTP, code: str, at: datetime) -> int | None:
    """The time step whose code this is, one step either side of `at` allowed for clocks
    that drift; None when it is none of them."""
    now_step = totp.timecode(at)
    for step in (now_step - 1, now_step, now_step + 1):
        if strings_equal(totp.generate_otp(step), code):
            return step
    return None


def _take_step(session: Session, principal_id: int, step: int) -> bool:
    """Record `step` as the last time step taken, unless it or a later one already was: one
    conditional statement, so that two sign-ins sending the same code at once (several
    workers on PostgreSQL) never both take it."""
    taken = session.execute(
        update(ConsoleCredential)
        .where(
            ConsoleCredential.principal_id == principal_id,
            or_(
                ConsoleCredential.totp_last_step.is_(None), ConsoleCredential.totp_last_step < step
            ),
        )
        .values(totp_last_step=step)
    )
    return taken.rowcount == 1


def sign_in(
    *,
    session: Session,
    keyring: Keyring,
    policy: Policy,
    name: str,
    password: str,
    code: str,
    at: datetime,
) -> Principal | None:
    """The principal, if the name, password and (when it has TOTP) code are right, and it is
    active and staff; None otherwise, whatever was wrong. The attempt is audited in the
    caller's transaction, which commits a refusal too."""
    principal = session.scalar(select(Principal).where(Principal.name == name[:128]))
    credential = session.get(ConsoleCredential, principal.id) if principal else None
    try:
        _HASHER.verify(credential.password_hash if credential else _DUMMY, password[:1024])
        ok = credential is not None
    except (VerificationError, InvalidHashError):
        ok = False
    if ok and credential.totp_secret is not None:
        secret = keyring.open_note(credential.totp_secret, label=_label(principal.id))
        step = _totp_step(pyotp.TOTP(secret), code.strip(), at)
        ok = step is not None and _take_step(session, principal.id, step)
    if ok and (actor_of(principal).inactive_reason(at) or not policy.is_staff(principal.roles)):
        ok = False
    who = principal.name if principal else "(unknown name)"
    outcome = "done" if ok else "denied"
    audit.log(session, policy, at, Event(who, "sign_in", outcome, reason="console"))
    return principal if ok else None
