"""Identity first (§10, §12): a one-time code sent to the address on file, or a member of
staff attesting that an ID document was checked. Nothing is disclosed or changed before.

Codes are six digits, kept only as a keyed HMAC (the blind-index key: a stolen database
does not give them up to brute force), expire after 30 minutes, and allow 5 attempts; after
that the request must be made again.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import DateTime, Integer, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from tutela.crypto.keyring import Keyring
from tutela.db import Base, utc_naive
from tutela.errors import Conflict, InvalidInput
from tutela.policy.schema import Policy

__all__ = [
    "ATTEMPTS",
    "CODE_LIFETIME",
    "Verification",
    "attest",
    "by_code",
    "check_code",
    "exhausted",
    "issue_code",
    "verified",
]

CODE_LIFETIME = timedelta(minutes=30)
ATTEMPTS = 5


class Verification(Base):
    __tablename__ = "request_verifications"

    request_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    code_digest: Mapped[str | None] = mapped_column(String(64))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    method: Mapped[str | None] = mapped_column(String(16))  # email_code, id_document
    verified_at: Mapped[datetime | None] = mapped_column(DateTime)
    verified_by: Mapped[str | None] = mapped_column(String(128))


def by_code(policy: Policy, request_type: str) -> bool:
    """Whether an e-mailed code may verify a request of this type; else only staff do, on
    the identity document (`rights_requests.id_document_for`)."""
    return request_type not in policy.rights_requests.id_document_for


def _digest(keyring: Keyring, request_id: str, code: str) -> str:
    return keyring.blind_index("request-code", f"{request_id}:{code}")


def issue_code(
    *, session: Session, keyring: Keyring, request_id: str, at: datetime, usable: bool = True
) -> str:
    """A fresh code for the request, returned to be sent and never stored in clear. Not
    `usable`: the same work, but what is stored is the digest of a secret nobody is given,
    so that no code verifies the request."""
    code = f"{secrets.randbelow(10**6):06d}"
    kept = code if usable else secrets.token_hex(32)
    session.merge(
        Verification(
            request_id=request_id,
            code_digest=_digest(keyring, request_id, kept),
            expires_at=utc_naive(at + CODE_LIFETIME),
            attempts=0,
        )
    )
    session.flush()
    return code


def _pending(session: Session, request_id: str) -> Verification:
    verification = session.get(Verification, request_id) or Verification(
        request_id=request_id, attempts=0
    )
    if verification.verified_at is not None:
        raise Conflict("the requester's identity is already verified")
    session.add(verification)
    return verification


def check_code(
    *, session: Session, keyring: Keyring, request_id: str, code: str, at: datetime
) -> str | None:
    """None when the code is right; otherwise why not. A wrong code counts as an attempt, so
    callers commit before they report the refusal."""
    verification = _pending(session, request_id)
    if verification.code_digest is None:
        raise InvalidInput("no code was sent for this request", location="code")
    if verification.attempts >= ATTEMPTS:
        return "too many wrong codes: the person must make a new request"
    if utc_naive(at) > verification.expires_at:
        return "the code has expired: the person must make a new request"
    verification.attempts += 1
    if not secrets.compare_digest(verification.code_digest, _digest(keyring, request_id, code)):
        return f"wrong code ({ATTEMPTS - verification.attempts} attempt(s) left)"
    verification.method, verification.verified_at = "email_code", utc_naive(at)
    verification.code_digest = None
    return None


def exhausted(*, session: Session, request_id: str, at: datetime) -> bool:
    """Whether no code can verify the request any more: its attempts are used up, or it
    expired."""
    verification = session.get(Verification, request_id)
    if verification is None or verification.code_digest is None:
        return False
    return verification.attempts >= ATTEMPTS or utc_naive(at) > verification.expires_at


def verified(*, session: Session, request_id: str) -> bool:
    """Whether the requester's identity was verified (by their code or an ID document)."""
    verification = session.get(Verification, request_id)
    return verification is not None and verification.verified_at is not None


def attest(*, session: Session, request_id: str, by: str, at: datetime) -> Verification:
    """A member of staff states that they checked the requester's ID document (letters)."""
    if not by.strip():
        raise InvalidInput("name who checked the ID document", location="id_checked_by")
    if len(by.strip()) > 128:  # the column's size
        raise InvalidInput("at most 128 characters", location="verified_by")
    verification = _pending(session, request_id)
    verification.method, verification.verified_at = "id_document", utc_naive(at)
    verification.verified_by, verification.code_digest = by.strip(), None
    return verification
