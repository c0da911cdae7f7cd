"""The unlocked key material of a running Tutela: master key plus the blind-index key.

Data keys are created, unwrapped, re-wrapped (rotation) and destroyed (crypto-shredding) here
and nowhere else.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Iterable

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import Session

from tutela.clock import now
from tutela.crypto.cipher import SubjectCipher, unwrap_key, wrap_key
from tutela.crypto.master_key import KeyFileError, MasterKey
from tutela.crypto.models import DataKey, WrappedKey
from tutela.db import utc_naive
from tutela.errors import NotFound

__all__ = ["Keyring", "initialise_keyring", "open_keyring", "rotate_master_key", "shred"]

BLIND_INDEX_KEY = "blind_index"
DATA_KEY_BYTES = 32
ROTATION_BATCH = 5000


class Keyring:
    __slots__ = ("_index_key", "master")

    def __init__(self, master: MasterKey, index_key: bytes) -> None:
        self.master = master
        self._index_key = index_key

    def new_data_key(self, subject_id: str) -> tuple[bytes, bytes]:
        """A fresh data key for a subject and its wrapped form, to store in `data_keys`."""
        key = secrets.token_bytes(DATA_KEY_BYTES)
        return key, wrap_key(self.master.material, key, label=subject_id)

    def unwrap(self, subject_id: str, wrapped: bytes) -> bytes:
        return unwrap_key(self.master.material, bytes(wrapped), label=subject_id)

    def blind_index(self, field: str, normalised: str) -> str:
        """Keyed HMAC of a normalised value: equal values match, nothing can be read back."""
        message = f"{field}\x1f{normalised}".encode()
        return hmac.new(self._index_key, message, hashlib.sha256).hexdigest()[:32]

    def cipher(self, session: Session, subject_id: str) -> SubjectCipher:
        wrapped = session.scalar(select(DataKey.wrapped).where(DataKey.subject_id == subject_id))
        if wrapped is None:
            raise NotFound("the subject has no data key (erased)")
        return SubjectCipher(subject_id, self.unwrap(subject_id, wrapped))

    def ciphers(self, session: Session, subject_ids: Iterable[str]) -> dict[str, SubjectCipher]:
        rows = session.execute(
            select(DataKey.subject_id, DataKey.wrapped).where(DataKey.subject_id.in_(subject_ids))
        )
        return {sid: SubjectCipher(sid, self.unwrap(sid, wrapped)) for sid, wrapped in rows}


def _check_master(session: Session, master: MasterKey) -> WrappedKey | None:
    stored = session.get(WrappedKey, BLIND_INDEX_KEY)
    if stored is not None and stored.master_key_id != master.key_id:
        raise KeyFileError(
            f"the master key (id {master.key_id}) is not the one this database was "
            f"sealed with (id {stored.master_key_id})"
        )
    return stored


def initialise_keyring(session: Session, master: MasterKey) -> bool:
    """Create the blind-index key if the database has none. True when it was created."""
    if _check_master(session, master) is not None:
        return False
    index_key = secrets.token_bytes(DATA_KEY_BYTES)
    session.add(
        WrappedKey(
            name=BLIND_INDEX_KEY,
            wrapped=wrap_key(master.material, index_key, label=BLIND_INDEX_KEY),
            master_key_id=master.key_id,
            created_at=utc_naive(now()),
        )
    )
    return True


def open_keyring(session: Session, master: MasterKey) -> Keyring:
    stored = _check_master(session, master)
    if stored is None:
        raise KeyFileError("the database has no key material; run `tutela init` first")
    return Keyring(master, unwrap_key(master.material, stored.wrapped, label=BLIND_INDEX_KEY))


def rotate_master_key(
    session: Session,
    keyring: Keyring,
    new_master: MasterKey,
    *,
    progress: Callable[[int], None] = lambda _n: None,
) -> int:
    """Re-wrap every data key and service key under `new_master`, in the caller's transaction.

    Returns the number of data keys re-wrapped. Nothing is decrypted but the keys themselves.
    """
    old = keyring.master.material
    done = 0
    last = ""
    while True:
        rows = session.execute(
            select(DataKey.subject_id, DataKey.wrapped)
            .where(DataKey.subject_id > last)
            .order_by(DataKey.subject_id)
            .limit(ROTATION_BATCH)
        ).all()
        if not rows:
            break
        params = [
            {
                "sid": sid,
                "wrapped": wrap_key(
                    new_master.material, unwrap_key(old, wrapped, label=sid), label=sid
                ),
            }
            for sid, wrapped in rows
        ]
        session.connection().execute(
            update(DataKey.__table__)
            .where(DataKey.__table__.c.subject_id == bindparam("sid"))
            .values(wrapped=bindparam("wrapped"), master_key_id=new_master.key_id),
            params,
        )
        done += len(rows)
        last = rows[-1][0]
        progress(len(rows))
    for stored in session.scalars(select(WrappedKey)):
        key = unwrap_key(old, stored.wrapped, label=stored.name)
        stored.wrapped = wrap_key(new_master.material, key, label=stored.name)
        stored.master_key_id = new_master.key_id
    session.flush()
    return done


def shred(session: Session, subject_ids: Iterable[str]) -> int:
    """Destroy data keys: every ciphertext of those subjects, and every copy of it, is lost."""
    ids = list(subject_ids)
    result = session.execute(delete(DataKey).where(DataKey.subject_id.in_(ids)))
    return result.rowcount
