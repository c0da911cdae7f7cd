"""The unlocked key material of a running Tutela: its master keys and the service keys.

Data keys are created, unwrapped and destroyed (crypto-shredding) here and nowhere else.
A process keeps its keyring for its whole life, and follows rotations without a restart:
before it wraps a new key it checks which master key the store says is active (reloading
the key file when that is not the one it holds), and a key wrapped under a master key it
does not know yet makes it reload the key file once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections.abc import Callable, Iterable

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from tutela.clock import now, utc_naive
from tutela.crypto.cipher import DecryptionRefused, SubjectCipher, unwrap_key, wrap_key
from tutela.crypto.master_key import KeyFileError, KeySet, MasterKey
from tutela.crypto.models import DataKey, MasterKeyRecord, WrappedKey
from tutela.errors import NotFound

__all__ = ["Keyring", "active_key_id", "initialise_keyring", "open_keyring"]

BLIND_INDEX_KEY = "blind_index"
NOTES_KEY = "notes"  # free text that may hold personal data (access reports)
SERVICE_KEYS = (BLIND_INDEX_KEY, NOTES_KEY)
DATA_KEY_BYTES = 32


# Built once: every read runs it, and building a statement costs more than executing it.
_WRAPPED_KEY = select(DataKey.__table__.c.wrapped).where(
    DataKey.__table__.c.subject_id == bindparam("subject_id")
)
_records = MasterKeyRecord.__table__.c
_ACTIVE = select(_records.id).where(_records.state == "active")


def active_key_id(session: Session, *, hold: bool = False) -> str | None:
    """The id of the store's active master key. With `hold`, the key is kept active until the
    transaction ends (PostgreSQL: a shared lock a rotation's retirement waits for)."""
    query = _ACTIVE.with_for_update(read=True) if hold else _ACTIVE
    return session.scalar(query)


class Keyring:
    __slots__ = ("_aeads", "_index_key", "_lock", "_notes", "_reload", "_wrapping", "keyset")

    def __init__(
        self,
        keyset: KeySet,
        index_key: bytes,
        notes_key: bytes | None,
        reload: Callable[[], KeySet] | None = None,
    ) -> None:
        self._index_key = index_key
        self._notes = AESGCM(notes_key) if notes_key else None
        self._reload = reload
        self._lock = threading.Lock()
        self._use(keyset)

    def _use(self, keyset: KeySet, wrapping: str | None = None) -> None:
        self.keyset = keyset
        self._aeads = [(m.key_id, AESGCM(m.material)) for m in keyset.masters]
        self._wrapping = wrapping or keyset.active.key_id

    def __getstate__(self):  # sent to import workers through a pipe, never to disk
        return self.keyset, self._index_key, self._wrapping

    def __setstate__(self, state) -> None:
        keyset, self._index_key, wrapping = state
        self._notes, self._reload, self._lock = None, None, threading.Lock()
        self._use(keyset, wrapping)

    @property
    def master(self) -> MasterKey:
        """The master key new keys are wrapped under."""
        return next(m for m in self.keyset.masters if m.key_id == self._wrapping)

    def ensure_current(self, session: Session) -> None:
        """Make sure new keys are wrapped under the store's active master key, and keep it so
        until the transaction ends: called by every transaction that creates data keys."""
        active = active_key_id(session, hold=True)
        if active is None or active == self._wrapping:
            return
        with self._lock:
            if active not in {m.key_id for m in self.keyset.masters} and self._reload:
                self._use(self._reload(), active)
            if active not in {m.key_id for m in self.keyset.masters}:
                raise KeyFileError(
                    f"the store's active master key ({active}) is not in the key file: "
                    "a rotation is under way elsewhere; give this process the new key file"
                )
            self._wrapping = active

    def seal_note(self, text: str, *, label: str) -> bytes:
        return _seal_text(self._notes, text, label)

    def open_note(self, blob: bytes, *, label: str) -> str:
        return _open_text(self._notes, blob, label)

    def new_data_key(self, subject_id: str) -> tuple[bytes, bytes]:
        """A fresh data key for a subject and its wrapped form, to store in `data_keys` with
        `master.key_id`."""
        key = secrets.token_bytes(DATA_KEY_BYTES)
        aead = next(a for key_id, a in self._aeads if key_id == self._wrapping)
        return key, wrap_key(aead, key, label=subject_id)

    def unwrap(self, subject_id: str, wrapped: bytes) -> bytes:
        """A data key, under whichever master key wraps it; once a rotation elsewhere has
        re-wrapped it under a key this process does not hold yet, after reloading the file."""
        for _ in range(2):
            for _key_id, aead in self._aeads:
                try:
                    return unwrap_key(aead, bytes(wrapped), label=subject_id)
                except DecryptionRefused:
                    continue
            if self._reload is None:
                break
            with self._lock:
                self._use(self._reload(), self._wrapping)
        raise DecryptionRefused(f"decryption refused for key {subject_id}")

    def rewrap(self, subject_id: str, wrapped: bytes) -> bytes:
        """The data key wrapped anew under the master key new keys are wrapped under."""
        aead = next(a for key_id, a in self._aeads if key_id == self._wrapping)
        return wrap_key(aead, self.unwrap(subject_id, wrapped), label=subject_id)

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


def _service_keys(session: Session, keyset: KeySet) -> dict[str, bytes]:
    """The service keys, unwrapped under whichever of the key set's master keys wraps each."""
    masters = {m.key_id: m for m in keyset.masters}
    keys = {}
    for stored in session.scalars(select(WrappedKey)):
        master = masters.get(stored.master_key_id)
        if master is None:
            raise KeyFileError(
                f"the master key (id {keyset.active.key_id}) is not the one this database was "
                f"sealed with (id {stored.master_key_id})"
            )
        keys[stored.name] = unwrap_key(master.material, stored.wrapped, label=stored.name)
    return keys


def initialise_keyring(session: Session, keyset: KeySet) -> bool:
    """Create the service keys the database lacks, and record the active master key when the
    store has none yet. True when a service key was created."""
    stored = _service_keys(session, keyset)
    if active_key_id(session) is None:
        session.add(
            MasterKeyRecord(id=keyset.active.key_id, state="active", created_at=utc_naive(now()))
        )
    missing = [name for name in SERVICE_KEYS if name not in stored]
    for name in missing:
        session.add(
            WrappedKey(
                name=name,
                wrapped=wrap_key(
                    keyset.active.material, secrets.token_bytes(DATA_KEY_BYTES), label=name
                ),
                master_key_id=keyset.active.key_id,
                created_at=utc_naive(now()),
            )
        )
    session.flush()
    return bool(missing)


def open_keyring(
    session: Session, keyset: KeySet, reload: Callable[[], KeySet] | None = None
) -> Keyring:
    keys = _service_keys(session, keyset)
    if any(name not in keys for name in SERVICE_KEYS):
        raise KeyFileError("the database lacks key material; run `tutela init` first")
    keyring = Keyring(keyset, keys[BLIND_INDEX_KEY], keys[NOTES_KEY], reload)
    active = active_key_id(session)
    if active is not None and active in {m.key_id for m in keyset.masters}:
        keyring._wrapping = active
    return keyring
