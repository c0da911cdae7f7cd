"""The dashboard's retention forecast: the next 12 months, by rule, as an SVG chart drawn by
pygal and as a table for those who do not see it.

Counting a store of 100,000 people takes a few hundred milliseconds, so each process keeps
the last count for `TUTELA_FORECAST_CACHE_SECONDS` (the page says when it was counted): a
twelve-month forecast a few minutes old says the same thing."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, datetime
from threading import Lock

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
    """The last forecast counted by this process, per policy version and start day."""

    def __init__(self, seconds: int) -> None:
        self._seconds = seconds
        self._lock = Lock()
        self._kept: dict[tuple[str, date], tuple[float, Counted]] = {}

    def get(self, ctx: Context, at: datetime) -> Counted:
        key = (ctx.policy.version, at.date())
        with self._lock:
            kept = self._kept.get(key)
        if kept is not None and time.monotonic() - kept[0] < self._seconds:
            return kept[1]
        with session_scope(ctx.engine, write=False) as session:
            ahead = forecast(session=session, policy=ctx.policy, start=at.date(), months=MONTHS)
        counted = Counted(ahead, at)
        with self._lock:
            self._kept = {key: (time.monotonic(), counted)}  # older days and versions go
        return counted


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
