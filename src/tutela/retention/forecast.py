"""How many retention actions fall due in each month ahead, by rule and action.

The same steps and the same due test as the plan (`service.due_rows`), counted in the
database by the anchor's month rather than listed row by row: a step's due date is its
anchor plus whole months, so its month is the anchor's month shifted by as many. The CLI's
`retention forecast` and the console's chart read this one function.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import extract, func, select
from sqlalchemy.orm import Session

from tutela.policy.schema import Policy
from tutela.retention.schedule import add_months
from tutela.retention.service import due_rows, steps

__all__ = ["ACTIONS", "Forecast", "forecast"]

ACTIONS = ("archive", "delete", "anonymise")


@dataclass(frozen=True)
class Forecast:
    """Counts of (person, category) actions by month, rule and action. Steps already due
    before the first month count in the first; months run to the last one's last day."""

    months: tuple[str, ...]  # "YYYY-MM", the first being the month of the start day
    rules: tuple[str, ...]  # the policy's retention rules, in its order
    counts: Counter  # (month, rule, action) -> number of (person, category) actions

    def by_action(self) -> list[dict]:
        """A row a month: how many archivings, deletions and anonymisations."""
        return [
            {"month": m, **{a: sum(self.counts[(m, r, a)] for r in self.rules) for a in ACTIONS}}
            for m in self.months
        ]

    def by_rule(self) -> dict[str, list[int]]:
        """For each rule, its actions month by month (what the console's chart draws)."""
        return {
            r: [sum(self.counts[(m, r, a)] for a in ACTIONS) for m in self.months]
            for r in self.rules
        }


def forecast(*, session: Session, policy: Policy, start: date, months: int) -> Forecast:
    first = start.replace(day=1)
    horizon = add_months(first, months) - timedelta(days=1)
    names = tuple(add_months(first, i).strftime("%Y-%m") for i in range(months))
    counts: Counter = Counter()
    for step in steps(policy):
        for query in due_rows(step, horizon):
            due = query.subquery()
            anchor = list(due.c)[3]
            year, month = extract("year", anchor), extract("month", anchor)
            grouped = select(year, month, func.count()).group_by(year, month)
            for y, m, n in session.execute(grouped.select_from(due)):
                when = max(add_months(date(int(y), int(m), 1), step.months), first)
                counts[(when.strftime("%Y-%m"), step.rule.id, step.action)] += n
    return Forecast(names, tuple(r.id for r in policy.retention), counts)
