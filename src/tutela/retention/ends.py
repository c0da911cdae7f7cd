"""Until when the policy's rules keep one category of one person: a pure function of the
rules and the person's dates, shared by the rights decisions and the access copy."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from tutela.policy.schema import Policy
from tutela.retention.schedule import add_months

__all__ = ["ANCHOR_WORDS", "End", "end_of"]

ANCHOR_WORDS = {  # how a period's starting date is named to people
    "first_contact_at": "the first contact",
    "last_contact_at": "the last contact made by the person",
    "subscription_started_at": "the start of the subscription",
    "subscription_ended_at": "the end of the subscription",
    "last_connection_at": "the last connection",
    "last_transaction_at": "the last transaction",
    "collected_at": "collection",
    "date_of_death": "the date of death",
}


@dataclass(frozen=True)
class End:
    """When a category goes: `until`, the day the first rule removes it (None while no
    rule's starting date is known), the rule that does, and its period in words."""

    until: date | None
    rule: str
    period: str

    def words(self) -> str:
        if self.until is not None:
            return f"until {self.until} ({self.period}, rule {self.rule})"
        return f"for {self.period} (rule {self.rule}); that date is not known yet"


def end_of(
    policy: Policy,
    *,
    category: str,
    kind: str,
    lifecycle: Mapping[str, date | None],
    latest: date | None = None,
) -> End | None:
    """The end the rules give this category of this person, or None when no rule keeps it.

    Data goes when the first of its rules comes due, each from its own anchor (a record's
    collection for `collected_at`, the latest record being the last to go). A rule whose
    anchor is not known yet (a subscription still running) removes nothing yet: the end is
    then that of a rule whose anchor is known, or unknown.
    """
    known: list[End] = []
    waiting: list[tuple[int, End]] = []
    for rule in policy.rules_for(category, kind):
        anchor = latest if rule.anchor == "collected_at" else lifecycle.get(rule.anchor)
        period = f"{rule.months} months after {ANCHOR_WORDS[rule.anchor]}"
        if anchor is None:
            waiting.append((rule.months, End(None, rule.id, period)))
        else:
            known.append(End(add_months(anchor, rule.months), rule.id, period))
    if known:
        return min(known, key=lambda end: end.until)
    return min(waiting, key=lambda pair: pair[0])[1] if waiting else None
