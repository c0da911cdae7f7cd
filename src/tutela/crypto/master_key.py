"""The master key: 32 random bytes from a 0600 key file or the TUTELA_MASTER_KEY variable.

It never touches the database; it only wraps the keys that do.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from tutela.errors import TutelaError

__all__ = ["KeyFileError", "MasterKey", "create_key_file", "load_master_key", "read_key_file"]

KEY_BYTES = 32


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
        try:
            material = base64.b64decode(text.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise KeyFileError(f"{origin}: the master key is not valid base64") from None
        if len(material) != KEY_BYTES:
            raise KeyFileError(f"{origin}: the master key must be {KEY_BYTES} bytes")
        return cls(material)

    @property
    def key_id(self) -> str:
        """A public fingerprint that tells keys apart without revealing them."""
        return hashlib.sha256(b"tutela-master-key-id\x00" + self.material).hexdigest()[:16]

    def to_text(self) -> str:
        return base64.b64encode(self.material).decode()

    def __repr__(self) -> str:  # never print the material
        return f"MasterKey(key_id={self.key_id})"


def create_key_file(path: Path, key: MasterKey | None = None) -> MasterKey:
    """Write a new key file readable by its owner only; refuse to overwrite an existing one."""
    key = key or MasterKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise KeyFileError(f"{path} already exists; refusing to overwrite a master key") from None
    with os.fdopen(fd, "w") as handle:
        handle.write(key.to_text() + "\n")
    return key


def read_key_file(path: Path) -> MasterKey:
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise KeyFileError(f"no master key at {path}; run `tutela init` first") from None
    except OSError as exc:
        raise KeyFileError(f"cannot read the master key at {path} ({exc.strerror})") from None
    return MasterKey.from_text(text, origin=str(path))


def load_master_key(*, key_file: Path, env_value: str | None) -> MasterKey:
    if env_value:
        return MasterKey.from_text(env_value, origin="TUTELA_MASTER_KEY")
    return read_key_file(key_file)
