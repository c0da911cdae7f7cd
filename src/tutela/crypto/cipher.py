"""AES-256-GCM with associated data that binds each ciphertext to its subject, category and slot.

A ciphertext is `nonce (12 bytes) || ciphertext || tag`. Moving it to another subject, another
category or another field changes the associated data, and decryption is refused.
"""

from __future__ import annotations

import os

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tutela.errors import TutelaError

__all__ = ["DecryptionRefused", "SubjectCipher", "associated_data", "unwrap_key", "wrap_key"]

NONCE_BYTES = 12


class DecryptionRefused(TutelaError):
    """The key is wrong or the ciphertext does not belong where it was found."""


def associated_data(subject_id: str, category: str, slot: str) -> bytes:
    return f"{subject_id}\x1f{category}\x1f{slot}".encode()


def _seal(aead: AESGCM, plaintext: bytes, ad: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + aead.encrypt(nonce, plaintext, ad)


def _open(aead: AESGCM, blob: bytes, ad: bytes, what: str) -> bytes:
    try:
        return aead.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], ad)
    except (InvalidTag, ValueError):
        raise DecryptionRefused(f"decryption refused for {what}") from None


def wrap_key(wrapping_key: bytes | AESGCM, key: bytes, *, label: str) -> bytes:
    """Encrypt a key under another; `label` (a subject id or key name) is bound to it."""
    aead = wrapping_key if isinstance(wrapping_key, AESGCM) else AESGCM(wrapping_key)
    return _seal(aead, key, b"tutela-wrap\x1f" + label.encode())


def unwrap_key(wrapping_key: bytes | AESGCM, wrapped: bytes, *, label: str) -> bytes:
    aead = wrapping_key if isinstance(wrapping_key, AESGCM) else AESGCM(wrapping_key)
    return _open(aead, wrapped, b"tutela-wrap\x1f" + label.encode(), f"key {label}")


class SubjectCipher:
    """Encrypts and decrypts one subject's values under that subject's data key."""

    __slots__ = ("_aead", "subject_id")

    def __init__(self, subject_id: str, data_key: bytes) -> None:
        self.subject_id = subject_id
        self._aead = AESGCM(data_key)

    def encrypt(self, category: str, slot: str, value: object) -> bytes:
        # `associated_data` and `_seal`, inlined: this runs for every value of a bulk import.
        nonce = os.urandom(NONCE_BYTES)
        ad = f"{self.subject_id}\x1f{category}\x1f{slot}".encode()
        return nonce + self._aead.encrypt(nonce, orjson.dumps(value), ad)

    def decrypt(self, category: str, slot: str, blob: bytes) -> object:
        ad = associated_data(self.subject_id, category, slot)
        return orjson.loads(_open(self._aead, bytes(blob), ad, f"{category}.{slot}"))
