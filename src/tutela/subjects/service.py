"""Business functions on subjects: save, get, read for a purpose, list, erase."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import Select, bindparam, delete, func, or_, select, update
from sqlalchemy.orm import Session

from tutela.access.gate import Limit
from tutela.crypto.cipher import SubjectCipher
from tutela.crypto.keyring import Keyring
from tutela.crypto.models import DataKey
from tutela.db import Connected, dates_as_text, utc_naive
from tutela.errors import InvalidInput, NotFound
from tutela.jsonout import instant
from tutela.policy.schema import Policy
from tutela.prepared import Prepared
from tutela.subjects.dates import record_problem
from tutela.subjects.held import Held
from tutela.subjects.models import Connection, DataLimit, Payment, PersonalValue, Subject
from tutela.subjects.schemas import Lifecycle, SubjectSummary
from tutela.subjects.validation import RecordRules, ValidRecord
from tutela.subjects.values import ValueProblem, check_value, index_form
from tutela.subjects.writer import (
    LIFECYCLE,
    Written,
    categories_in,
    erased_for_good_by_subject,
    execute,
    gather,
    kind_change_problem,
    prepare,
    record_slot,
    subjects_t,
)

__all__ = [
    "count",
    "email_on_file",
    "erase",
    "erase_categories",
    "find",
    "find_by_email",
    "find_indexed",
    "get",
    "get_by_id",
    "holdings",
    "limit",
    "limits_of",
    "list_summaries",
    "lookup",
    "read",
    "rectify",
    "release_retain_consent",
    "save",
    "storage_categories",
    "summary",
    "unlimit",
]


def storage_categories(policy: Policy) -> dict[str, str]:
    """Which policy category is stored as connection logs, and which as payments."""
    return {c.storage: c.id for c in policy.categories if c.storage != "record"}


def save(
    *,
    session: Session,
    keyring: Keyring,
    rules: RecordRules,
    records: Sequence[ValidRecord],
    at: datetime,
) -> tuple[list[Written], list[tuple[int, str, str]]]:
    """Create or update subjects (distinct external ids) in the caller's transaction.

    Returns what was written and, by index with the field and why, the records refused
    because their kind may not change that way, because they bring back data the person had
    erased, or because a date of theirs may not be written at `at`; those are not written.
    """
    keyring.ensure_current(session)  # new people get keys under the store's active master key
    known = gather(session, keyring, (r.external_id for r in records))
    erased = erased_for_good_by_subject(session, rules.policy, known, at)
    refused, accepted = [], []
    for i, record in enumerate(records):
        current = known.subjects.get(record.external_id)
        problem = current and kind_change_problem(rules.policy, current.kind, record.kind)
        back = current and erased.get(current.id, frozenset()) & categories_in(record, rules.policy)
        if back:
            why = "erased at the person's request: not stored again"
            refused.append((i, sorted(back)[0], why))
        elif problem:
            refused.append((i, "kind", problem))
        elif dated := record_problem(record, at, current._mapping if current else None):
            refused.append((i, *dated))
        else:
            accepted.append(record)
    rows = prepare(
        accepted,
        known,
        keyring,
        categories=storage_categories(rules.policy),
        at=at,
        dates_as_text=dates_as_text(session),
    )
    execute(session, rows)
    return rows.written, refused


_IDS = bindparam("ids", expanding=True)

# The statements of every read, run at the driver (`Prepared`).
_values_c = PersonalValue.__table__.c
keys_t = DataKey.__table__
_LOOKUP = Prepared(
    select(
        subjects_t.c.id,
        subjects_t.c.external_id,
        subjects_t.c.kind,
        keys_t.c.wrapped,
        subjects_t.c.limited_at,
        *(subjects_t.c[name] for name in LIFECYCLE),
    )
    .outerjoin(keys_t, keys_t.c.subject_id == subjects_t.c.id)
    .where(subjects_t.c.external_id == bindparam("external_id"))
)
_limits_c = DataLimit.__table__.c
_LIMITS = Prepared(
    select(_limits_c.category, _limits_c.basis, _limits_c.grounds).where(
        _limits_c.subject_id == bindparam("subject_id")
    )
)
_VALUES = Prepared(  # every category: a subject has a handful of values, filtered in Python
    select(
        _values_c.category,
        _values_c.field,
        _values_c.ciphertext,
        _values_c.source,
        _values_c.form,
        _values_c.collected_at,
        _values_c.provided_by_subject,
    ).where(
        _values_c.subject_id == bindparam("subject_id"),
        or_(_values_c.archived_at.is_(None), bindparam("archived")),
    )
)
_connections_c, _payments_c = Connection.__table__.c, Payment.__table__.c
_CONNECTIONS = Prepared(
    select(_connections_c.at, _connections_c.ciphertext)
    .where(_connections_c.subject_id == bindparam("subject_id"))
    .order_by(_connections_c.at)
)
_PAYMENTS = Prepared(
    select(_payments_c.at, _payments_c.ciphertext, _payments_c.retain_consent)
    .where(
        _payments_c.subject_id == bindparam("subject_id"),
        or_(_payments_c.archived_at.is_(None), bindparam("archived")),
    )
    .order_by(_payments_c.at)
)


class SubjectRef(NamedTuple):
    id: str
    external_id: str
    kind: str
    wrapped_key: bytes | None  # None once erased
    limited_at: datetime | None  # set when some of the data is limited (`limits_of`)
    lifecycle: dict[str, date | None]


def lookup(*, session: Connected, external_id: str) -> SubjectRef | None:
    """A subject's id, kind, wrapped data key and lifecycle dates, in one light query: what
    every read needs first."""
    row = _LOOKUP.first(session.connection(), {"external_id": external_id})
    return SubjectRef(*row[:5], dict(zip(LIFECYCLE, row[5:], strict=True))) if row else None


def limits_of(*, session: Connected, subject_id: str) -> dict[str, tuple[Limit, ...]]:
    """The limits on a subject's data, by category (or `EVERY_CATEGORY`)."""
    limits: dict[str, tuple[Limit, ...]] = {}
    for category, basis, grounds in _LIMITS.rows(session.connection(), {"subject_id": subject_id}):
        limits[category] = (*limits.get(category, ()), Limit(basis, tuple(grounds)))
    return limits


