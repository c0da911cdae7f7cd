"""`decide`: a rights request, the facts about the person, the policy and a day -> a decision.

A pure function: no database, no clock, no writes. Each kind of request has its handler;
erasure and restriction, which weigh what must be kept, are in `requests.keeping`.
"""

from __future__ import annotations

from datetime import date

from tutela.policy.schema import Policy
from tutela.requests.decision import (
    Action,
    Decision,
    Item,
    Outcome,
    PersonFacts,
    RequestFacts,
)
from tutela.requests.keeping import erasure, lift_restriction, restriction
from tutela.subjects.values import ValueProblem, check_value, index_form

__all__ = ["decide"]


def decide(
    request: RequestFacts, facts: PersonFacts | None, policy: Policy, as_of: date
) -> Decision:
    """The decision on a verified request about the person `facts` describe (None: Tutela
    holds nothing on them), as of `as_of`."""
    base = {
        "request_id": request.id,
        "type": request.type,
        "as_of": as_of,
        "policy_version": policy.version,
    }
    if facts is None:
        holds_nothing = f"{policy.controller.name} holds no personal data about you."
        return Decision(**base, outcome=Outcome.NOTHING_HELD, reasons=(holds_nothing,))
    handler = _HANDLERS.get(request.type)
    if handler is None:
        dpo = "This kind of request is handled by the DPO, who will answer you."
        return Decision(**base, outcome=Outcome.NOT_AUTOMATED, reasons=(dpo,))
    return handler(policy, request, facts, as_of, base)


def _confirmation(policy, request, facts, as_of, base) -> Decision:
    names = ", ".join(policy.category(c).name for c in sorted(facts.held))
    yes = f"Yes: {policy.controller.name} processes personal data about you ({names})."
    return Decision(**base, outcome=Outcome.DONE, reasons=(yes,))


def _access(policy, request, facts, as_of, base) -> Decision:
    items = tuple(Item(category, Action.GIVE, "a copy is given") for category in sorted(facts.held))
    return Decision(
        **base,
        outcome=Outcome.DONE,
        items=items,
        reasons=(
            "Here is a copy of the personal data held about you; the first copy is free.",
            "Left out as confidential: the names of the members of staff who accessed your "
            "data (they are other people's personal data); the access trail gives what was "
            "done, by which service, and why.",
        ),
    )


def _portability(policy, request, facts, as_of, base) -> Decision:
    """§14, Art. 20: what the person gave through the forms, processed on their consent or
    for a contract, in a structured format; never enriched data (§18) nor usage records."""
    based = {
        c
        for p in policy.purposes
        if p.legal_basis in ("consent", "contract") and facts.kind in p.subject_kinds
        for c in p.categories
    }
    items = []
    for category, holding in sorted(facts.held.items()):
        spec = policy.category(category)
        if spec.enriched:
            why = "derived by us from our own analysis (§18): not portable"
        elif spec.storage != "record":
            why = "records of your use of the service, not data you gave us"
        elif category not in based:
            why = "not processed on your consent nor for a contract"
        elif not holding.given:
            why = "you did not give it to us yourself"
        else:
            items.append(
                Item(category, Action.GIVE, "a copy is given", fields=tuple(sorted(holding.given)))
            )
            continue
        items.append(Item(category, Action.REFUSE, why))
    given = [i for i in items if i.action == Action.GIVE]
    return Decision(
        **base,
        outcome=Outcome.DONE if given else Outcome.REFUSED,
        items=tuple(items),
        reasons=(
            "Portability covers the data you gave us yourself, through our forms, processed on "
            "your consent or for a contract (§14); it leaves out data we derived (§18) and "
            "records of your use of the service.",
        ),
    )


def _objection(policy, request, facts, as_of, base) -> Decision:
    """§12, §15: the purposes of the scopes objected to stop; the others go on."""
    scopes = tuple(request.particulars.get("scopes") or (o.id for o in policy.objections))
    mine = [p for p in policy.purposes if facts.kind in p.subject_kinds]
    stopped = [p for p in mine if set(p.objection_scopes) & set(scopes)]
    items = []
    for category in sorted(facts.held):
        ends = sorted(p.id for p in stopped if category in p.categories)
        if ends:
            goes_on = tuple(
                sorted(p.id for p in mine if category in p.categories and p not in stopped)
            )
            why = "no longer used for: " + ", ".join(ends)
            items.append(Item(category, Action.RESTRICT, why, ("objection",), goes_on))
    names = "; ".join(policy.objection(s).name for s in scopes)
    return Decision(
        **base,
        outcome=Outcome.DONE,
        items=tuple(items),
        reasons=(
            f"Your objection is recorded: {names}.",
            "Your data is no longer used for: "
            + ("; ".join(p.name for p in stopped) or "nothing it was used for")
            + " (§12, §15).",
        ),
        objections=tuple(s for s in scopes if s not in facts.subject.objections),
        suppress=bool(set(scopes) & policy.suppressing_scopes),
    )


