"""Decisions on rights requests, derived from the policy, each with its reasons.

Every answer names the DPO and the right to complain to the supervisory authority (§22, §23).
Built so far: confirmation (§10), access with a copy (§10, Art. 15), erasure (§12), restriction
(§13), portability (§14), objection (§12, §15) and consent withdrawal. The other rights answer that they are not handled automatically yet.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy.orm import Session

from tutela.access.gate import EVERY_CATEGORY
from tutela.audit import service as audit
from tutela.consent import service as consent
from tutela.crypto.keyring import Keyring
from tutela.db import utc_naive
from tutela.errors import Denied
from tutela.policy.schema import Policy
from tutela.requests.models import PostMortemDirective, RightsRequest
from tutela.retention import service as retention
from tutela.retention.schedule import add_months
from tutela.subjects import service as subjects
from tutela.subjects.models import DataLimit
from tutela.subjects.validation import RecordRules
from tutela.subjects.values import ValueProblem, check_value, index_form

__all__ = ["Answer", "changes_label", "contacts", "contacts_text", "decide", "directive_label"]


@dataclass
class Answer:
    request_id: str
    type: str
    outcome: str  # done, refused, nothing_held, not_automated
    reasons: list[str] = field(default_factory=list)
    done: list[str] = field(default_factory=list)
    copy: dict[str, Any] | None = None  # the data given, for access
    contacts: dict[str, Any] = field(default_factory=dict)
    # What recipients must be told of (Art. 19): category -> corrected values (none for an
    # erasure or restriction). Not part of the answer: it may hold personal values.
    changed: dict[str, dict[str, Any]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "request_id": self.request_id,
            "type": self.type,
            "outcome": self.outcome,
            "reasons": self.reasons,
            "done": self.done,
            "copy": self.copy,
            "contacts": self.contacts,
        }


def contacts(policy: Policy) -> dict[str, Any]:
    """The DPO, and the authority to complain to: every answer and notice names them."""
    dpo, authority = policy.dpo, policy.supervisory_authority
    return {
        "dpo": {
            "name": dpo.name,
            "organisation": dpo.organisation,
            "email": dpo.email,
            "phone": dpo.phone,
        },
        "complaint": {
            "authority": authority.name,
            "service": authority.complaint_service,
            "address": authority.address,
            "phone": authority.phone,
        },
    }


def contacts_text(policy: Policy) -> str:
    """`contacts`, as a sentence for a message to the person."""
    found = contacts(policy)
    dpo, complaint = found["dpo"], found["complaint"]
    return (
        f"Our data protection officer: {dpo['name']}, {dpo['email']}. You may also complain "
        f"to the {complaint['authority']} ({complaint['service']}), {complaint['address']}."
    )


def decide(
    *, session: Session, keyring: Keyring, policy: Policy, request: RightsRequest, at: datetime
) -> Answer:
    """The decision on a verified request, carried out through the same services as
    everything else. An unverified request is refused before anything is read."""
    if request.status not in ("verified", "closed"):  # closed ones were verified first
        raise Denied("the requester's identity is not verified: nothing is disclosed or changed")
    answer = Answer(request.id, request.type, "done", contacts=contacts(policy))
    if (
        request.subject_id is None
        or subjects.get_by_id(session=session, subject_id=request.subject_id) is None
    ):
        answer.outcome = "nothing_held"
        answer.reasons.append(f"{policy.controller.name} holds no personal data about you.")
        return answer
    handler = _HANDLERS.get(request.type)
    if handler is None:
        answer.outcome = "not_automated"
        answer.reasons.append("This kind of request is handled by the DPO, who will answer you.")
        return answer
    handler(session, keyring, policy, request, answer, at)
    return answer


def _confirmation(session, keyring, policy, request, answer, at) -> None:
    answer.reasons.append(f"Yes: {policy.controller.name} processes personal data about you.")


def _access(session, keyring, policy, request, answer, at) -> None:
    subject = subjects.get_by_id(session=session, subject_id=request.subject_id)
    cipher = keyring.cipher(session, subject.id)
    data, provenance = subjects.read(
        session=session,
        cipher=cipher,
        policy=policy,
        categories=[c.id for c in policy.categories],
        archived=True,
    )
    held = {name for name, values in data.items() if values}
    purposes = [
        {
            "purpose": p.name,
            "legal_basis": p.legal_basis,
            "categories": sorted(held & set(p.categories)),
        }
        for p in policy.purposes
        if subject.kind in p.subject_kinds and held & set(p.categories)
    ]
    recipients = sorted(
        {r.name for r in policy.recipients for g in r.grants if held & set(g.categories)}
    )
    retention = [
        {
            "rule": rule.description,
            "categories": sorted(held & set(rule.categories)),
            "from": rule.anchor,
            "months": rule.active_months + rule.archive_months,
            "until": str(
                add_months(getattr(subject, rule.anchor), rule.active_months + rule.archive_months)
            )
            if rule.anchor != "collected_at" and getattr(subject, rule.anchor)
            else None,
        }
        for rule in policy.retention
        if subject.kind in rule.subject_kinds and held & set(rule.categories)
    ]
    sources = sorted(
        {
            origin["source"]
            for fields in provenance.values()
            for origin in fields.values()
            if not origin["provided_by_subject"]
        }
    )
    trail = [
        {
            "at": e.at.isoformat(),
            "action": e.action,
            "outcome": e.outcome,
            "purpose": e.purpose,
            "categories": e.categories.split(",") if e.categories else [],
        }
        for e in audit.events(session, subject_id=subject.id, limit=100_000)
    ]
    answer.copy = {
        "personal_data": data,
        "provenance": provenance,
        "purposes": purposes,
        "recipients": recipients,
        "retention": retention,
        "sources_not_you": [policy.source(s).name for s in sources],
        "consents": consent.history(session=session, subject_id=subject.id),
        "access_trail": trail,
    }
    answer.reasons.append(
        "Here is a copy of the personal data held about you; the first copy is free."
    )
    answer.reasons.append(
        "Left out as confidential: the names of the members of staff who accessed your data "
        "(they are other people's personal data); the access trail gives what was done and why."
    )
    answer.done.append("copy provided")


def _objection(session, keyring, policy, request, answer, at) -> None:
    for scope in (o.id for o in policy.objections):
        consent.object_to(
            session=session, policy=policy, subject_id=request.subject_id, scope=scope, at=at
        )
    consent.suppress(session=session, subject_id=request.subject_id, reason="objection", at=at)
    covered = sorted(p.name for p in policy.purposes if p.objection_scopes)
    answer.done.append("objection to prospecting and profiling recorded")
    answer.reasons.append("Your data is no longer used for: " + "; ".join(covered) + " (§12, §15).")


def _consent_withdrawal(session, keyring, policy, request, answer, at) -> None:
    active = consent.standing(session=session, subject_id=request.subject_id, at=at)[0]
    for purpose in sorted(active):
        consent.withdraw(session=session, subject_id=request.subject_id, purpose=purpose, at=at)
        answer.done.append(f"consent withdrawn: {policy.purpose(purpose).name}")
    if not active:
        answer.reasons.append("You had given no consent that is still active.")
    else:
        answer.reasons.append(
            "Processing that rested on your consent stops; what was done before stays lawful."
        )


_ANCHORS = {  # how an answer names the date a retention period runs from
    "subscription_ended_at": "the end of your subscription",
    "last_transaction_at": "your last payment",
    "last_contact_at": "your last contact with us",
    "last_connection_at": "your last connection",
    "subscription_started_at": "the start of your subscription",
    "first_contact_at": "your first contact with us",
    "date_of_death": "the date of death",
    "collected_at": "its collection",
}


def _kept_until(policy: Policy, subject, category: str) -> str:
    """Until when the policy's retention rules keep a category of this subject."""
    dates, periods = [], []
    for rule in policy.retention:
        if category not in rule.categories or subject.kind not in rule.subject_kinds:
            continue
        months = rule.active_months + rule.archive_months
        anchor = getattr(subject, rule.anchor, None) if rule.anchor != "collected_at" else None
        if anchor is not None:
            dates.append(add_months(anchor, months))
        else:
            periods.append(f"{months} months after {_ANCHORS[rule.anchor]}")
    if periods:
        return "; ".join(periods)
    return f"until {max(dates)}" if dates else "as long as the legal obligation lasts"