def find_by_email(
    *, session: Session, keyring: Keyring, rules: RecordRules, email: str
) -> list[str]:
    """Ids of the subjects holding this e-mail address, found through the blind index."""
    return find_indexed(
        session=session, keyring=keyring, rules=rules, field_type="email", value=email
    )


_EXAMPLES = {"email": "an e-mail address like name@example.org", "phone": "a phone number"}


def find_indexed(
    *, session: Session, keyring: Keyring, rules: RecordRules, field_type: str, value: str
) -> list[str]:
    """Ids of the subjects holding this value in a blind-indexed field of the type (an
    e-mail address, a phone number), in any of its trivial variants."""
    fields = [
        (c.id, f.id)
        for c in rules.policy.categories
        for f in c.fields
        if f.type == field_type and f.blind_index and c.storage == "record"
    ]
    try:
        checked = check_value(field_type, value)
    except ValueProblem:
        raise InvalidInput(f"expected {_EXAMPLES[field_type]}", location=field_type) from None
    normal = index_form(field_type, checked, calling_code=rules.calling_code)
    ids: list[str] = []
    for category, field in fields:
        digest = keyring.blind_index(field, normal)
        ids += session.scalars(
            select(PersonalValue.subject_id).where(
                PersonalValue.category == category,
                PersonalValue.field == field,
                PersonalValue.blind_index == digest,
            )
        )
    return sorted(set(ids))


def email_on_file(
    *, session: Session, keyring: Keyring, rules: RecordRules, subject_id: str
) -> str | None:
    """The subject's e-mail address (decrypted), where one-time codes are sent."""
    for category in rules.policy.categories:
        for spec in category.fields:
            if spec.type == "email" and category.storage == "record":
                blob = session.scalar(
                    select(PersonalValue.ciphertext).where(
                        PersonalValue.subject_id == subject_id,
                        PersonalValue.category == category.id,
                        PersonalValue.field == spec.id,
                    )
                )
                if blob is not None:
                    return keyring.cipher(session, subject_id).decrypt(category.id, spec.id, blob)
    return None