def _consent_withdrawal(policy, request, facts, as_of, base) -> Decision:
    withdrawn = tuple(sorted(facts.subject.consented))
    if not withdrawn:
        none = "You had given no consent that is still active."
        return Decision(**base, outcome=Outcome.DONE, reasons=(none,))
    stops = "; ".join(policy.purpose(p).name for p in withdrawn)
    return Decision(
        **base,
        outcome=Outcome.DONE,
        reasons=(
            f"Your consent is withdrawn for: {stops}.",
            "Processing that rested on your consent stops; what was done before stays lawful.",
        ),
        withdrawals=withdrawn,
    )


def _rectification(policy, request, facts, as_of, base) -> Decision:
    """§11: substantial changes (civil status, identity, contact details) are made; others,
    and changes of form only, are convenience changes and refused with the reason."""
    asked = request.particulars.get("changes") or {}
    items, corrections = [], {}
    for key, value in sorted(asked.items()):
        category_id, _, field_id = key.partition(".")
        category = policy.category(category_id)
        spec = category.field(field_id) if category else None
        if spec is None or category.storage != "record":
            items.append(
                Item(
                    category_id, Action.REFUSE, f"{key}: no such field is held", fields=(field_id,)
                )
            )
            continue
        if not spec.substantial:
            why = (
                f"{key}: only civil status, identity and contact details are corrected (§11); "
                "this would be a convenience change"
            )
            items.append(Item(category_id, Action.REFUSE, why, fields=(field_id,)))
            continue
        try:
            checked = check_value(spec.type, value)
        except ValueProblem as problem:
            why = f"{key}: not a valid {spec.type} ({problem})"
            items.append(Item(category_id, Action.REFUSE, why, fields=(field_id,)))
            continue
        before = facts.current.get(key)
        calling_code = policy.controller.default_calling_code
        if before is not None and _same(spec.type, before, checked, calling_code):
            why = f"{key}: a change of form only is a convenience change (§11)"
            items.append(Item(category_id, Action.REFUSE, why, fields=(field_id,)))
            continue
        corrections[key] = checked
        items.append(Item(category_id, Action.RECTIFY, f"{key}: corrected", fields=(field_id,)))
    return Decision(
        **base,
        outcome=Outcome.DONE if corrections else Outcome.REFUSED,
        items=tuple(items),
        reasons=tuple(f"Not changed, {i.reason}." for i in items if i.action == Action.REFUSE),
        corrections=corrections,
    )


def _same(field_type: str, before: object, after: object, calling_code: str) -> bool:
    """Whether two values differ in form only (case, spacing, punctuation)."""

    def form(value: object) -> str:
        if field_type in ("email", "phone"):
            return index_form(field_type, str(value), calling_code=calling_code)
        return " ".join(str(value).split()).casefold()

    return form(before) == form(after)


DIRECTIVE_TEXT = {
    "keep": "your data is kept, then deleted on the policy's schedule",
    "erase": "your data is erased once your death is recorded",
    "communicate": "your data is communicated to the person you designated",
}


def _post_mortem(policy, request, facts, as_of, base) -> Decision:
    """§16: record, replace or revoke the person's directive for their data after death."""
    asked = request.particulars
    if asked["directive"] == "revoke":
        if facts.directive is None:
            none = "You have no post-mortem directive with us to revoke."
            return Decision(**base, outcome=Outcome.REFUSED, reasons=(none,))
        revoked = "Your post-mortem directive is revoked."
        return Decision(**base, outcome=Outcome.DONE, reasons=(revoked,), directive=asked)
    recorded = f"Your post-mortem directive is recorded: {DIRECTIVE_TEXT[asked['directive']]}."
    return Decision(**base, outcome=Outcome.DONE, reasons=(recorded,), directive=asked)


_HANDLERS = {
    "confirmation": _confirmation,
    "access": _access,
    "portability": _portability,
    "objection": _objection,
    "consent_withdrawal": _consent_withdrawal,
    "rectification": _rectification,
    "post_mortem": _post_mortem,
    "erasure": erasure,
    "restriction": restriction,
    "lift_restriction": lift_restriction,
}