def _erasure(session, keyring, policy, request, answer, at) -> None:
    """§12: everything is erased but what a legal obligation or legal claims require."""
    subject = subjects.get_by_id(session=session, subject_id=request.subject_id)
    held = subjects.categories_held(session=session, policy=policy, subject_id=subject.id)
    kept: dict[str, str] = {}
    for hold in retention.active_holds(session=session).get(subject.id, []):
        for category in held & set(hold.categories or held):
            kept[category] = (
                f"a legal hold ({policy.purpose(hold.purpose).name}, case "
                f"{hold.reference}), until it is lifted"
            )
    for purpose in policy.purposes:
        if purpose.erasure_exception and subject.kind in purpose.subject_kinds:
            for category in held & set(purpose.categories):
                kept.setdefault(
                    category,
                    f"{purpose.name} ({purpose.legal_basis.replace('_', ' ')}), "
                    f"{_kept_until(policy, subject, category)}",
                )
    if next(k for k in policy.subject_kinds if k.id == subject.kind).suppress_on_erasure:
        consent.suppress(session=session, subject_id=subject.id, reason="erasure", at=at)
        answer.done.append(
            "your e-mail and phone, as keyed digests, are on our suppression list: "
            "bought or researched data will not bring you back"
        )
    answer.changed = {category: {} for category in held - set(kept)}
    if not kept:
        subjects.erase(session=session, subject_ids=[subject.id])
        answer.done.insert(0, "all your personal data was erased, and the key that encrypted it")
        answer.reasons.append("Erasure is irreversible: it cannot be restored (§9).")
        return
    erased = held - set(kept)
    subjects.erase_categories(
        session=session, policy=policy, subject_id=subject.id, categories=erased
    )
    if erased:
        answer.done.append("erased: " + ", ".join(sorted(erased)))
    for category, ground in sorted(kept.items()):
        answer.reasons.append(f"Kept: {category}, for {ground}.")
    if subject.subscription_started_at and not subject.subscription_ended_at:
        answer.reasons.append(
            "Your subscription is running: the data the contract needs is kept while it runs."
        )


