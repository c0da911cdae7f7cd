"""Erasure and restriction: what must be kept, on which ground, until when. Pure functions.

An erasure (§12) erases each category but what a ground still needs: a legal hold, a running
contract (Art. 17(1)(a): the data is still necessary), a legal obligation or legal claims
(Art. 17(3)(b), (e)). What is kept serves those grounds only, and goes when the policy's
retention rules end it, each from its own anchor; data whose period has ended goes now.
A restriction (§13, Art. 18) is refused for what a running contract needs, applied otherwise.
"""

from __future__ import annotations

from datetime import date
from typing import get_args

from tutela.access.gate import EVERY_CATEGORY
from tutela.policy.schema import Policy
from tutela.policy.sections import ErasureGround
from tutela.requests.decision import (
    Action,
    Decision,
    Held,
    Item,
    Outcome,
    PersonFacts,
    RequestFacts,
)
from tutela.retention.ends import end_of

__all__ = ["GROUND_WORDS", "erasure", "kept_or_erased", "lift_restriction", "restriction"]

GROUND_WORDS = {
    "legal_obligation": "a legal obligation",
    "legal_claims": "legal claims",
    "contract": "your running contract",
}
LEGAL_GROUNDS = get_args(ErasureGround)  # the grounds a purpose keeps data on, Art. 17(3)


def kept_or_erased(
    policy: Policy, facts: PersonFacts, category: str, holding: Held, as_of: date
) -> Item:
    """Whether an erasure keeps `category`, on which grounds and until when, or erases it."""
    holds = [h for h in facts.holds if category in h.categories]
    end = end_of(
        policy, category=category, kind=facts.kind, lifecycle=facts.lifecycle, latest=holding.latest
    )
    needs = [g for g in LEGAL_GROUNDS if policy.ground_purposes(g, category, facts.kind)]
    running = policy.contract_running(facts.lifecycle, as_of)
    if running and category in policy.rights_requests.running_contract.categories:
        needs.insert(0, "contract")
    ended = end is not None and end.until is not None and end.until <= as_of
    grounds = [f"hold:{h.purpose}" for h in holds] + ([] if ended else needs)
    if not grounds:
        if ended and needs:  # its period is over: it goes now, not "kept until" a past day
            why = f"erased: what the law needs of it ended on {end.until} (rule {end.rule})"
            return Item(category, Action.ERASE, why, rule=end.rule)
        return Item(category, Action.ERASE, "erased")
    purposes = sorted({p for g in grounds for p in policy.ground_purposes(g, category, facts.kind)})
    words = [f"a legal hold (case {h.reference})" for h in holds]
    words += [GROUND_WORDS[g] for g in grounds if not g.startswith("hold:")]
    if holds:
        until, last = None, "until the hold is lifted"
    else:
        until = end.until if end else None
        last = end.words() if end else "while no retention rule of the policy limits it"
    why = f"kept for {_listed(words)}, {last}"
    return Item(
        category,
        Action.KEEP,
        why,
        tuple(grounds),
        tuple(purposes),
        until,
        end.rule if end else None,
    )


def _listed(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def erasure(
    policy: Policy, request: RequestFacts, facts: PersonFacts, as_of: date, base: dict
) -> Decision:
    items = tuple(
        kept_or_erased(policy, facts, category, holding, as_of)
        for category, holding in sorted(facts.held.items())
    )
    kept = [i for i in items if i.action == Action.KEEP]
    reasons = []
    if not kept:
        reasons.append("All your personal data is erased, and the key that encrypted it.")
    else:
        reasons.append(
            "Some of your data is kept, each category for the grounds given with it and used "
            "for those only; it is erased when they end."
        )
        if any("contract" in i.grounds for i in kept):
            reasons.append(
                "Your subscription is running: the data the contract needs is kept while it "
                "runs. End your subscription to have it erased but what the law needs."
            )
    reasons.append("Erasure is irreversible: it cannot be restored (§9).")
    suppress = policy.subject_kind(facts.kind).suppress_on_erasure
    if suppress:
        reasons.append(
            "Your e-mail and phone, as keyed digests, are on our suppression list: bought or "
            "researched data will not bring you back."
        )
    return Decision(
        **base, outcome=Outcome.DONE, items=items, reasons=tuple(reasons), suppress=suppress
    )


def _restricted(facts: PersonFacts) -> list[str]:
    """The categories (or `EVERY_CATEGORY`) under a restriction."""
    return [
        category
        for category, limits in facts.subject.limits.items()
        if any(limit.basis == "restriction" for limit in limits)
    ]


def restriction(
    policy: Policy, request: RequestFacts, facts: PersonFacts, as_of: date, base: dict
) -> Decision:
    if EVERY_CATEGORY in _restricted(facts):
        already = "Your data is already restricted: it is only stored, and used for legal grounds."
        return Decision(**base, outcome=Outcome.REFUSED, reasons=(already,))
    running = policy.contract_running(facts.lifecycle, as_of)
    needed = set(policy.rights_requests.running_contract.categories) if running else set()
    survivors = tuple(sorted(policy.restriction_purposes))
    items = []
    for category in sorted(facts.held):
        if category in needed:
            why = "the processing is lawful and necessary to the contract you have with us (§13)"
            items.append(Item(category, Action.REFUSE, why))
        else:
            why = "only stored, and used for legal obligations, legal claims and your own rights"
            items.append(Item(category, Action.RESTRICT, why, ("restriction",), survivors))
    if running and not any(i.action == Action.RESTRICT for i in items):
        refused = (
            "Restriction does not apply: the processing is lawful and the personal data "
            "collected is necessary to the contract you have with us (§13). You may object to "
            "prospecting or ask for erasure of what the contract does not need."
        )
        return Decision(**base, outcome=Outcome.REFUSED, items=tuple(items), reasons=(refused,))
    reasons = [
        "Processing of your data is restricted: it is only stored, and used for legal "
        "obligations, legal claims and your own rights (Art. 18)."
    ]
    if running:
        reasons.append(
            "The data your running contract needs is not restricted (§13): "
            + ", ".join(sorted(needed & set(facts.held)))
            + "."
        )
    reasons.append("Tell us when you want the restriction lifted; we will inform you first.")
    return Decision(
        **base,
        outcome=Outcome.DONE,
        items=tuple(items),
        reasons=tuple(reasons),
        restrict_all=not running,
    )


def lift_restriction(
    policy: Policy, request: RequestFacts, facts: PersonFacts, as_of: date, base: dict
) -> Decision:
    if not _restricted(facts):
        none = "Your data is not restricted: there is no restriction to lift."
        return Decision(**base, outcome=Outcome.REFUSED, reasons=(none,))
    lifted = (
        "The restriction of your data is lifted: it is processed again for the purposes of "
        "our policy."
    )
    return Decision(**base, outcome=Outcome.DONE, reasons=(lifted,))
