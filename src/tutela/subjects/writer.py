"""The one write path for subjects: encrypt, then store a batch with set-based statements.

The API (one record) and the import (thousands) both call `write_batch`. A batch is written
with one executemany per table, never with a loop of ORM objects.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Row, and_, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from tutela.consent.models import Consent
from tutela.crypto.cipher import SubjectCipher
from tutela.crypto.keyring import Keyring
from tutela.crypto.models import DataKey
from tutela.policy.schema import Policy
from tutela.subjects.models import Connection, Payment, PersonalValue, Subject
from tutela.subjects.validation import ValidRecord

__all__ = [
    "LIFECYCLE",
    "Written",
    "find_existing",
    "kind_change_problem",
    "record_slot",
    "write_batch",
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

subjects_t = Subject.__table__
values_t = PersonalValue.__table__
connections_t = Connection.__table__
payments_t = Payment.__table__
consents_t = Consent.__table__
keys_t = DataKey.__table__


@dataclass(frozen=True, slots=True)
class Written:
    id: str
    external_id: str
    created: bool


def record_slot(at: datetime) -> str:
    """The associated-data slot of a time-stamped record: binds its ciphertext to its time."""
    return at.isoformat(timespec="microseconds")


def find_existing(session: Session, external_ids: Iterable[str]) -> dict[str, Row]:
    ids = list(external_ids)
    if not ids:
        return {}
    columns = [subjects_t.c.id, subjects_t.c.external_id, subjects_t.c.kind]
    columns += [subjects_t.c[name] for name in LIFECYCLE]
    rows = session.execute(select(*columns).where(subjects_t.c.external_id.in_(ids)))
    return {row.external_id: row for row in rows}


def kind_change_problem(policy: Policy, current: str, wanted: str) -> str | None:
    """Why a subject of kind `current` may not become `wanted`, or None when it may."""
    if current == wanted:
        return None
    kind = next(k for k in policy.subject_kinds if k.id == current)
    if wanted in kind.can_become:
        return None
    return f"a subject of kind '{current}' cannot become '{wanted}'"


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


def _known_times(session: Session, table, subject_ids: list[str]) -> set[tuple[str, datetime]]:
    if not subject_ids:
        return set()
    rows = session.execute(
        select(table.c.subject_id, table.c.at).where(table.c.subject_id.in_(subject_ids))
    )
    return {(sid, at) for sid, at in rows}


def _known_consents(session: Session, subject_ids: list[str]) -> set[tuple]:
    if not subject_ids:
        return set()
    rows = session.execute(
        select(consents_t.c.subject_id, consents_t.c.purpose, consents_t.c.given_at).where(
            consents_t.c.subject_id.in_(subject_ids)
        )
    )
    return {tuple(row) for row in rows}


def write_batch(
    session: Session,
    keyring: Keyring,
    records: Sequence[ValidRecord],
    existing: dict[str, Row],
    *,
    categories: dict[str, str],
    at: datetime,
) -> list[Written]:
    """Store `records` (distinct external ids) in the caller's transaction.

    `existing` comes from `find_existing`; `categories` maps storage kinds ("connections",
    "payments") to the policy category stored that way, which the ciphertexts are bound to.
    """
    existing_ids = [row.id for row in existing.values()]
    ciphers = keyring.ciphers(session, existing_ids) if existing_ids else {}
    known_connections = _known_times(session, connections_t, existing_ids)
    known_payments = _known_times(session, payments_t, existing_ids)
    known_consents = _known_consents(session, existing_ids)

    new_subjects, changed_subjects, new_keys = [], [], []
    value_rows, value_deletes, connection_rows, payment_rows, consent_rows = [], [], [], [], []
    written = []
    connection_category = categories.get("connections", "")
    payment_category = categories.get("payments", "")

    for record in records:
        current = existing.get(record.external_id)
        if current is None:
            sid = uuid.uuid4().hex
            key, wrapped = keyring.new_data_key(sid)
            cipher = SubjectCipher(sid, key)
            new_keys.append(
                {"subject_id": sid, "wrapped": wrapped, "master_key_id": keyring.master.key_id}
            )
            new_subjects.append(
                {
                    "id": sid,
                    "external_id": record.external_id,
                    "kind": record.kind,
                    "source": record.source,
                    "created_at": at,
                    "updated_at": at,
                    **_lifecycle(record, None),
                }
            )
        else:
            sid = current.id
            cipher = ciphers[sid]
            changed_subjects.append(
                {"b_id": sid, "kind": record.kind, "updated_at": at, **_lifecycle(record, current)}
            )
        written.append(Written(sid, record.external_id, current is None))

        collected = record.collected_at or at
        for category, field, value, indexed in record.values:
            if current is not None:
                value_deletes.append({"b_sid": sid, "b_cat": category, "b_field": field})
            if value is None:
                continue
            value_rows.append(
                {
                    "subject_id": sid,
                    "category": category,
                    "field": field,
                    "ciphertext": cipher.encrypt(category, field, value),
                    "blind_index": keyring.blind_index(field, indexed) if indexed else None,
                    "source": record.source,
                    "form": record.form,
                    "collected_at": collected,
                    "provided_by_subject": category in record.provided,
                }
            )
        for moment, values in record.connections:
            if (sid, moment) in known_connections:
                continue
            known_connections.add((sid, moment))
            connection_rows.append(
                {
                    "subject_id": sid,
                    "at": moment,
                    "ciphertext": cipher.encrypt(connection_category, record_slot(moment), values),
                }
            )
        for moment, values, retain in record.payments:
            if (sid, moment) in known_payments:
                continue
            known_payments.add((sid, moment))
            payment_rows.append(
                {
                    "subject_id": sid,
                    "at": moment,
                    "ciphertext": cipher.encrypt(payment_category, record_slot(moment), values),
                    "retain_consent": retain,
                }
            )
        for consent in record.consents:
            marker = (sid, consent["purpose"], consent["given_at"])
            if marker in known_consents:
                continue
            known_consents.add(marker)
            consent_rows.append({"subject_id": sid, "withdrawn_at": None, **consent})

    conn = session.connection()
    if new_subjects:
        conn.execute(insert(subjects_t), new_subjects)
        conn.execute(insert(keys_t), new_keys)
    if changed_subjects:
        conn.execute(
            update(subjects_t).where(subjects_t.c.id == bindparam("b_id")), changed_subjects
        )
    if value_deletes:
        conn.execute(
            delete(values_t).where(
                and_(
                    values_t.c.subject_id == bindparam("b_sid"),
                    values_t.c.category == bindparam("b_cat"),
                    values_t.c.field == bindparam("b_field"),
                )
            ),
            value_deletes,
        )
    for table, rows in (
        (values_t, value_rows),
        (connections_t, connection_rows),
        (payments_t, payment_rows),
        (consents_t, consent_rows),
    ):
        if rows:
            conn.execute(insert(table), rows)
    return written