def _portability(session, keyring, policy, request, answer, at) -> None:
    """§14: what the person gave through our forms, processed on consent or contract, in a
    structured format; never enriched data (§18) nor technical logs."""
    subject = subjects.get_by_id(session=session, subject_id=request.subject_id)
    based = {
        c
        for p in policy.purposes
        if p.legal_basis in ("consent", "contract") and subject.kind in p.subject_kinds
        for c in p.categories
    }
    portable = [
        c.id
        for c in policy.categories
        if c.id in based and not c.enriched and c.storage == "record"
    ]
    data, provenance = subjects.read(
        session=session,
        cipher=keyring.cipher(session, subject.id),
        policy=policy,
        categories=portable,
    )
    answer.copy = {
        "personal_data": {
            category: {
                f: v for f, v in values.items() if provenance[category][f]["provided_by_subject"]
            }
            for category, values in data.items()
        }
    }
    answer.copy["personal_data"] = {k: v for k, v in answer.copy["personal_data"].items() if v}
    answer.done.append("copy of the data you gave us provided")
    answer.reasons.append(
        "Portability covers the data you gave us yourself, through our forms, processed on your "
        "consent or for the contract (§14); it leaves out data we derived (§18) and connection logs."
    )


def _restriction(session, keyring, policy, request, answer, at) -> None:
    """§13: no restriction where processing is lawful and the data all serve the running
    contract; otherwise applied: from now on only legal claims and obligations use the data."""
    subject = subjects.get_by_id(session=session, subject_id=request.subject_id)
    if subject.subscription_started_at and not subject.subscription_ended_at:
        answer.outcome = "refused"
        answer.reasons.append(
            "Restriction does not apply: the processing is lawful and the personal data collected "
            "is necessary to the contract you have with us (§13). You may object to prospecting "
            "or ask for erasure of what the contract does not need."
        )
        return
    session.add(
        DataLimit(
            subject_id=subject.id,
            category=EVERY_CATEGORY,
            basis="restriction",
            grounds=[],
            request_id=request.id,
            since=utc_naive(at),
        )
    )
    subject.limited_at = utc_naive(at)
    held = subjects.categories_held(session=session, policy=policy, subject_id=subject.id)
    answer.changed = {category: {} for category in held}
    answer.done.append("processing restricted: your data is only stored, and used for legal claims")
    answer.reasons.append("Tell us when you want the restriction lifted; we will inform you first.")


