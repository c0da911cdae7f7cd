"""When each processing activity was created and last updated, from the store's versions:
created with the first version that had its purpose, updated with the last that changed
what the register says of it."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine

from tutela.db import session_scope
from tutela.policy.loader import parse_stored
from tutela.register import versions
from tutela.register.activities import register

__all__ = ["activity_dates"]


def activity_dates(engine: Engine) -> dict[str, tuple[date, date]]:
    """Purpose id -> (created, updated), for the purposes of the stored versions (none in a
    store that holds no version, or no store yet)."""
    dates: dict[str, tuple[date, date]] = {}
    before: dict[str, dict] = {}
    if versions.latest_seq(engine) is None:
        return dates
    with session_scope(engine, write=False) as session:
        stored = [(row.text, row.activated_at) for row in versions.history(session)]
    for text, activated_at in stored:
        policy = parse_stored(text)
        day = activated_at.date()
        now = {
            a["reference"]: {k: v for k, v in a.items() if k not in ("created", "updated")}
            for a in register(policy, "en")["activities"]
        }
        for purpose, activity in now.items():
            if purpose not in before:
                dates[purpose] = (day, day)
            elif before[purpose] != activity:
                dates[purpose] = (dates[purpose][0], day)
        before = now
    return dates
