"""A person proves on the portal that they hold an e-mail address, to give, withdraw and
object themselves (§12, §15; Art. 7(3): withdrawing as easy as giving).

As a request's code (`requests.verification`): six digits e-mailed to the address, kept as
a keyed digest, 30 minutes, 5 attempts. Then the same browser holds a grant for 15 minutes.
Both are known by the hash of the browser's token only. Whether the address is known is
never said: every address gets the same work (a lookup, a digest, a row, a message queued);
an address nobody holds is told so by e-mail, one several people hold too (staff answer
them), and neither ever proves anything, so nobody changes another's choices.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from tutela.consent.models import ChoiceProof
from tutela.crypto.keyring import Keyring
from tutela.db import utc_naive
from tutela.outbox.service import enqueue_email
from tutela.requests.verification import ATTEMPTS, CODE_LIFETIME
from tutela.subjects import service as subjects
from tutela.subjects.models import Subject
from tutela.subjects.validation import RecordRules

__all__ = ["GRANT_LIFETIME", "ask", "end", "holder", "pending", "prove"]

GRANT_LIFETIME = timedelta(minutes=15)
FORGOTTEN = timedelta(days=1)  # after it ends, how long a proof's row is kept


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _digest(keyring: Keyring, token_hash: str, code: str) -> str:
    return keyring.blind_index("choice-code", f"{token_hash}:{code}")


def ask(
    *,
    session: Session,
    keyring: Keyring,
    rules: RecordRules,
    email: str,
    token: str,
    at: datetime,
) -> None:
    """Start a proof for the browser holding `token`: a code to the address when exactly one
    person holds it, otherwise a message saying why there is none; the same work either way."""
    # Proofs long ended are forgotten here: no sweep is needed, and every address pays it.
    session.execute(delete(ChoiceProof).where(ChoiceProof.expires_at < utc_naive(at - FORGOTTEN)))
    found = subjects.find_by_email(session=session, keyring=keyring, rules=rules, email=email)
    subject_id = found[0] if len(found) == 1 else None
    token_hash, code = _hash(token), f"{secrets.randbelow(10**6):06d}"
    session.add(
        ChoiceProof(
            token_hash=token_hash,
            subject_id=subject_id,
            code_digest=_digest(keyring, token_hash, code),
            attempts=0,
            created_at=utc_naive(at),
            expires_at=utc_naive(at + CODE_LIFETIME),
        )
    )
    controller = rules.policy.controller
    minutes = int(CODE_LIFETIME.total_seconds() // 60)
    if subject_id is not None:
        body = (
            f"Your code: {code}\n\nIt lets you manage your consents and objections with "
            f"{controller.name} on our portal. It expires in {minutes} minutes.\nIf you did "
            "not ask for it, ignore this message."
        )
    else:
        body = (
            "Someone asked on our portal to manage the consents and objections of this "
            f"address. {controller.name} holds no choices you can manage with this address "
            f"alone: write to {controller.email} if you think we hold data about you.\nIf you "
            "did not ask, ignore this message."
        )
    enqueue_email(
        session=session,
        keyring=keyring,
        to=email,
        subject=f"{controller.name}: your consents and objections",
        body=body,
        at=at,
        subject_id=subject_id,
    )
    session.flush()


def _live(
    session: Session, token: str | None, at: datetime, *, for_update: bool = False
) -> ChoiceProof | None:
    """The browser's proof while it lasts; `for_update` locks its row until the transaction
    ends (PostgreSQL; on SQLite the writer lock already serialises)."""
    if not token or len(token) > 64:
        return None
    proof = session.get(ChoiceProof, _hash(token), with_for_update=for_update or None)
    return proof if proof is not None and utc_naive(at) <= proof.expires_at else None


def pending(*, session: Session, token: str | None, at: datetime) -> bool:
    """Whether the browser awaits a code (whatever the address it gave)."""
    proof = _live(session, token, at)
    return proof is not None and proof.proved_at is None


def prove(
    *, session: Session, keyring: Keyring, token: str | None, code: str, at: datetime
) -> bool:
    """Check the code; on success the browser's token becomes a grant for `GRANT_LIFETIME`.
    A wrong code counts as an attempt: callers commit before they report it. The proof's row
    is locked first, so that codes sent at once are each counted before the next is judged."""
    proof = _live(session, token, at, for_update=True)
    if proof is None or proof.proved_at is not None or proof.attempts >= ATTEMPTS:
        return False
    proof.attempts += 1
    right = secrets.compare_digest(
        proof.code_digest or "", _digest(keyring, proof.token_hash, code)
    )
    if not right or proof.subject_id is None:
        return False
    proof.proved_at, proof.code_digest = utc_naive(at), None
    proof.expires_at = utc_naive(at + GRANT_LIFETIME)
    return True


def holder(*, session: Session, token: str | None, at: datetime) -> Subject | None:
    """The person the browser proved it holds the address of, while the grant lasts."""
    proof = _live(session, token, at)
    if proof is None or proof.proved_at is None or proof.subject_id is None:
        return None
    return subjects.get_by_id(session=session, subject_id=proof.subject_id)


def end(*, session: Session, token: str | None) -> None:
    """Forget the browser's proof at its user's wish (a shared computer)."""
    if token and len(token) <= 64:
        session.execute(delete(ChoiceProof).where(ChoiceProof.token_hash == _hash(token)))