def rectify(
    *,
    session: Session,
    keyring: Keyring,
    rules: RecordRules,
    subject: Subject,
    values: dict[tuple[str, str], object],
    at: datetime,
) -> None:
    """Replace (or add) record values of a subject, as the person gave them (§11): encrypted,
    blind-indexed where the policy says, collected now. Values must be checked already."""
    cipher = keyring.cipher(session, subject.id)
    for (category, field), value in values.items():
        spec = rules.policy.category(category).field(field)
        row = session.get(PersonalValue, (subject.id, category, field))
        if row is None:
            row = PersonalValue(
                subject_id=subject.id, category=category, field=field, source=subject.source
            )
            session.add(row)
        row.ciphertext = cipher.encrypt(category, field, value)
        row.blind_index = (
            keyring.blind_index(
                field, index_form(spec.type, value, calling_code=rules.calling_code)
            )
            if spec.blind_index
            else None
        )
        row.form, row.collected_at, row.provided_by_subject = None, utc_naive(at), True
        row.archived_at = None  # a corrected value is in use again, not in the archive
    subject.updated_at = utc_naive(at)


def get_by_id(*, session: Session, subject_id: str) -> Subject | None:
    return session.get(Subject, subject_id)


def find(*, session: Session, external_id: str) -> Subject | None:
    return session.scalar(select(Subject).where(Subject.external_id == external_id))


def get(*, session: Session, external_id: str) -> Subject:
    subject = find(session=session, external_id=external_id)
    if subject is None:
        raise NotFound(f"no subject with external id '{external_id}'")
    return subject


