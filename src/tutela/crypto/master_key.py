"""Master keys: 32 random bytes each, in a 0600 key file or the TUTELA_MASTER_KEY variable.

They never touch the database; they only wrap the keys that do. A store has one active
master key, which wraps every new key. During a rotation the previous one is `retiring`: it
still unwraps what the rotation has not re-wrapped yet. Once nothing uses it, it is
`retired`: its material is dropped, and only the key its part of the audit trail was
chained with stays, to verify that part.

The key file is a small JSON document (`{"format": "tutela-keys/1", "keys": [...]}`); a
file or variable holding one base64 key, as older versions wrote, is one active key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import orjson
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from tutela.errors import TutelaError

__all__ = [
    "KeyFileError",
    "KeySet",
    "MasterKey",
    "create_key_file",
    "load_keyset",
    "parse_keyset",
    "read_key_file",
    "write_key_file",
]

KEY_BYTES = 32
FORMAT = "tutela-keys/1"


class KeyFileError(TutelaError):
    pass


@dataclass(frozen=True, repr=False)
class MasterKey:
    material: bytes

    @classmethod
    def generate(cls) -> MasterKey:
        return cls(secrets.token_bytes(KEY_BYTES))

    @classmethod
    def from_text(cls, text: str, *, origin: str) -> MasterKey:
        return cls(_decoded(text, origin))

    @cached_property
    def key_id(self) -> str:
        """A public fingerprint that tells keys apart without revealing them."""
        return hashlib.sha256(b"tutela-master-key-id\x00" + self.material).hexdigest()[:16]

    @cached_property
    def chain_key(self) -> bytes:
        """The key the audit trail is chained with while this master key is active: derived
        from it (HKDF-SHA256), never stored in the database."""
        return HKDF(
            algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=b"tutela audit chain"
        ).derive(self.material)

    def to_text(self) -> str:
        return base64.b64encode(self.material).decode()

    def __repr__(self) -> str:  # never print the material
        return f"MasterKey(key_id={self.key_id})"


@dataclass(frozen=True, repr=False)
class KeySet:
    """The master keys a store knows, and the chain keys of those it retired."""

    active: MasterKey
    retiring: tuple[MasterKey, ...] = ()
    retired: Mapping[str, bytes] = field(default_factory=dict)  # key id -> chain key

    @property
    def masters(self) -> tuple[MasterKey, ...]:
        """The keys that unwrap: the active one first."""
        return (self.active, *self.retiring)

    def chain_keys(self) -> dict[str, bytes]:
        """Every key the audit trail was ever chained with, by master key id."""
        return {**self.retired, **{m.key_id: m.chain_key for m in self.masters}}

    def to_text(self) -> str:
        keys = [{"id": self.active.key_id, "state": "active", "key": self.active.to_text()}]
        keys += [{"id": m.key_id, "state": "retiring", "key": m.to_text()} for m in self.retiring]
        keys += [
            {"id": key_id, "state": "retired", "chain_key": base64.b64encode(chain).decode()}
            for key_id, chain in sorted(self.retired.items())
        ]
        return orjson.dumps({"format": FORMAT, "keys": keys}, option=orjson.OPT_INDENT_2).decode()

    def __repr__(self) -> str:
        return f"KeySet(active={self.active.key_id}, retiring={[m.key_id for m in self.retiring]})"


def _decoded(text: str, origin: str) -> bytes:
    try:
        material = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise KeyFileError(f"{origin}: the key is not valid base64") from None
    if len(material) != KEY_BYTES:
        raise KeyFileError(f"{origin}: a key must be {KEY_BYTES} bytes")
    return material


def parse_keyset(text: str, *, origin: str) -> KeySet:
    """A key set from its text: the JSON document, or one base64 key (the active one)."""
    if not text.lstrip().startswith("{"):
        return KeySet(MasterKey.from_text(text, origin=origin))
    try:
        document = orjson.loads(text)
        entries = document["keys"]
        if document.get("format") != FORMAT:
            raise ValueError
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        raise KeyFileError(f"{origin}: not a Tutela key file ({FORMAT})") from None
    active, retiring, retired = [], [], {}
    for entry in entries:
        state = entry.get("state")
        if state == "retired":
            retired[entry["id"]] = _decoded(entry.get("chain_key", ""), origin)
            continue
        key = MasterKey(_decoded(entry.get("key", ""), origin))
        if key.key_id != entry.get("id"):
            raise KeyFileError(f"{origin}: key {entry.get('id')} does not match its id")
        (active if state == "active" else retiring).append(key)
    if len(active) != 1:
        raise KeyFileError(f"{origin}: a key file has exactly one active key")
    return KeySet(active[0], tuple(retiring), retired)


def write_key_file(path: Path, keyset: KeySet) -> None:
    """Replace the key file at once (no reader ever sees half of it), readable by its owner
    only; the rest of the folder is left alone."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(keyset.to_text() + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def create_key_file(path: Path, key: MasterKey | None = None) -> MasterKey:
    """Write a new key file readable by its owner only; refuse to overwrite an existing one."""
    key = key or MasterKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise KeyFileError(f"{path} already exists; refusing to overwrite a master key") from None
    with os.fdopen(fd, "w") as handle:
        handle.write(KeySet(key).to_text() + "\n")
    return key


def read_key_file(path: Path) -> KeySet:
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise KeyFileError(f"no master key at {path}; run `tutela init` first") from None
    except OSError as exc:
        raise KeyFileError(f"cannot read the master key at {path} ({exc.strerror})") from None
    return parse_keyset(text, origin=str(path))


def load_keyset(*, key_file: Path, env_value: str | None) -> KeySet:
    if env_value:
        return parse_keyset(env_value, origin="TUTELA_MASTER_KEY")
    return read_key_file(key_file)
