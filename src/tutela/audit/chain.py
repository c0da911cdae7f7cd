"""The keys the audit trail is chained with, and the link between two events.

Each event's link is an HMAC-SHA256 of the previous link and the event's content, under the
chain key of the master key that was active when it was written (`MasterKey.chain_key`,
derived from it, never stored in the database). Whoever can write the database but does not
hold the key file cannot alter an event and chain the ones after it again: they cannot
compute a link. Cutting the tail leaves a shorter chain that still holds together; only a
checkpoint kept outside the database shows it (`audit.checkpoint`).

Every process that writes the trail says once which key it chains with, for its engine
(`chain_with`), as `db` keeps the writer lock of each engine: `record` finds it there,
without one more argument on every path that audits.
"""

from __future__ import annotations

import hashlib
import weakref
from collections.abc import Callable
from functools import lru_cache

import orjson
from sqlalchemy import Engine

from tutela.crypto.master_key import MasterKey
from tutela.db import Connected
from tutela.errors import TutelaError

__all__ = ["GENESIS", "chain_key", "chain_with", "link", "mac"]

GENESIS = "0" * 64
SHA256_BLOCK = 64

_sources: weakref.WeakKeyDictionary[Engine, Callable[[], MasterKey]] = weakref.WeakKeyDictionary()


def chain_with(engine: Engine, source: Callable[[], MasterKey]) -> None:
    """Chain what is recorded through `engine` under `source()`'s chain key (asked at each
    append, so that a process follows a key rotation)."""
    _sources[engine] = source


def chain_key(session: Connected) -> MasterKey:
    source = _sources.get(session.connection().engine)
    if source is None:
        raise TutelaError("no audit chain key for this database: open it through a Context")
    return source()


def link(key: bytes | None, prev_hash: str, seq: int, row: tuple) -> str:
    """The link of one event: its sequence number and fields in order, after the previous
    link, under the chain key. Without a key, the plain SHA-256 that versions before keyed
    chains wrote (`audit.keying` reads it once, to key such a trail)."""
    return mac(key)(prev_hash.encode() + orjson.dumps([seq, *row], option=orjson.OPT_SORT_KEYS))


@lru_cache(maxsize=16)
def mac(key: bytes | None) -> Callable[[bytes], str]:
    """HMAC-SHA256 (RFC 2104) under `key`, absorbed once: the inner and outer states after
    the padded key are copied for each message. `hmac.digest` absorbs the key at every call,
    three times slower per link, and verifying must link 200,000 events a second; a test
    checks that both agree."""
    if key is None:
        return lambda message: hashlib.sha256(message).hexdigest()
    if len(key) > SHA256_BLOCK:
        raise ValueError("chain keys are shorter than a SHA-256 block")
    padded = key.ljust(SHA256_BLOCK, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in padded))
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in padded))

    def digest(message: bytes) -> str:
        state = inner.copy()
        state.update(message)
        final = outer.copy()
        final.update(state.digest())
        return final.hexdigest()

    return digest
