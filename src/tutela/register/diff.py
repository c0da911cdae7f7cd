"""What changes from one policy version to another, in the register's terms (§24): purposes
added or removed, legal bases changed, grants widened or narrowed (who gains or loses access
to what), retention periods changed, subprocessors and security measures changed.

A pure function of the two policies, shown before a version is activated and recorded with
it in the trail.
"""

from __future__ import annotations

from typing import Any

from tutela.policy.schema import Policy

__all__ = ["diff", "grants", "unchanged", "weakened_security"]

_RULE_TERMS = ("anchor", "active_months", "archive_months", "then", "unless")


def diff(old: Policy, new: Policy) -> dict[str, Any]:
    return {
        "from": old.version,
        "to": new.version,
        "purposes": _purposes(old, new),
        "grants": _grants(old, new),
        "retention": _retention(old, new),
        "subprocessors": _changed_items(old.subprocessors, new.subprocessors),
        "security_measures": _changed_items(old.security_measures, new.security_measures),
        "recipients": _added_removed(old.recipients, new.recipients),
    }


def unchanged(change: dict[str, Any]) -> bool:
    """Whether a diff changes nothing in register terms (the versions may still differ in
    wording the register does not show)."""
    return not any(
        items
        for key, part in change.items()
        if key not in ("from", "to")
        for items in part.values()
    )


def weakened_security(change: dict[str, Any]) -> list[str]:
    """The security measures a diff removes or changes: a change of wording may lower the
    level of security (§20), which only a person may judge."""
    measures = change["security_measures"]
    return sorted([*measures["removed"], *(m["id"] for m in measures["changed"])])


def grants(policy: Policy) -> set[tuple[str, str, str]]:
    """Every (role, purpose, category) the policy grants, for data the purpose uses."""
    out = set()
    for recipient in policy.recipients:
        for purpose_id, categories in policy.reach([recipient.id]).items():
            purpose = policy.purpose(purpose_id)
            if purpose is None:
                continue
            out |= {(recipient.id, purpose_id, c) for c in categories if c in purpose.categories}
    return out


def _purposes(old: Policy, new: Policy) -> dict[str, Any]:
    before = {p.id: p for p in old.purposes}
    after = {p.id: p for p in new.purposes}
    changed = []
    for pid in sorted(before.keys() & after.keys()):
        a, b = before[pid], after[pid]
        terms = {}
        for term in ("legal_basis", "categories", "subject_kinds", "objection_scopes"):
            if getattr(a, term) != getattr(b, term):
                terms[term] = {"from": getattr(a, term), "to": getattr(b, term)}
        if terms:
            changed.append({"id": pid, **terms})
    return {
        "added": [{"id": p, "name": after[p].name} for p in sorted(after.keys() - before.keys())],
        "removed": [
            {"id": p, "name": before[p].name} for p in sorted(before.keys() - after.keys())
        ],
        "changed": changed,
    }


def _grants(old: Policy, new: Policy) -> dict[str, list[dict[str, str]]]:
    before, after = grants(old), grants(new)

    def listed(triples: set[tuple[str, str, str]]) -> list[dict[str, str]]:
        return [{"role": r, "purpose": p, "category": c} for r, p, c in sorted(triples)]

    return {"widened": listed(after - before), "narrowed": listed(before - after)}


def _retention(old: Policy, new: Policy) -> dict[str, Any]:
    before = {r.id: r for r in old.retention}
    after = {r.id: r for r in new.retention}
    changed = []
    for rid in sorted(before.keys() & after.keys()):
        a, b = before[rid], after[rid]
        terms = {
            term: {"from": getattr(a, term), "to": getattr(b, term)}
            for term in (*_RULE_TERMS, "categories", "subject_kinds")
            if getattr(a, term) != getattr(b, term)
        }
        if terms:
            changed.append({"id": rid, **terms})
    return {
        "added": sorted(after.keys() - before.keys()),
        "removed": sorted(before.keys() - after.keys()),
        "changed": changed,
    }


def _added_removed(old: list, new: list) -> dict[str, list[str]]:
    before, after = {i.id for i in old}, {i.id for i in new}
    return {"added": sorted(after - before), "removed": sorted(before - after)}


def _changed_items(old: list, new: list) -> dict[str, Any]:
    """Items added, removed, and changed with each field that differs."""
    before = {i.id: i.model_dump(mode="json") for i in old}
    after = {i.id: i.model_dump(mode="json") for i in new}
    changed = []
    for item_id in sorted(before.keys() & after.keys()):
        fields = {
            key: {"from": before[item_id][key], "to": after[item_id][key]}
            for key in before[item_id]
            if before[item_id][key] != after[item_id][key]
        }
        if fields:
            changed.append({"id": item_id, "fields": fields})
    return {
        "added": sorted(after.keys() - before.keys()),
        "removed": sorted(before.keys() - after.keys()),
        "changed": changed,
    }
