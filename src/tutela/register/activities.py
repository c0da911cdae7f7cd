"""The register of processing activities (GDPR Art. 30(1)), derived from the policy alone.

One activity per purpose. Every entry is read off the policy (its texts, translated where it
translates them) and the words of `words`: nothing is restated, so the register cannot
drift from what the engine enforces. A pure function of the policy and a language.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from tutela.policy.schema import Policy, Purpose, RetentionRule
from tutela.policy.texts import Localised
from tutela.register import words
from tutela.register.words import word

__all__ = ["erasure_limits", "register"]


def register(
    policy: Policy, lang: str, dates: dict[str, tuple[date, date]] | None = None
) -> dict[str, Any]:
    """The whole register in `lang`: the controller's part, then one entry per purpose,
    dated by `dates` (purpose -> created, updated; `dates.activity_dates`), else by the
    version's `effective_from`."""
    t = Localised(policy, lang)
    return {
        "title": word("register", lang),
        "lang": lang,
        "policy_version": policy.version,
        "effective_from": policy.effective_from,
        "controller": _controller(policy),
        "representative": _contact(policy.controller.representative),
        "dpo": _contact(policy.dpo),
        "security_measures": [
            {"id": m.id, "description": t.of("security_measures", m, "description")}
            for m in policy.security_measures
        ],
        "activities": [
            _activity(policy, t, p, (dates or {}).get(p.id, (policy.effective_from,) * 2))
            for p in policy.purposes
        ],
    }


def _controller(policy: Policy) -> dict[str, Any]:
    c = policy.controller
    return {
        "name": c.legal_name or c.name,
        "address": c.address,
        "email": c.email,
        "country": c.country,
    }


def _contact(contact) -> dict[str, Any] | None:
    if contact is None:
        return None
    return {
        "name": contact.name,
        "organisation": contact.organisation,
        "email": contact.email,
        "phone": contact.phone,
        "address": contact.address,
    }


def _activity(
    policy: Policy, t: Localised, purpose: Purpose, dated: tuple[date, date]
) -> dict[str, Any]:
    lang = t.lang
    article, basis_words = words.legal_basis(purpose.legal_basis, lang)
    kinds = [policy.subject_kind(k) for k in purpose.subject_kinds]
    categories = [policy.category(c) for c in purpose.categories]
    return {
        "reference": purpose.id,
        "name": t.of("purposes", purpose, "name"),
        "created": dated[0],
        "updated": dated[1],
        "policy_section": purpose.policy_section,
        "description": t.of("purposes", purpose, "description"),
        "sub_purposes": t.each("purposes", purpose, "sub_purposes"),
        "legal_basis": {
            "basis": purpose.legal_basis,
            "article": article,
            "words": basis_words,
            "legitimate_interest": t.of("purposes", purpose, "legitimate_interest") or None,
            "balancing_test": purpose.balancing_test,
        },
        "data_subjects": [
            {"id": k.id, "name": t.of("subject_kinds", k, "name"), "dpv": k.dpv} for k in kinds
        ],
        "data_categories": [
            {
                "id": c.id,
                "name": t.of("categories", c, "name"),
                "description": t.of("categories", c, "description"),
                "sensitive": c.sensitive,
                "dpv": c.dpv,
                "erasure": erasure_limits(policy, t, c.id, kinds),
            }
            for c in categories
        ],
        "sensitive_data": [c.id for c in categories if c.sensitive],
        "sources": _sources(policy, t, purpose),
        "recipients": _recipients(policy, t, purpose),
        "subprocessors": _subprocessors(policy, t, purpose),
        "transfers": [
            {
                "subprocessor": s.id,
                "location": t.of("subprocessors", s, "location"),
                "safeguard": t.of("subprocessors", s, "transfer_safeguard") or None,
            }
            for s in policy.subprocessors
            if s.outside_eea and purpose.id in s.purposes
        ],
        "profiling": purpose.profiling,
        "automated_decision": purpose.automated_decision,
        "dpia": _dpia(policy, t, purpose),
        "dpv": purpose.dpv,
    }