def changes_label(request_id: str) -> str:
    """The label a rectification's sealed values are bound to."""
    return f"request-changes:{request_id}"


def _rectification(session, keyring, policy, request, answer, at) -> None:
    """§11: substantial changes (civil status, identity, contact details) are made; others,
    and changes of form only, are convenience changes and refused with the reason."""
    if request.changes is None:  # opened before requests carried their values
        answer.outcome = "not_automated"
        answer.reasons.append("The DPO will ask you which values to correct.")
        return
    rules = RecordRules(policy)
    asked = orjson.loads(keyring.open_note(request.changes, label=changes_label(request.id)))
    subject = subjects.get_by_id(session=session, subject_id=request.subject_id)
    held, _ = subjects.read(
        session=session,
        cipher=keyring.cipher(session, subject.id),
        policy=policy,
        categories=sorted({key.partition(".")[0] for key in asked}),
    )
    apply: dict[tuple[str, str], object] = {}
    for key, value in sorted(asked.items()):
        category_id, _, field_id = key.partition(".")
        category = policy.category(category_id)
        spec = category.field(field_id) if category else None
        if spec is None or category.storage != "record":
            answer.reasons.append(f"Not changed, {key}: no such field is held.")
            continue
        if not spec.substantial:
            answer.reasons.append(
                f"Not changed, {key}: only civil status, identity and contact details are "
                "corrected (§11); this would be a convenience change."
            )
            continue
        try:
            checked = check_value(spec.type, value)
        except ValueProblem as problem:
            answer.reasons.append(f"Not changed, {key}: not a valid {spec.type} ({problem}).")
            continue
        before = held.get(category_id, {}).get(field_id)
        if before is not None and _same(spec.type, before, checked, rules):
            answer.reasons.append(
                f"Not changed, {key}: a change of form only is a convenience change (§11)."
            )
            continue
        apply[(category_id, field_id)] = checked
    if apply:
        subjects.rectify(
            session=session, keyring=keyring, rules=rules, subject=subject, values=apply, at=at
        )
        answer.done.append("corrected: " + ", ".join(f"{c}.{f}" for c, f in apply))
        for (category, field_id), value in apply.items():
            answer.changed.setdefault(category, {})[field_id] = value
    else:
        answer.outcome = "refused"


def _same(field_type: str, before: object, after: object, rules: RecordRules) -> bool:
    """Whether two values differ in form only (case, spacing, punctuation)."""

    def form(value: object) -> str:
        if field_type in ("email", "phone"):
            return index_form(field_type, str(value), calling_code=rules.calling_code)
        return " ".join(str(value).split()).casefold()

    return form(before) == form(after)


def directive_label(subject_id: str) -> str:
    """The label a post-mortem designate's sealed address is bound to."""
    return f"post-mortem:{subject_id}"


def _post_mortem(session, keyring, policy, request, answer, at) -> None:
    """§16: record, replace or revoke the person's directive for their data after death."""
    asked = orjson.loads(keyring.open_note(request.changes, label=changes_label(request.id)))
    current = session.get(PostMortemDirective, request.subject_id)
    if asked["directive"] == "revoke":
        if current is None:
            answer.outcome = "refused"
            answer.reasons.append("You have no post-mortem directive with us to revoke.")
            return
        session.delete(current)
        answer.done.append("your post-mortem directive is revoked")
        return
    if current is None:
        current = PostMortemDirective(subject_id=request.subject_id)
        session.add(current)
    current.directive, current.recorded_at, current.request_id = (
        asked["directive"],
        utc_naive(at),
        request.id,
    )
    designate = asked.get("designate")
    current.designate = (
        keyring.seal_note(designate, label=directive_label(request.subject_id))
        if designate
        else None
    )
    answer.done.append(f"post-mortem directive recorded: {_DIRECTIVE_TEXT[asked['directive']]}")


_DIRECTIVE_TEXT = {
    "keep": "your data is kept, then deleted on the policy's schedule",
    "erase": "your data is erased once your death is recorded",
    "communicate": "your data is communicated to the person you designated",
}


_HANDLERS = {
    "confirmation": _confirmation,
    "access": _access,
    "objection": _objection,
    "consent_withdrawal": _consent_withdrawal,
    "erasure": _erasure,
    "portability": _portability,
    "restriction": _restriction,
    "rectification": _rectification,
    "post_mortem": _post_mortem,
}
