"""What a decision on a rights request is made of, and from: plain frozen values.

`decide` (in `requests.decide`) turns a request and the facts about the person into a
`Decision` under the policy, as of a day. The facts are gathered by `requests.facts`; the
decision is carried out by `requests.flows`. A decision holds no personal value but the
corrections a rectification makes, which are never stored with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from tutela.access.gate import SubjectFacts
from tutela.subjects.held import Held

__all__ = [
    "Action",
    "Decision",
    "Held",
    "Hold",
    "Item",
    "Outcome",
    "PersonFacts",
    "RequestFacts",
]


class Action(StrEnum):
    """What happens to one category of the person's data."""

    GIVE = "give"  # a copy is given (access, portability)
    ERASE = "erase"
    KEEP = "keep"  # kept despite an erasure request, for its grounds only, until its end
    RESTRICT = "restrict"  # serves fewer purposes from now on (restriction, objection)
    RECTIFY = "rectify"
    REFUSE = "refuse"  # the right does not reach it, and the item says why


class Outcome(StrEnum):
    DONE = "done"
    REFUSED = "refused"
    NOTHING_HELD = "nothing_held"
    NOT_AUTOMATED = "not_automated"  # the DPO answers by hand


@dataclass(frozen=True)
class Hold:
    """An active legal hold: its case reference, purpose and the categories it covers."""

    reference: str
    purpose: str
    categories: frozenset[str]


@dataclass(frozen=True)
class PersonFacts:
    """Everything a decision needs to know of the person, gathered before deciding."""

    external_id: str
    subject: SubjectFacts  # kind, consents, objections, limits, lifecycle dates
    held: Mapping[str, Held]
    holds: tuple[Hold, ...] = ()
    directive: str | None = None  # the post-mortem directive on record (§16)
    # The values a rectification would replace, by "category.field": compared, never kept.
    current: Mapping[str, object] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return self.subject.kind

    @property
    def lifecycle(self) -> Mapping[str, date | None]:
        return self.subject.lifecycle


@dataclass(frozen=True)
class RequestFacts:
    id: str
    type: str
    # What the request asks beyond its type: a rectification's values, a directive, the
    # scopes of an objection.
    particulars: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Item:
    """The decision on one category: its action, why, and for what is kept or restricted,
    its grounds, the purposes it still serves, the day it goes and the rule that says so."""

    category: str
    action: Action
    reason: str
    grounds: tuple[str, ...] = ()
    purposes: tuple[str, ...] = ()
    until: date | None = None
    rule: str | None = None
    fields: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "action": self.action.value,
            "reason": self.reason,
            "grounds": list(self.grounds),
            "purposes": list(self.purposes),
            "until": self.until.isoformat() if self.until else None,
            "rule": self.rule,
            "fields": list(self.fields),
        }


@dataclass(frozen=True)
class Decision:
    request_id: str
    type: str
    outcome: Outcome
    as_of: date
    policy_version: str
    items: tuple[Item, ...] = ()
    reasons: tuple[str, ...] = ()
    # What carrying the decision out takes beyond its items.
    corrections: Mapping[str, object] = field(default_factory=dict)  # "category.field" -> value
    objections: tuple[str, ...] = ()  # scopes to record
    withdrawals: tuple[str, ...] = ()  # purposes whose consent is withdrawn
    suppress: bool = False  # put the person's blind indexes on the suppression list
    directive: Mapping[str, Any] | None = None  # post-mortem: record, replace or revoke
    restrict_all: bool = False  # a restriction of every category, present and to come

    def of(self, action: Action) -> list[Item]:
        return [item for item in self.items if item.action == action]

    def as_dict(self) -> dict[str, Any]:
        """The decision as it is kept and shown: no personal value."""
        return {
            "request_id": self.request_id,
            "type": self.type,
            "outcome": self.outcome.value,
            "as_of": self.as_of.isoformat(),
            "policy_version": self.policy_version,
            "items": [item.as_dict() for item in self.items],
            "reasons": list(self.reasons),
        }
