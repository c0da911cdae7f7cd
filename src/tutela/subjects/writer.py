"""The one write path for subjects, in three steps:

- `gather`: what the database already holds about a batch's subjects (one query per table);
- `prepare`: encrypt and blind-index into rows, without touching the database, so that it
  can run in worker processes on bulk imports;
- `execute`: store the rows with one executemany per table.

The API (one record) and the import (thousands) both go through these steps.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import NamedTuple

from sqlalchemy import Row, Table, and_, bindparam, delete, select, update
from sqlalchemy.orm import Session

from tutela.access.gate import Limit, SubjectFacts, erased_for_good
from tutela.consent.models import Consent
from tutela.crypto.cipher import SubjectCipher
from tutela.crypto.keyring import Keyring
from tutela.crypto.models import DataKey
from tutela.db import bulk_insert
from tutela.policy.schema import Policy
from tutela.subjects.models import Connection, DataLimit, Payment, PersonalValue, Subject
from tutela.subjects.validation import ValidRecord

__all__ = [
    "LIFECYCLE",
    "Known",
    "Rows",
    "Written",
    "categories_in",
    "erased_for_good_by_subject",
    "execute",
    "gather",
    "kind_change_problem",
    "prepare",
    "record_slot",
    "without",
]

LIFECYCLE = (
    "first_contact_at",
    "last_contact_at",
    "subscription_started_at",
    "subscription_ended_at",
    "last_connection_at",
    "last_transaction_at",
    "date_of_death",
)

subjects_t: Table = Subject.__table__
values_t: Table = PersonalValue.__table__
connections_t: Table = Connection.__table__
payments_t: Table = Payment.__table__
consents_t: Table = Consent.__table__
keys_t: Table = DataKey.__table__
limits_t: Table = DataLimit.__table__

# Column order of the tuples `prepare` builds for new rows.
INSERTS: dict[str, tuple[Table, tuple[str, ...]]] = {
    "subjects": (
        subjects_t,
        ("id", "external_id", "kind", "source", "created_at", "updated_at", *LIFECYCLE),
    ),
    "keys": (keys_t, ("subject_id", "wrapped", "master_key_id")),
    "values": (
        values_t,
        (
            "subject_id",
            "category",
            "field",
            "ciphertext",
            "blind_index",
            "source",
            "form",
            "collected_at",
            "provided_by_subject",
        ),
    ),
    "connections": (connections_t, ("subject_id", "at", "ciphertext")),
    "payments": (payments_t, ("subject_id", "at", "ciphertext", "retain_consent")),
    "consents": (
        consents_t,
        ("subject_id", "purpose", "given_at", "channel", "expires_at", "withdrawn_at"),
    ),
}


class Written(NamedTuple):
    id: str
    external_id: str
    created: bool


@dataclass
class Known:
    """What the database holds about the subjects of a batch, keyed for `prepare`."""

    subjects: dict[str, Row] = field(default_factory=dict)  # by external id
    ciphers: dict[str, SubjectCipher] = field(default_factory=dict)  # by subject id
    connections: set[tuple[str, datetime]] = field(default_factory=set)
    payments: set[tuple[str, datetime]] = field(default_factory=set)
    consents: set[tuple[str, str, datetime]] = field(default_factory=set)


@dataclass
class Rows:
    """Rows to store: tuples in `INSERTS` column order, plus the rare updates and deletes."""

    subjects: list[tuple] = field(default_factory=list)
    keys: list[tuple] = field(default_factory=list)
    values: list[tuple] = field(default_factory=list)
    connections: list[tuple] = field(default_factory=list)
    payments: list[tuple] = field(default_factory=list)
    consents: list[tuple] = field(default_factory=list)
    changed_subjects: list[dict] = field(default_factory=list)
    value_deletes: list[dict] = field(default_factory=list)
    written: list[Written] = field(default_factory=list)

    def extend(self, other: Rows) -> None:
        for name in (*INSERTS, "changed_subjects", "value_deletes", "written"):
            getattr(self, name).extend(getattr(other, name))

    def without(self, subject_ids: set[str]) -> Rows:
        """These rows less everything about the given subjects."""
        kept = Rows()
        for name in INSERTS:
            getattr(kept, name).extend(r for r in getattr(self, name) if r[0] not in subject_ids)
        kept.changed_subjects = [r for r in self.changed_subjects if r["b_id"] not in subject_ids]
        kept.value_deletes = [r for r in self.value_deletes if r["b_sid"] not in subject_ids]
        kept.written = [w for w in self.written if w.id not in subject_ids]
        return kept


def record_slot(at: datetime) -> str:
    """The associated-data slot of a time-stamped record: binds its ciphertext to its time.

    It is also how SQLite stores that time, so the bulk path formats each time once.
    """
    return at.isoformat(sep=" ", timespec="microseconds")


def new_subject_id() -> str:
    """Time-ordered (UUIDv7-like): new subjects append to the indexes instead of scattering."""
    return f"{time.time_ns() // 1000:014x}{os.urandom(9).hex()}"


def _as_text(value: date | None) -> str | None:
    """A date or datetime as SQLite stores it (SQLAlchemy reads it back unchanged)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="microseconds")
    return value.isoformat()


