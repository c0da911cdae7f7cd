"""The PostgreSQL baseline of bench_read_api.py: the same audited read without Tutela's layers.

As bare_read_app.py, on PostgreSQL through psycopg 3: one FastAPI endpoint checks the API
key's hash, finds the subject, unwraps its data key, decrypts its identification values and
connection logs, appends one HMAC-chained audit row under the head row's lock, commits. No
policy, no gate, no ORM, no pydantic response model. A PostgreSQL round trip would stall the
event loop, so, like Tutela's read endpoint on PostgreSQL, it runs in FastAPI's thread pool,
each thread with a connection of its own.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
from datetime import UTC, datetime

import orjson
import psycopg
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from fastapi import FastAPI, Header, HTTPException, Response

from tutela.crypto.master_key import MasterKey

DSN = os.environ["BENCH_DSN"]  # postgresql://… (libpq form)
_MASTER_KEY = MasterKey.from_text(os.environ["BENCH_MASTER"], origin="env")
MASTER = AESGCM(_MASTER_KEY.material)
CHAIN_KEY, CHAIN_KEY_ID = _MASTER_KEY.chain_key, _MASTER_KEY.key_id
local = threading.local()
app = FastAPI()


def db() -> psycopg.Connection:
    if not hasattr(local, "conn"):
        local.conn = psycopg.connect(DSN)
    return local.conn


def _open(aead: AESGCM, blob: bytes, ad: bytes) -> bytes:
    return aead.decrypt(blob[:12], blob[12:], ad)


@app.get("/subjects/{external_id}")
def read(external_id: str, purpose: str, authorization: str = Header()) -> Response:
    conn = db()
    with conn.transaction():
        digest = hashlib.sha256(authorization.removeprefix("Bearer ").encode()).hexdigest()
        if conn.execute("SELECT 1 FROM api_keys WHERE key_hash = %s", (digest,)).fetchone() is None:
            raise HTTPException(401)
        row = conn.execute(
            "SELECT id FROM subjects WHERE external_id = %s", (external_id,)
        ).fetchone()
        if row is None:
            raise HTTPException(404)
        sid = row[0]
        (wrapped,) = conn.execute(
            "SELECT wrapped FROM data_keys WHERE subject_id = %s", (sid,)
        ).fetchone()
        aead = AESGCM(_open(MASTER, bytes(wrapped), b"tutela-wrap\x1f" + sid.encode()))
        data: dict = {"identification": {}, "technical": []}
        for category, field, blob in conn.execute(
            "SELECT category, field, ciphertext FROM personal_data WHERE subject_id = %s "
            "AND category IN ('identification', 'technical', 'cookies')",
            (sid,),
        ):
            ad = f"{sid}\x1f{category}\x1f{field}".encode()
            data.setdefault(category, {})[field] = orjson.loads(_open(aead, bytes(blob), ad))
        for at, blob in conn.execute(
            "SELECT at, ciphertext FROM connections WHERE subject_id = %s ORDER BY at", (sid,)
        ):
            slot = at.isoformat(sep=" ", timespec="microseconds")
            item = orjson.loads(_open(aead, bytes(blob), f"{sid}\x1ftechnical\x1f{slot}".encode()))
            item["at"] = at.isoformat()
            data["technical"].append(item)
    with conn.transaction():
        _audit(conn, sid, purpose)
    return Response(
        orjson.dumps({"external_id": external_id, "purpose": purpose, "data": data}),
        media_type="application/json",
    )


def _audit(conn: psycopg.Connection, sid: str, purpose: str) -> None:
    seq, last = conn.execute("SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE").fetchone()
    stamp = datetime.now(UTC).replace(tzinfo=None)
    fields = [
        "bench",
        "read",
        sid,
        "identification,technical",
        purpose,
        "allowed",
        "",
        "bench",
    ]
    message = last.encode() + orjson.dumps([seq + 1, stamp.isoformat(sep=" "), *fields, {}])
    digest = hmac.digest(CHAIN_KEY, message, "sha256").hex()
    conn.execute(
        "INSERT INTO audit_events (seq, at, principal, action, subject_id, categories, purpose,"
        " outcome, reason, policy_version, detail, prev_hash, hash, chain_key_id) "
        "VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
        (seq + 1, stamp, *fields, "{}", last, digest, CHAIN_KEY_ID),
    )
    conn.execute("UPDATE audit_head SET seq = %s, hash = %s WHERE id = 1", (seq + 1, digest))
