"""The dashboard's retention forecast: the next 12 months, by rule, as an SVG chart drawn by
pygal and as a table for those who do not see it.

Counting a store of 100,000 people takes a few hundred milliseconds, so each process keeps
the last count for `TUTELA_FORECAST_CACHE_SECONDS` (the page says when it was counted): a
twelve-month forecast a few minutes old says the same thing. Once that time is up, or the
day has changed, the next page still shows the last count while a thread counts again; only
the first page of a policy version waits for its count (`tutela serve` counts before the
first page is asked for)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, datetime
from threading import Lock, Thread

import pygal
from pygal.style import DefaultStyle

from tutela.context import Context
from tutela.db import session_scope
from tutela.retention.forecast import Forecast, forecast
from tutela.web.i18n import gettext

__all__ = ["MONTHS", "Counted", "ForecastCache", "svg"]

MONTHS = 12  # the dashboard looks a year ahead


@dataclass(frozen=True)
class Counted:
    forecast: Forecast
    at: datetime  # when it was counted


class ForecastCache:
    """The last forecast counted by this process, for the policy version in force."""

    def __init__(self, seconds: int) -> None:
        self._seconds = seconds
        self._lock = Lock()
        self._kept: tuple[tuple[str, date], float, Counted] | None = None
        self._recounting = False

    def get(self, ctx: Context, at: datetime) -> Counted:
        key = (ctx.policy.version, at.date())
        with self._lock:
            kept = self._kept if self._kept and self._kept[0][0] == key[0] else None
            stale = kept is not None and (
                kept[0] != key or time.monotonic() - kept[1] >= self._seconds
            )
            recount = stale and not self._recounting
            self._recounting |= recount
        if kept is None or self._seconds == 0:
            return self._count(ctx, key, at)
        if recount:
            Thread(target=self._recount, args=(ctx, key, at), daemon=True).start()
        return kept[2]

    def warm(self, ctx: Context, at: datetime) -> None:
        """Count in a thread now, so that the first page need not wait (a server starting)."""
        with self._lock:
            if self._kept is not None or self._recounting:
                return
            self._recounting = True
        Thread(
            target=self._recount, args=(ctx, (ctx.policy.version, at.date()), at), daemon=True
        ).start()

    def _count(self, ctx: Context, key: tuple[str, date], at: datetime) -> Counted:
        with session_scope(ctx.engine, write=False) as session:
            ahead = forecast(session=session, policy=ctx.policy, start=key[1], months=MONTHS)
        counted = Counted(ahead, at)
        with self._lock:
            self._kept = (key, time.monotonic(), counted)  # another day's or version's goes
        return counted

    def _recount(self, ctx: Context, key: tuple[str, date], at: datetime) -> None:
        try:
            self._count(ctx, key, at)
        finally:
            with self._lock:
                self._recounting = False


def svg(ahead: Forecast, lang: str) -> bytes:
    """A stacked bar a month, a colour a rule; no script of its own is needed to read it."""
    chart = pygal.StackedBar(
        js=[],  # pygal's tooltips come from another host: none is loaded
        style=DefaultStyle,
        width=900,
        height=500,
        legend_at_bottom=True,
        legend_at_bottom_columns=2,
        truncate_legend=-1,
        margin_bottom=36,  # room for the legend's last line
        x_title=gettext(lang, "Month"),
        y_title=gettext(lang, "Actions due"),
        title=gettext(lang, "Retention forecast, by rule"),
    )
    first, *rest = ahead.months
    chart.x_labels = [f"≤ {first}", *rest]  # the first month holds what is already due
    for rule, values in ahead.by_rule().items():
        chart.add(rule, values)
    return chart.render()