def _unchanged(value):
    return value


def kind_change_problem(policy: Policy, current: str, wanted: str) -> str | None:
    """Why a subject of kind `current` may not become `wanted`, or None when it may."""
    if current == wanted:
        return None
    if wanted in policy.subject_kind(current).can_become:
        return None
    return f"a subject of kind '{current}' cannot become '{wanted}'"


def gather(session: Session, keyring: Keyring, external_ids: Iterable[str]) -> Known:
    ids = list(external_ids)
    known = Known()
    if not ids:
        return known
    columns = [subjects_t.c.id, subjects_t.c.external_id, subjects_t.c.kind]
    columns += [subjects_t.c[name] for name in LIFECYCLE]
    columns.append(subjects_t.c.limited_at)
    rows = session.execute(select(*columns).where(subjects_t.c.external_id.in_(ids)))
    known.subjects = {row.external_id: row for row in rows}
    subject_ids = [row.id for row in known.subjects.values()]
    if not subject_ids:
        return known
    known.ciphers = keyring.ciphers(session, subject_ids)
    for table, target in ((connections_t, known.connections), (payments_t, known.payments)):
        query = select(table.c.subject_id, table.c.at).where(table.c.subject_id.in_(subject_ids))
        target.update(tuple(row) for row in session.execute(query))
    query = select(consents_t.c.subject_id, consents_t.c.purpose, consents_t.c.given_at).where(
        consents_t.c.subject_id.in_(subject_ids)
    )
    known.consents.update(tuple(row) for row in session.execute(query))
    return known


def _latest(*days: date | None) -> date | None:
    known = [d for d in days if d is not None]
    return max(known) if known else None


def _lifecycle(record: ValidRecord, current: Row | None) -> dict[str, date | None]:
    values = {name: getattr(current, name) if current else None for name in LIFECYCLE}
    values.update(record.lifecycle)
    if record.connections:
        seen = max(at for at, _ in record.connections).date()
        values["last_connection_at"] = _latest(values["last_connection_at"], seen)
    if record.payments:
        paid = max(at for at, _, _ in record.payments).date()
        values["last_transaction_at"] = _latest(values["last_transaction_at"], paid)
    return values


