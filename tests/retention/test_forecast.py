"""The retention forecast: what falls due month by month, by rule, counted in the database
exactly as the plan lists it."""

import json
from collections import Counter
from datetime import date

from test_retention import person, store

from tutela.db import session_scope
from tutela.retention.forecast import forecast
from tutela.retention.service import plan

START = date(2026, 6, 15)  # months 2026-06 .. 2027-05, the last counted to 31 May


def _population(env):
    contacts = {
        "overdue": "2023-01-15",  # due 2026-01-15: counted in the first month
        "september": "2023-09-30",  # due 2026-09-30
        "last-day": "2024-05-31",  # due 2027-05-31: the last month's last day
        "too-late": "2024-06-01",  # due 2027-06-01: past the horizon
    }
    records = [person(f"p-{k}", "prospect", last_contact_at=v) for k, v in contacts.items()]
    records[1]["connections"] = [{"at": "2025-08-20T09:00:00Z", "ip": "198.51.100.7"}]
    store(env, *records)


def test_the_forecast_counts_each_rule_month_by_month(env, cli):
    _population(env)
    with session_scope(env.ctx.engine, write=False) as session:
        ahead = forecast(session=session, policy=env.ctx.policy, start=START, months=12)
        listed = plan(session=session, policy=env.ctx.policy, as_of=date(2027, 5, 31))
    assert ahead.months[0] == "2026-06" and ahead.months[-1] == "2027-05"
    by_rule = ahead.by_rule()
    assert by_rule["prospect_data"] == [1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1]
    assert by_rule["technical_data"] == [0, 0, 1] + [0] * 9  # 2025-08-20 + 12 months
    assert set(by_rule) == {r.id for r in env.ctx.policy.retention}
    # The same actions as the plan lists one by one, month by month.
    months = {m: i for i, m in enumerate(ahead.months)}
    expected = Counter(
        (ahead.months[months.get(d.due.strftime("%Y-%m"), 0)], d.rule, d.action) for d in listed
    )
    assert +ahead.counts == expected
    shown = json.loads(cli("retention", "forecast", "--from", "2026-06-15", "--json").stdout)
    assert [r["anonymise"] for r in shown] == by_rule["prospect_data"]
    assert [r["delete"] for r in shown] == by_rule["technical_data"]