def read(
    *,
    session: Connected,
    cipher: SubjectCipher,
    policy: Policy,
    categories: Sequence[str],
    archived: bool = False,
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Decrypt the given categories of the cipher's subject: values, and each one's provenance.

    Callers decide which categories, and whether the intermediate archive is included, through
    the authorisation gate; this function does not.
    """
    wanted = set(categories)
    data: dict[str, Any] = {}
    provenance: dict[str, dict[str, Any]] = {}
    if not wanted:
        return data, provenance
    subject_id = cipher.subject_id
    connection = session.connection()
    params = {"subject_id": subject_id, "archived": archived}
    for category, field, blob, source, form, collected_at, provided in _VALUES.rows(
        connection, params
    ):
        if category not in wanted:
            continue
        data.setdefault(category, {})[field] = cipher.decrypt(category, field, blob)
        provenance.setdefault(category, {})[field] = {
            "source": source,
            "form": form,
            "collected_at": instant(collected_at),
            "provided_by_subject": provided,
        }
    stored = storage_categories(policy)
    connections, payments = stored.get("connections"), stored.get("payments")
    if connections in wanted:
        data[connections] = [
            {"at": instant(at), **cipher.decrypt(connections, record_slot(at), blob)}
            for at, blob in _CONNECTIONS.rows(connection, params)
        ]
    if payments in wanted:
        data[payments] = [
            {
                "at": at.isoformat() + "Z",
                **cipher.decrypt(payments, record_slot(at), blob),
                "retain_consent": retain,
            }
            for at, blob, retain in _PAYMENTS.rows(connection, params)
        ]
    return data, provenance


def summary(subject: Subject) -> SubjectSummary:
    return SubjectSummary(
        id=subject.id,
        external_id=subject.external_id,
        kind=subject.kind,
        source=subject.source,
        created_at=subject.created_at,
        updated_at=subject.updated_at,
        lifecycle=Lifecycle(**{name: getattr(subject, name) for name in LIFECYCLE}),
    )


def list_summaries(
    *, session: Session, kind: str | None = None, limit: int = 100, offset: int = 0
) -> list[SubjectSummary]:
    query = select(Subject).order_by(Subject.external_id).limit(limit).offset(offset)
    if kind:
        query = query.where(Subject.kind == kind)
    return [summary(s) for s in session.scalars(query)]


def count(*, session: Session, kind: str | None = None) -> int:
    query = select(func.count()).select_from(Subject)
    if kind:
        query = query.where(Subject.kind == kind)
    return session.scalar(query) or 0


def holdings(*, session: Session, policy: Policy, subject_id: str) -> dict[str, Held]:
    """Each category the subject holds data of, archive included."""
    by_category: dict[str, list[tuple[str, datetime, bool]]] = {}
    for category, field, collected_at, provided in session.execute(
        select(
            PersonalValue.category,
            PersonalValue.field,
            PersonalValue.collected_at,
            PersonalValue.provided_by_subject,
        ).where(PersonalValue.subject_id == subject_id)
    ):
        by_category.setdefault(category, []).append((field, collected_at, provided))
    held = {
        category: Held(
            len(rows),
            max(at for _, at, _ in rows).date(),
            frozenset(field for field, _, provided in rows if provided),
        )
        for category, rows in by_category.items()
    }
    for storage, category in storage_categories(policy).items():
        model = Connection if storage == "connections" else Payment
        count, latest = session.execute(
            select(func.count(), func.max(model.at)).where(model.subject_id == subject_id)
        ).one()
        if count:
            held[category] = Held(count, latest.date(), frozenset())
    return held


def limit(
    *,
    session: Session,
    subject_id: str,
    category: str,
    basis: str,
    grounds: Sequence[str],
    until: date | None,
    request_id: str | None,
    at: datetime,
) -> None:
    """Limit a category of the subject's data (or every one, `EVERY_CATEGORY`) to grounds."""
    session.merge(
        DataLimit(
            subject_id=subject_id,
            category=category,
            basis=basis,
            grounds=list(grounds),
            until=until,
            request_id=request_id,
            since=utc_naive(at),
        )
    )
    session.execute(
        update(Subject).where(Subject.id == subject_id).values(limited_at=utc_naive(at))
    )


def unlimit(*, session: Session, subject_id: str, basis: str, at: datetime) -> list[str]:
    """Lift the subject's limits of one basis; the categories they covered."""
    gone = list(
        session.scalars(
            delete(DataLimit)
            .where(DataLimit.subject_id == subject_id, DataLimit.basis == basis)
            .returning(DataLimit.category)
        )
    )
    left = session.scalar(select(DataLimit.subject_id).where(DataLimit.subject_id == subject_id))
    session.execute(
        update(Subject)
        .where(Subject.id == subject_id)
        .values(limited_at=utc_naive(at) if left else None)
    )
    return sorted(gone)


def release_retain_consent(*, session: Session, subject_id: str) -> int:
    """End the subject's agreements to keep payment details (§9): an erasure request ends
    them, and the rules suspended by them apply again. The number of payments released."""
    return session.execute(
        update(Payment)
        .where(Payment.subject_id == subject_id, Payment.retain_consent.is_(True))
        .values(retain_consent=False)
    ).rowcount


def erase_categories(
    *, session: Session, policy: Policy, subject_id: str, categories: set[str]
) -> None:
    """Delete some categories of a subject's data; the rest, and the data key, stay."""
    stored = {v: k for k, v in storage_categories(policy).items()}
    record = [c for c in categories if c not in stored]
    if record:
        session.execute(
            delete(PersonalValue).where(
                PersonalValue.subject_id == subject_id, PersonalValue.category.in_(record)
            )
        )
    for category in categories & set(stored):
        model = Connection if stored[category] == "connections" else Payment
        session.execute(delete(model).where(model.subject_id == subject_id))


def erase(*, session: Session, subject_ids: Sequence[str] | Select) -> None:
    """Delete every row of these subjects, data keys included (crypto-shredding), set-based.

    The subjects are given as ids or, for thousands of them, as a query selecting their ids
    (which then no statement has to carry). Every table whose `subject_id` refers to a
    subject is emptied of them: a table added later is covered without touching this
    function. Rights requests keep no such reference and stay, as the proof that they were
    answered.
    """
    import tutela.models  # noqa: F401 - every table registered before the metadata is read

    among, ids = (
        (subject_ids, {}) if isinstance(subject_ids, Select) else (_IDS, {"ids": list(subject_ids)})
    )
    for table in reversed(Subject.metadata.sorted_tables):
        column = table.c.get("subject_id")
        if column is not None and any(fk.column.table is subjects_t for fk in column.foreign_keys):
            session.execute(delete(table).where(column.in_(among)), ids)
    session.execute(delete(subjects_t).where(subjects_t.c.id.in_(among)), ids)
