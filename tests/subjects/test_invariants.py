"""No personal value in clear in the SQLite database file or its write-ahead log."""

import re

import pytest
from sqlalchemy import select

from tutela.clock import now
from tutela.db import session_scope
from tutela.models import Base
from tutela.subjects import service
from tutela.subjects.demo import demo_records
from tutela.subjects.validation import validate_record

# Random ciphertext contains any given 4-byte string by chance often enough in a few MB to make
# a test flaky; 6 bytes and more never occur by chance. Shorter names prove nothing either way.
MIN_NEEDLE = 6


def _needles(records: list[dict]) -> set[bytes]:
    found = set()
    for record in records:
        ident = record["identification"]
        values = [
            ident["email"],
            ident["phone"],
            re.sub(r"\D", "", ident["phone"]),
            ident["first_name"],
            ident["last_name"],
        ]
        values += [c["ip"] for c in record["connections"]]
        values += [p["iban"] for p in record["payments"] if "iban" in p]
        found.update(v.encode() for v in values if len(v.encode()) >= MIN_NEEDLE)
    return found


def _store(env, records) -> None:
    with session_scope(env.ctx.engine) as session:
        keyring = env.ctx.keyring(session)
        valid = [validate_record(r, env.ctx.rules) for r in records]
        service.save(session=session, keyring=keyring, rules=env.ctx.rules, records=valid, at=now())


def test_no_column_of_any_table_holds_a_personal_value(env, example):
    records = [example, *demo_records(200, seed=3, today=now().date())]
    _store(env, records)
    dump = bytearray()
    with env.ctx.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            for row in conn.execute(select(table)):
                for value in row:
                    dump += value if isinstance(value, bytes) else str(value).encode()
                    dump += b"\x00"
    dump = bytes(dump)
    assert [n for n in _needles(records) if n in dump] == []
    assert b"crm-42" in dump  # the check does see what is stored in clear


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_database_file_and_wal_hold_no_personal_value_in_clear(env, example):
    records = [example, *demo_records(400, seed=7, today=now().date())]
    _store(env, records)
    db_path = env.workdir / "tutela.db"
    wal_path = env.workdir / "tutela.db-wal"
    # The engine still holds connections, so the WAL has not been folded back yet.
    assert wal_path.exists() and wal_path.stat().st_size > 0
    needles = _needles(records)
    assert len(needles) > 1000
    for path in (db_path, wal_path):
        content = path.read_bytes()
        leaked = [n for n in needles if n in content]
        assert leaked == [], f"{path.name} holds {len(leaked)} values in clear"
    # Sanity: the same check does find a value that is stored in clear.
    assert example["external_id"].encode() in db_path.read_bytes() + wal_path.read_bytes()