def erasure_limits(
    policy: Policy, t: Localised, category: str, kinds: list
) -> list[dict[str, Any]]:
    """The erasure limits of a category for these kinds of people: one per rule and wording,
    naming the kinds it applies to."""
    limits: dict[tuple[str, str], dict[str, Any]] = {}
    for kind in kinds:
        for rule in policy.rules_for(category, kind.id):
            limit = _rule_limit(policy, t, rule, kind)
            same = limits.setdefault((rule.id, limit["words"]), {**limit, "subject_kinds": []})
            same["subject_kinds"].append(kind.id)
    return list(limits.values())


def _rule_limit(policy: Policy, t: Localised, rule: RetentionRule, kind) -> dict[str, Any]:
    """When one rule ends one kind of person's data, in words and in months."""
    lang = t.lang
    kind_name = t.of("subject_kinds", kind, "name").lower()
    then = word("then_delete" if rule.then == "delete" else "then_anonymise", lang)
    if rule.active_months:
        text = f"{words.period(rule.active_months, lang)} {words.anchor_after(rule.anchor, lang, kind_name)}"
        if rule.archive_months:
            text += f", {word('in_archive', lang)} {words.period(rule.archive_months, lang)}"
    else:
        text = (
            f"{word('archived_at', lang)} {words.anchor_at(rule.anchor, lang, kind_name)}, "
            f"{word('kept_archive', lang)} {words.period(rule.archive_months, lang)}"
        )
    text += f", {then}"
    if rule.unless == "retain_consent":
        text += f" ({word('unless_retain_consent', lang)})"
    return {
        "rule": rule.id,
        "words": text,
        "anchor": rule.anchor,
        "active_months": rule.active_months,
        "archive_months": rule.archive_months,
        "total_months": rule.months,
        "then": rule.then,
        "description": t.of("retention", rule, "description"),
    }


def _sources(policy: Policy, t: Localised, purpose: Purpose) -> list[dict[str, Any]]:
    """The sources not the person that bring data this purpose uses (Art. 30(1)(c),
    Art. 14(2)(f))."""
    used = set(purpose.categories)
    return [
        {
            "id": s.id,
            "name": t.of("sources", s, "name"),
            "categories": [c for c in s.categories if c in used],
        }
        for s in policy.sources
        if not s.provided_by_subject and used & set(s.categories)
    ]


def _recipients(policy: Policy, t: Localised, purpose: Purpose) -> list[dict[str, Any]]:
    """The roles granted this purpose, with the categories they may read for it."""
    used = set(purpose.categories)
    out = []
    for recipient in policy.recipients:
        granted = policy.reach([recipient.id]).get(purpose.id, frozenset()) & used
        if granted:
            out.append(
                {
                    "id": recipient.id,
                    "name": t.of("recipients", recipient, "name"),
                    "kind": recipient.kind,
                    "categories": sorted(granted),
                }
            )
    return out


def _subprocessors(policy: Policy, t: Localised, purpose: Purpose) -> list[dict[str, Any]]:
    return [
        {
            "id": s.id,
            "name": t.of("subprocessors", s, "name"),
            "service": t.of("subprocessors", s, "service"),
            "location": t.of("subprocessors", s, "location"),
            "categories": [c for c in s.categories if c in purpose.categories],
            "guarantees": t.of("subprocessors", s, "guarantees"),
            "contract_reference": s.contract_reference,
            "contract_date": s.contract_date,
            "last_audit": s.last_audit,
            "outside_eea": s.outside_eea,
        }
        for s in policy.subprocessors
        if purpose.id in s.purposes
    ]


def _dpia(policy: Policy, t: Localised, purpose: Purpose) -> dict[str, Any] | None:
    assessment = policy.impact_assessment(purpose.dpia) if purpose.dpia else None
    if assessment is None:
        return None
    return {
        "id": assessment.id,
        "required": assessment.required,
        "reason": t.of("impact_assessments", assessment, "reason"),
        "reference": assessment.reference,
    }
