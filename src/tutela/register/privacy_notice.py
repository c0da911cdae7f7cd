"""The privacy notice for one kind of person (GDPR Art. 12-14), derived from the policy alone.

What the person is told (who decides, why, on which basis, who receives the data, how long
it is kept, their rights and how to use them, where to complain, what each form requires)
is read off the policy, so that it says what the engine enforces. Data not collected from
the person adds its categories and sources and when the person is told (Art. 14).
"""

from __future__ import annotations

from typing import Any

from tutela.errors import InvalidInput, NotFound
from tutela.policy.schema import Policy
from tutela.policy.texts import Localised
from tutela.register import words
from tutela.register.activities import erasure_limits

__all__ = ["form", "notice"]


def notice(policy: Policy, lang: str, kind_id: str) -> dict[str, Any]:
    kind = policy.subject_kind(kind_id)
    if kind is None:
        raise InvalidInput(f"expected one of: {', '.join(policy.kind_ids)}", location="kind")
    t = Localised(policy, lang)
    purposes = [p for p in policy.purposes if kind.id in p.subject_kinds]
    used = list(dict.fromkeys(c for p in purposes for c in p.categories))
    categories = [policy.category(c) for c in used]
    c, authority = policy.controller, policy.supervisory_authority
    return {
        "lang": lang,
        "kind": {"id": kind.id, "name": t.of("subject_kinds", kind, "name")},
        "policy_version": policy.version,
        "effective_from": policy.effective_from,
        "controller": {
            "name": c.legal_name or c.name,
            "address": c.address,
            "email": c.email,
            "websites": c.websites,
        },
        "representative": c.representative.model_dump() if c.representative else None,
        "dpo": policy.dpo.model_dump(),
        "purposes": [_purpose(policy, t, p) for p in purposes],
        "recipients": _recipients(policy, t, {p.id for p in purposes}),
        "subprocessors": [
            {
                "name": t.of("subprocessors", s, "name"),
                "service": t.of("subprocessors", s, "service"),
                "location": t.of("subprocessors", s, "location"),
            }
            for s in policy.subprocessors
            if {p.id for p in purposes} & set(s.purposes)
        ],
        "transfers": [
            {
                "name": t.of("subprocessors", s, "name"),
                "location": t.of("subprocessors", s, "location"),
                "safeguard": t.of("subprocessors", s, "transfer_safeguard") or None,
            }
            for s in policy.subprocessors
            if s.outside_eea and {p.id for p in purposes} & set(s.purposes)
        ],
        "data_categories": [
            {
                "id": cat.id,
                "name": t.of("categories", cat, "name"),
                "description": t.of("categories", cat, "description"),
                "enriched": cat.enriched,
                "kept": [e["words"] for e in erasure_limits(policy, t, cat.id, [kind])],
            }
            for cat in categories
        ],
        "sources": [
            {
                "name": t.of("sources", s, "name"),
                "categories": [
                    t.of("categories", policy.category(x), "name")
                    for x in s.categories
                    if x in used
                ],
            }
            for s in policy.sources
            if not s.provided_by_subject and set(s.categories) & set(used)
        ],
        "told_when": t.of("subject_kinds", kind, "told_when") or None,
        "rights": [
            {
                "id": r.id,
                "name": t.of("rights", r, "name"),
                "description": t.of("rights", r, "description"),
                "articles": t.of("rights", r, "articles"),
                "how": t.of("rights", r, "how") or None,
            }
            for r in policy.rights
        ],
        "identity_proof": t.key(
            "rights_requests.identity_proof", policy.rights_requests.identity_proof or ""
        )
        or None,
        "complaint": {
            "authority": authority.name,
            "service": authority.complaint_service,
            "address": authority.address,
            "phone": authority.phone,
            "website": authority.website,
        },
        "forms": [form(policy, lang, f.id) for f in policy.forms],
    }


def _purpose(policy: Policy, t: Localised, purpose) -> dict[str, Any]:
    article, basis = words.legal_basis(purpose.legal_basis, t.lang)
    return {
        "id": purpose.id,
        "name": t.of("purposes", purpose, "name"),
        "legal_basis": purpose.legal_basis,
        "basis": f"{basis} ({article})",
        "legitimate_interest": t.of("purposes", purpose, "legitimate_interest") or None,
        "withdrawal": t.of("purposes", purpose, "withdrawal") or None,
        "profiling": purpose.profiling,
        "automated_decision": purpose.automated_decision,
        "categories": [t.of("categories", policy.category(c), "name") for c in purpose.categories],
    }


def _recipients(policy: Policy, t: Localised, purposes: set[str]) -> dict[str, list[str]]:
    """The recipients granted some of these purposes, internal and external, by name."""
    out: dict[str, list[str]] = {"internal": [], "external": []}
    for recipient in policy.recipients:
        if purposes & set(policy.reach([recipient.id])):
            out[recipient.kind].append(t.of("recipients", recipient, "name"))
    return out


def form(policy: Policy, lang: str, form_id: str) -> dict[str, Any]:
    """A collection form as the websites show it (§5.4, §17): each field, whether it is
    mandatory (the asterisk), and what leaving a mandatory one empty means."""
    spec = policy.form(form_id)
    if spec is None:
        raise NotFound(f"no such form; the policy's: {', '.join(f.id for f in policy.forms)}")
    t = Localised(policy, lang)
    fields = []
    for item in spec.fields:
        described = policy.category(item.category).field(item.name)
        key = f"categories.{item.category}.fields.{item.name}"
        fields.append(
            {
                "field": item.field,
                "type": described.type,
                "label": t.key(key, described.description or item.name),
                "mandatory": item.mandatory,
            }
        )
    return {
        "id": spec.id,
        "lang": lang,
        "name": t.of("forms", spec, "name"),
        "fields": fields,
        "consequence_if_missing": t.of("forms", spec, "consequence_if_missing"),
        "policy_version": policy.version,
    }
