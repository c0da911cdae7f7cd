"""What a breach's notification and messages need of each person concerned (their country,
their e-mail address, their language), read by field type so that no field id is in code.

Callers record the read in the trail before calling: these decrypt.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from tutela.crypto.keyring import Keyring
from tutela.crypto.models import DataKey
from tutela.policy.schema import Policy
from tutela.subjects.models import Connection, Payment, PersonalValue
from tutela.subjects.writer import record_slot

__all__ = ["categories_of", "details", "language_of"]


def _field(policy: Policy, field_type: str) -> tuple[str, str, str] | None:
    """(category, field, storage) of the first field of that type, any storage."""
    for category in policy.categories:
        for spec in category.fields:
            if spec.type == field_type:
                return category.id, spec.id, category.storage
    return None


def categories_of(policy: Policy, field_types: Sequence[str]) -> list[str]:
    """The categories the fields of these types are in: what the trail names for the read."""
    found = {_field(policy, t)[0] for t in field_types if _field(policy, t)}
    return sorted(found)


def details(
    session: Session,
    keyring: Keyring,
    policy: Policy,
    subject_ids: Sequence[str],
    field_types: Sequence[str],
) -> dict[str, dict[str, object]]:
    """For each person, the value of each field type they hold (the latest record's, for
    time-stamped categories)."""
    out: dict[str, dict[str, object]] = {sid: {} for sid in subject_ids}
    if not subject_ids:
        return out
    keys = dict(
        session.execute(
            select(DataKey.subject_id, DataKey.wrapped).where(DataKey.subject_id.in_(subject_ids))
        ).all()
    )
    for field_type in field_types:
        where = _field(policy, field_type)
        if where is None:
            continue
        category, field, storage = where
        if storage == "record":
            rows = session.execute(
                select(PersonalValue.subject_id, PersonalValue.ciphertext).where(
                    PersonalValue.subject_id.in_(subject_ids),
                    PersonalValue.category == category,
                    PersonalValue.field == field,
                )
            )
            for sid, blob in rows:
                if sid in keys:
                    cipher = keyring.cipher_for(sid, keys[sid])
                    out[sid][field_type] = cipher.decrypt(category, field, blob)
            continue
        table = Connection if storage == "connections" else Payment
        for sid in subject_ids:
            row = session.execute(
                select(table.at, table.ciphertext)
                .where(table.subject_id == sid)
                .order_by(table.at.desc())
                .limit(1)
            ).first()
            if row is not None and sid in keys:
                cipher = keyring.cipher_for(sid, keys[sid])
                values = cipher.decrypt(category, record_slot(row.at), row.ciphertext)
                if values.get(field) is not None:
                    out[sid][field_type] = values[field]
    return out


def language_of(policy: Policy, tag: object) -> str | None:
    """The policy's language a person's language tag (fr-BE) asks for, if it has it."""
    if not isinstance(tag, str):
        return None
    primary = tag.split("-", 1)[0].lower()
    return primary if primary in policy.languages else None
