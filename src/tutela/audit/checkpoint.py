"""Signed checkpoints of the trail's head, kept where a database writer cannot reach.

A keyed chain cannot be altered and linked again without the key file, but its tail can be
cut and the head moved back: what is left still holds together. A checkpoint says how far
the trail went and what its link was there; kept outside the database (a file, the log, the
DPO's mailbox), it proves later that the trail still extends it (`verify --checkpoint`).

It is signed with Ed25519 under a key derived from the chain key of the master key active when
it was taken, so the key file checks it for as long as it keeps that chain key (retired keys
keep theirs), and it carries its public key, so that anyone may check the signature alone.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import Connection, bindparam, select

from tutela.audit.service import HEAD_ID, events_t, head_t
from tutela.clock import utc_naive
from tutela.crypto.master_key import MasterKey
from tutela.errors import TutelaError

__all__ = [
    "FORMAT",
    "Checkpoint",
    "CheckpointError",
    "parse_checkpoint",
    "read_checkpoint",
    "take",
]

FORMAT = "tutela-audit-checkpoint/1"


class CheckpointError(TutelaError):
    pass


def _signing_key(chain_key: bytes) -> Ed25519PrivateKey:
    seed = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"tutela audit checkpoint"
    ).derive(chain_key)
    return Ed25519PrivateKey.from_private_bytes(seed)


def _public_text(key: Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str
    key_id: str  # the master key whose chain key the signing key is derived from
    taken_at: str  # ISO-8601, UTC, Z
    public_key: str  # Ed25519, raw, base64
    signature: str = ""

    def signed_part(self) -> bytes:
        body = {"format": FORMAT, **asdict(self)}
        del body["signature"]
        return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)

    def to_json(self) -> str:
        return orjson.dumps({"format": FORMAT, **asdict(self)}).decode()

    def problem(self, connection: Connection, chain_keys: dict) -> str | None:
        """What is wrong with this checkpoint or with the trail against it; None when the
        trail still holds the event it saw, with the link it saw."""
        chain_key = chain_keys.get(self.key_id)
        if chain_key is None:
            return (
                f"the checkpoint is signed under master key {self.key_id}, whose chain key the "
                "key file does not hold"
            )
        signer = _signing_key(chain_key)
        if _public_text(signer) != self.public_key:
            return "the checkpoint was not signed by this store's key"
        try:
            signer.public_key().verify(base64.b64decode(self.signature), self.signed_part())
        except (InvalidSignature, binascii.Error, ValueError):
            return "the checkpoint's signature does not match its content (altered)"
        stored = connection.execute(
            select(events_t.c.hash).where(events_t.c.seq == bindparam("seq")), {"seq": self.seq}
        ).scalar()
        if stored is None:
            return (
                f"the checkpoint of {self.taken_at} saw event {self.seq}, which the trail no "
                "longer holds (events cut at the end, the head moved back)"
            )
        if stored != self.hash:
            return (
                f"event {self.seq} is not the one the checkpoint of {self.taken_at} saw "
                "(the trail was rewritten)"
            )
        return None


def take(connection: Connection, master: MasterKey, at: datetime) -> Checkpoint:
    """A signed checkpoint of the trail's head as the connection sees it."""
    seq, hash_ = connection.execute(
        select(head_t.c.seq, head_t.c.hash).where(head_t.c.id == HEAD_ID)
    ).one()
    signer = _signing_key(master.chain_key)
    unsigned = Checkpoint(
        seq=seq,
        hash=hash_,
        key_id=master.key_id,
        taken_at=utc_naive(at).isoformat(timespec="seconds") + "Z",
        public_key=_public_text(signer),
    )
    signature = base64.b64encode(signer.sign(unsigned.signed_part())).decode()
    return Checkpoint(**{**asdict(unsigned), "signature": signature})


def parse_checkpoint(text: str, *, origin: str) -> Checkpoint:
    """A checkpoint from its JSON, or from a log line that ends with it."""
    start = text.find("{")
    try:
        document = orjson.loads(text[start:].strip() if start >= 0 else text)
        if document.pop("format") != FORMAT:
            raise ValueError
        checkpoint = Checkpoint(**document)
        if type(checkpoint.seq) is not int or not all(
            isinstance(v, str) for k, v in asdict(checkpoint).items() if k != "seq"
        ):
            raise ValueError
        return checkpoint
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
        raise CheckpointError(f"{origin}: not a Tutela audit checkpoint ({FORMAT})") from None


def read_checkpoint(path: Path) -> Checkpoint:
    """The checkpoint in a file, or the newest one in a folder of checkpoints."""
    if path.is_dir():
        found = sorted(path.glob("audit-checkpoint-*.json"))
        if not found:
            raise CheckpointError(f"no audit checkpoint in {path}")
        path = max(found, key=lambda p: parse_checkpoint(p.read_text(), origin=str(p)).seq)
    try:
        text = path.read_text()
    except OSError as exc:
        raise CheckpointError(f"cannot read the checkpoint {path} ({exc.strerror})") from None
    return parse_checkpoint(text, origin=str(path))
