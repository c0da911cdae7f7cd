"""Check a record against the policy and turn it into what the writer stores.

Every check the policy implies lives here, for the API and the import alike: known kind,
source, form, category and field; each value of its field's type; mandatory fields of the
collection form (§5.4, §17); consent purposes; enriched data never marked as given (§18).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pydantic import ValidationError

from tutela.db import utc_naive
from tutela.errors import InvalidInput
from tutela.policy.schema import Policy
from tutela.policy.sections import Category
from tutela.subjects.schemas import SubjectRecord
from tutela.subjects.values import ValueProblem, checker, index_form
from tutela.wire import EARLIEST, LATEST, day_problem, text_problem

__all__ = ["RecordRules", "ValidRecord", "validate_record"]


@dataclass(slots=True)
class ValidRecord:
    external_id: str
    kind: str
    source: str
    form: str | None
    collected_at: datetime | None
    provided: frozenset[str]
    lifecycle: dict[str, date | None]
    # (category, field, value or None to remove, index form or None)
    values: list[tuple[str, str, Any, str | None]] = field(default_factory=list)
    connections: list[tuple[datetime, dict[str, Any]]] = field(default_factory=list)
    payments: list[tuple[datetime, dict[str, Any], bool]] = field(default_factory=list)
    consents: list[dict[str, Any]] = field(default_factory=list)


class RecordRules:
    """The policy, pre-digested for checking many records quickly."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.kinds = set(policy.kind_ids)
        self.purposes = set(policy.purpose_ids)
        self.record_categories = {c.id: c for c in policy.categories if c.storage == "record"}
        self.fields = {c.id: {f.id: f for f in c.fields} for c in policy.categories}
        self.checkers = {c.id: {f.id: checker(f.type) for f in c.fields} for c in policy.categories}
        self.connection_category = _stored_as(policy, "connections")
        self.payment_category = _stored_as(policy, "payments")
        self.calling_code = policy.controller.default_calling_code


def _stored_as(policy: Policy, storage: str) -> Category | None:
    return next((c for c in policy.categories if c.storage == storage), None)


def _pydantic_location(exc: ValidationError) -> tuple[str, str]:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"]) or "(record)"
    return loc, err["msg"]


def _check_fields(
    rules: RecordRules, category: Category, values: dict, where: str
) -> dict[str, Any]:
    if not isinstance(values, dict):
        raise InvalidInput("expected an object of field values", location=where)
    checked = {}
    checks = rules.checkers[category.id]
    for name, value in values.items():
        check = checks.get(name)
        if check is None:
            known = ", ".join(f.id for f in category.fields)
            raise InvalidInput(
                f"unknown field of category '{category.id}'; expected one of: {known}",
                location=f"{where}.{name}",
            )
        try:
            checked[name] = None if value is None else check(value)
        except ValueProblem as exc:
            raise InvalidInput(str(exc), location=f"{where}.{name}") from None
    return checked


def _timed(
    rules: RecordRules,
    category: Category | None,
    items: list[dict],
    key: str,
    extras: tuple[str, ...] = (),
) -> list[tuple[datetime, dict[str, Any], dict[str, Any]]]:
    """Time-stamped records (connections, payments): their `at`, checked values and extras."""
    if not items:
        return []
    if category is None:
        raise InvalidInput(f"the policy declares no category stored as {key}", location=key)
    out = []
    for i, item in enumerate(items):
        where = f"{key}[{i}]"
        at = item.get("at")
        kept = {name: item[name] for name in extras if name in item}
        rest = {k: v for k, v in item.items() if k != "at" and k not in kept}
        try:
            moment = _parse_datetime(at)
        except ValueError:
            raise InvalidInput(
                f"expected a date-time (ISO 8601) between {EARLIEST} and {LATEST}",
                location=f"{where}.at",
            ) from None
        values = _check_fields(rules, category, rest, where)
        out.append((moment, {k: v for k, v in values.items() if v is not None}, kept))
    return out


def _parse_datetime(value: object) -> datetime:
    if not isinstance(value, str):
        raise ValueError
    moment = datetime.fromisoformat(value)
    if day_problem(moment.replace(tzinfo=None).date()):  # before the move to UTC
        raise ValueError
    return utc_naive(moment)


