"""The unlocked key material of a running Tutela: master key plus the blind-index key.

Data keys are created, unwrapped, re-wrapped (rotation) and destroyed (crypto-shredding) here
and nowhere else.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Iterable

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from tutela.clock import now
from tutela.crypto.cipher import SubjectCipher, unwrap_key, wrap_key
from tutela.crypto.master_key import KeyFileError, MasterKey
from tutela.crypto.models import DataKey, WrappedKey
from tutela.db import utc_naive
from tutela.errors import NotFound

__all__ = ["Keyring", "initialise_keyring", "open_keyring", "rotate_master_key"]

BLIND_INDEX_KEY = "blind_index"
NOTES_KEY = "notes"  # free text that may hold personal data (access reports)
SERVICE_KEYS = (BLIND_INDEX_KEY, NOTES_KEY)
DATA_KEY_BYTES = 32
ROTATION_BATCH = 5000


# Built once: every read runs it, and building a statement costs more than executing it.
_WRAPPED_KEY = select(DataKey.__table__.c.wrapped).where(
    DataKey.__table__.c.subject_id == bindparam("subject_id")
)


class Keyring:
    __slots__ = ("_index_key", "_master_aead", "_notes", "master")

    def __init__(self, master: MasterKey, index_key: bytes, notes_key: bytes) -> None:
        self.master = master
        self._master_aead = AESGCM(master.material)
        self._index_key = index_key
        self._notes = AESGCM(notes_key)

    def __getstate__(self):  # sent to import workers through a pipe, never to disk
        return self.master, self._index_key

    def __setstate__(self, state) -> None:
        self.master, self._index_key = state
        self._master_aead = AESGCM(self.master.material)
        self._notes = None

    def seal_note(self, text: str, *, label: str) -> bytes:
        return _seal_text(self._notes, text, label)

    def open_note(self, blob: bytes, *, label: str) -> str:
        return _open_text(self._notes, blob, label)

    def new_data_key(self, subject_id: str) -> tuple[bytes, bytes]:
        """A fresh data key for a subject and its wrapped form, to store in `data_keys`."""
        key = secrets.token_bytes(DATA_KEY_BYTES)
        return key, wrap_key(self._master_aead, key, label=subject_id)

    def unwrap(self, subject_id: str, wrapped: bytes) -> bytes:
        return unwrap_key(self._master_aead, bytes(wrapped), label=subject_id)

    def data_key_id(self, subject_id: str, wrapped: bytes) -> str:
        """A fingerprint of a subject's data key, to name it in a receipt once destroyed:
        whoever holds an old backup and the master key can check which key it was, and
        nothing of the key can be learnt from it."""
        key = self.unwrap(subject_id, wrapped)
        return hashlib.sha256(b"tutela-data-key-id\x1f" + key).hexdigest()[:16]

    def blind_index(self, field: str, normalised: str) -> str:
        """Keyed HMAC of a normalised value: equal values match, nothing can be read back."""
        message = f"{field}\x1f{normalised}".encode()
        return hmac.new(self._index_key, message, hashlib.sha256).hexdigest()[:32]

    def cipher(self, session: Session, subject_id: str) -> SubjectCipher:
        wrapped = session.connection().scalar(_WRAPPED_KEY, {"subject_id": subject_id})
        return self.cipher_for(subject_id, wrapped)

    def cipher_for(self, subject_id: str, wrapped: bytes | None) -> SubjectCipher:
        """The cipher of a subject whose wrapped key the caller already read."""
        if wrapped is None:
            raise NotFound("the subject has no data key (erased)")
        return SubjectCipher(subject_id, self.unwrap(subject_id, wrapped))

    def ciphers(self, session: Session, subject_ids: Iterable[str]) -> dict[str, SubjectCipher]:
        rows = session.execute(
            select(DataKey.subject_id, DataKey.wrapped).where(DataKey.subject_id.in_(subject_ids))
        )
        return {sid: SubjectCipher(sid, self.unwrap(sid, wrapped)) for sid, wrapped in rows}


def _seal_text(aead: AESGCM, text: str, label: str) -> bytes:
    nonce = secrets.token_bytes(12)
    return nonce + aead.encrypt(nonce, text.encode(), label.encode())


def _open_text(aead: AESGCM, blob: bytes, label: str) -> str:
    return aead.decrypt(blob[:12], blob[12:], label.encode()).decode()


def _service_keys(session: Session, master: MasterKey) -> dict[str, WrappedKey]:
    stored = {k.name: k for k in session.scalars(select(WrappedKey))}
    for key in stored.values():
        if key.master_key_id != master.key_id:
            raise KeyFileError(
                f"the master key (id {master.key_id}) is not the one this database was "
                f"sealed with (id {key.master_key_id})"
            )
    return stored


def initialise_keyring(session: Session, master: MasterKey) -> bool:
    """Create the service keys the database lacks. True when any was created."""
    stored = _service_keys(session, master)
    missing = [name for name in SERVICE_KEYS if name not in stored]
    for name in missing:
        session.add(
            WrappedKey(
                name=name,
                wrapped=wrap_key(master.material, secrets.token_bytes(DATA_KEY_BYTES), label=name),
                master_key_id=master.key_id,
                created_at=utc_naive(now()),
            )
        )
    session.flush()
    return bool(missing)


def open_keyring(session: Session, master: MasterKey) -> Keyring:
    stored = _service_keys(session, master)
    if any(name not in stored for name in SERVICE_KEYS):
        raise KeyFileError("the database lacks key material; run `tutela init` first")
    keys = {
        name: unwrap_key(master.material, stored[name].wrapped, label=name) for name in SERVICE_KEYS
    }
    return Keyring(master, keys[BLIND_INDEX_KEY], keys[NOTES_KEY])


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
