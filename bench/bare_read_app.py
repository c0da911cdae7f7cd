"""The baseline of bench_read_api.py: the same audited read without Tutela's layers.

One FastAPI endpoint on the same database file: checks the API key's hash, finds the subject,
unwraps its data key, decrypts its identification values and connection logs, appends one
hash-chained audit row, commits. No policy, no gate, no ORM, no pydantic response model.
Reads run outside any lock; the audit append takes a process mutex and a file lock, as any
sound SQLite writer shared by threads and processes must. Like Tutela's read endpoint on
SQLite, it runs on the event loop: no thread hop.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import os
import sqlite3
import threading
from datetime import UTC, datetime

import orjson
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from fastapi import FastAPI, Header, HTTPException, Response

from tutela.crypto.master_key import MasterKey

DB = os.environ["BENCH_DB"]
_MASTER_KEY = MasterKey.from_text(os.environ["BENCH_MASTER"], origin="env")
MASTER = AESGCM(_MASTER_KEY.material)
CHAIN_KEY, CHAIN_KEY_ID = _MASTER_KEY.chain_key, _MASTER_KEY.key_id
local = threading.local()
write_mutex = threading.Lock()
write_file = os.open(DB + "-bare-writer.lock", os.O_RDWR | os.O_CREAT, 0o600)
app = FastAPI()


def db() -> sqlite3.Connection:
    if not hasattr(local, "conn"):
        local.conn = sqlite3.connect(DB, isolation_level=None, check_same_thread=False)
        local.conn.execute("PRAGMA busy_timeout=10000")
        local.conn.execute("PRAGMA synchronous=NORMAL")
    return local.conn


def _open(aead: AESGCM, blob: bytes, ad: bytes) -> bytes:
    return aead.decrypt(blob[:12], blob[12:], ad)


@app.get("/subjects/{external_id}")
async def read(external_id: str, purpose: str, authorization: str = Header()) -> Response:
    conn = db()
    conn.execute("BEGIN")
    try:
        digest = hashlib.sha256(authorization.removeprefix("Bearer ").encode()).hexdigest()
        if conn.execute("SELECT 1 FROM api_keys WHERE key_hash = ?", (digest,)).fetchone() is None:
            raise HTTPException(401)
        row = conn.execute(
            "SELECT id FROM subjects WHERE external_id = ?", (external_id,)
        ).fetchone()
        if row is None:
            raise HTTPException(404)
        sid = row[0]
        (wrapped,) = conn.execute(
            "SELECT wrapped FROM data_keys WHERE subject_id = ?", (sid,)
        ).fetchone()
        aead = AESGCM(_open(MASTER, wrapped, b"tutela-wrap\x1f" + sid.encode()))
        data: dict = {"identification": {}, "technical": []}
        for category, field, blob in conn.execute(
            "SELECT category, field, ciphertext FROM personal_data WHERE subject_id = ? "
            "AND category IN ('identification', 'technical', 'cookies')",
            (sid,),
        ):
            ad = f"{sid}\x1f{category}\x1f{field}".encode()
            data.setdefault(category, {})[field] = orjson.loads(_open(aead, blob, ad))
        for at, blob in conn.execute(
            "SELECT at, ciphertext FROM connections WHERE subject_id = ? ORDER BY at", (sid,)
        ):
            item = orjson.loads(_open(aead, blob, f"{sid}\x1ftechnical\x1f{at}".encode()))
            item["at"] = at
            data["technical"].append(item)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    with write_mutex:
        fcntl.flock(write_file, fcntl.LOCK_EX)
        try:
            _audit(conn, sid, purpose)
        finally:
            fcntl.flock(write_file, fcntl.LOCK_UN)
    return Response(
        orjson.dumps({"external_id": external_id, "purpose": purpose, "data": data}),
        media_type="application/json",
    )


def _audit(conn: sqlite3.Connection, sid: str, purpose: str) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        seq, last = conn.execute("SELECT seq, hash FROM audit_head WHERE id = 1").fetchone()
        stamp = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
        fields = [
            "bench",
            "read",
            sid,
            "identification,technical",
            purpose,
            "allowed",
            "",
            "bench",
            {},
        ]
        message = last.encode() + orjson.dumps([seq + 1, stamp, *fields])
        digest = hmac.digest(CHAIN_KEY, message, "sha256").hex()
        conn.execute(
            "INSERT INTO audit_events (seq, at, principal, action, subject_id, categories, purpose,"
            " outcome, reason, policy_version, detail, prev_hash, hash, chain_key_id) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (seq + 1, stamp, *fields[:-1], "{}", last, digest, CHAIN_KEY_ID),
        )
        conn.execute("UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1", (seq + 1, digest))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