def validate_record(raw: Any, rules: RecordRules) -> ValidRecord:
    """A checked record (from an object, a parsed dict or a JSON text), or InvalidInput
    naming the field, never the value."""
    try:
        if isinstance(raw, SubjectRecord):
            record = raw
        elif isinstance(raw, bytes | str):  # a JSON line: parsed and checked in one pass
            record = SubjectRecord.model_validate_json(raw)
        else:
            record = SubjectRecord.model_validate(raw)
    except ValidationError as exc:
        if exc.errors()[0]["type"] == "json_invalid":
            raise InvalidInput("not valid JSON") from None
        location, message = _pydantic_location(exc)
        raise InvalidInput(message, location=location) from None
    if where := text_problem(record):
        raise InvalidInput("NUL characters and lone surrogates are not accepted", location=where)
    policy = rules.policy
    if record.kind not in rules.kinds:
        raise InvalidInput(
            f"unknown subject kind; expected one of: {', '.join(sorted(rules.kinds))}",
            location="kind",
        )
    source = policy.source(record.source)
    if source is None:
        known = ", ".join(s.id for s in policy.sources)
        raise InvalidInput(f"unknown source; expected one of: {known}", location="source")
    form_id = record.form or source.form
    form = policy.form(form_id) if form_id else None
    if form_id and form is None:
        known = ", ".join(f.id for f in policy.forms)
        raise InvalidInput(f"unknown form; expected one of: {known}", location="form")

    categories: dict[str, dict[str, Any]] = {}
    for key, values in (record.model_extra or {}).items():
        category = rules.record_categories.get(key)
        if category is None:
            known = ", ".join(sorted(rules.record_categories))
            raise InvalidInput(
                f"unknown category; expected one of: {known}, connections, payments", location=key
            )
        categories[key] = _check_fields(rules, category, values, key)

    if form is not None:
        for mandatory in form.mandatory:
            if categories.get(mandatory.category, {}).get(mandatory.name) is None:
                raise InvalidInput(
                    f"mandatory on the form '{form.id}': {form.consequence_if_missing}",
                    location=mandatory.field,
                )

    given = set(categories)
    if record.connections and rules.connection_category:
        given.add(rules.connection_category.id)
    if record.payments and rules.payment_category:
        given.add(rules.payment_category.id)
    if record.provided_by_subject is None:
        # By default the person gave what their collection form asks for, and nothing else.
        on_form = (
            {f.category for f in form.fields} if form and source.provided_by_subject else set()
        )
        provided = given & on_form
    else:
        provided = set(record.provided_by_subject)
        for i, name in enumerate(record.provided_by_subject):
            category = policy.category(name)
            if category is None:
                raise InvalidInput("unknown category", location=f"provided_by_subject[{i}]")
            if name not in given:
                raise InvalidInput(
                    "names a category the record does not contain",
                    location=f"provided_by_subject[{i}]",
                )
    for name in provided:
        category = policy.category(name)
        if category is not None and category.enriched:
            raise InvalidInput(
                f"'{name}' is enriched data, derived by the company, never given by the person (§18)",
                location="provided_by_subject",
            )

    for i, consent in enumerate(record.consents):
        if consent.purpose not in rules.purposes:
            raise InvalidInput(
                f"unknown purpose; expected one of: {', '.join(policy.purpose_ids)}",
                location=f"consents[{i}].purpose",
            )

    valid = ValidRecord(
        external_id=record.external_id,
        kind=record.kind,
        source=record.source,
        form=form_id,
        collected_at=utc_naive(record.collected_at) if record.collected_at else None,
        provided=frozenset(provided),
        lifecycle=record.lifecycle.model_dump(exclude_unset=True),
        consents=[
            {
                "purpose": c.purpose,
                "given_at": utc_naive(c.given_at),
                "channel": c.channel,
                "expires_at": utc_naive(c.expires_at) if c.expires_at else None,
            }
            for c in record.consents
        ],
    )
    for name, values in categories.items():
        specs = rules.fields[name]
        for field_name, value in values.items():
            spec = specs[field_name]
            indexed = (
                index_form(spec.type, value, calling_code=rules.calling_code)
                if spec.blind_index and value is not None
                else None
            )
            valid.values.append((name, field_name, value, indexed))
    valid.connections = [
        (at, values)
        for at, values, _ in _timed(
            rules, rules.connection_category, record.connections, "connections"
        )
    ]
    payments = _timed(
        rules, rules.payment_category, record.payments, "payments", ("retain_consent",)
    )
    for i, (at, values, extra) in enumerate(payments):
        retain = extra.get("retain_consent", False)
        if not isinstance(retain, bool):
            raise InvalidInput("expected true or false", location=f"payments[{i}].retain_consent")
        valid.payments.append((at, values, retain))
    return valid