def prepare(
    records: Sequence[ValidRecord],
    known: Known,
    keyring: Keyring,
    *,
    categories: dict[str, str],
    at: datetime,
    dates_as_text: bool,
) -> Rows:
    """Rows for `records` (distinct external ids); subjects absent from `known` are new.

    Pure: reads and writes no database. `categories` maps storage kinds ("connections",
    "payments") to the policy category stored that way, which their ciphertexts are bound to.
    `dates_as_text` gives inserted dates and times as SQLite stores them.
    """
    rows = Rows()
    stored = _as_text if dates_as_text else _unchanged
    now_stored = stored(at)
    connection_category = categories.get("connections", "")
    payment_category = categories.get("payments", "")
    for record in records:
        current = known.subjects.get(record.external_id)
        if current is None:
            sid = new_subject_id()
            key, wrapped = keyring.new_data_key(sid)
            cipher = SubjectCipher(sid, key)
            rows.keys.append((sid, wrapped, keyring.master.key_id))
            life = _lifecycle(record, None)
            rows.subjects.append(
                (
                    sid,
                    record.external_id,
                    record.kind,
                    record.source,
                    now_stored,
                    now_stored,
                    *tuple(stored(life[name]) for name in LIFECYCLE),
                )
            )
        else:
            sid = current.id
            cipher = known.ciphers[sid]
            rows.changed_subjects.append(
                {"b_id": sid, "kind": record.kind, "updated_at": at, **_lifecycle(record, current)}
            )
        rows.written.append(Written(sid, record.external_id, current is None))

        collected = stored(record.collected_at) if record.collected_at else now_stored
        for category, name, value, indexed in record.values:
            if current is not None:
                rows.value_deletes.append({"b_sid": sid, "b_cat": category, "b_field": name})
            if value is None:
                continue
            rows.values.append(
                (
                    sid,
                    category,
                    name,
                    cipher.encrypt(category, name, value),
                    keyring.blind_index(name, indexed) if indexed else None,
                    record.source,
                    record.form,
                    collected,
                    category in record.provided,
                )
            )
        for moment, values in record.connections:
            if (sid, moment) not in known.connections:
                known.connections.add((sid, moment))
                slot = record_slot(moment)
                blob = cipher.encrypt(connection_category, slot, values)
                rows.connections.append((sid, slot if dates_as_text else moment, blob))
        for moment, values, retain in record.payments:
            if (sid, moment) not in known.payments:
                known.payments.add((sid, moment))
                slot = record_slot(moment)
                blob = cipher.encrypt(payment_category, slot, values)
                rows.payments.append((sid, slot if dates_as_text else moment, blob, retain))
        for consent in record.consents:
            marker = (sid, consent["purpose"], consent["given_at"])
            if marker not in known.consents:
                known.consents.add(marker)
                rows.consents.append(
                    (
                        sid,
                        consent["purpose"],
                        stored(consent["given_at"]),
                        consent["channel"],
                        stored(consent["expires_at"]),
                        None,
                    )
                )
    return rows


def execute(session: Session, rows: Rows) -> None:
    """Store prepared rows in the caller's transaction."""
    conn = session.connection()
    if rows.subjects:
        bulk_insert(conn, *INSERTS["subjects"], rows.subjects)
        bulk_insert(conn, *INSERTS["keys"], rows.keys)
    if rows.changed_subjects:
        conn.execute(
            update(subjects_t).where(subjects_t.c.id == bindparam("b_id")), rows.changed_subjects
        )
    if rows.value_deletes:
        conn.execute(
            delete(values_t).where(
                and_(
                    values_t.c.subject_id == bindparam("b_sid"),
                    values_t.c.category == bindparam("b_cat"),
                    values_t.c.field == bindparam("b_field"),
                )
            ),
            rows.value_deletes,
        )
    for name in ("values", "connections", "payments", "consents"):
        if getattr(rows, name):
            bulk_insert(conn, *INSERTS[name], getattr(rows, name))


def erased_for_good_by_subject(
    session: Session, policy: Policy, known: Known, at: datetime
) -> dict[str, frozenset[str]]:
    """The categories an erasure request put out of reach of each known subject (by id):
    new data of them is not stored again."""
    limited = {row.id: row for row in known.subjects.values() if row.limited_at is not None}
    if not limited:
        return {}
    limits: dict[str, dict[str, tuple[Limit, ...]]] = {}
    for sid, category, grounds in session.execute(
        select(limits_t.c.subject_id, limits_t.c.category, limits_t.c.grounds).where(
            limits_t.c.subject_id.in_(list(limited)), limits_t.c.basis == "erasure"
        )
    ):
        mine = limits.setdefault(sid, {})
        mine[category] = (*mine.get(category, ()), Limit("erasure", tuple(grounds)))
    out = {}
    for sid, by_category in limits.items():
        row = limited[sid]
        facts = SubjectFacts(
            row.kind, limits=by_category, lifecycle={n: getattr(row, n) for n in LIFECYCLE}
        )
        out[sid] = frozenset(
            c.id for c in policy.categories if erased_for_good(policy, facts, c.id, at)
        )
    return out


def without(record: ValidRecord, categories: frozenset[str], policy: Policy) -> ValidRecord:
    """The record less the values, logs and payments of `categories`."""
    stored = {c.storage: c.id for c in policy.categories if c.storage != "record"}
    return replace(
        record,
        values=[v for v in record.values if v[0] not in categories],
        connections=[] if stored.get("connections") in categories else record.connections,
        payments=[] if stored.get("payments") in categories else record.payments,
    )


def categories_in(record: ValidRecord, policy: Policy) -> set[str]:
    """The categories a record brings values of."""
    stored = {c.storage: c.id for c in policy.categories if c.storage != "record"}
    found = {category for category, *_ in record.values}
    if record.connections:
        found.add(stored["connections"])
    if record.payments:
        found.add(stored["payments"])
    return found
