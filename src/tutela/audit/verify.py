"""Verifying the audit trail: recompute every hash and link, name the first event that does
not fit.

Each event stores its predecessor's hash, so spans of the chain can be checked apart from
each other, in several processes, and stitched together in order: the first event of a span
must point at the last hash of the span before it. Reading rows costs more than hashing
them, so on a long trail each core takes spans of its own.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from multiprocessing import get_context
from typing import Any, Literal

import orjson
from sqlalchemy import Connection, String, bindparam, select, type_coerce
from sqlalchemy.orm import Session

from tutela.audit.service import GENESIS, HASHED, HEAD_ID, digest, events_t, head_t, stamp
from tutela.db import make_engine, session_scope
from tutela.prepared import Prepared

__all__ = ["VerifyReport", "verify"]

SPAN = 50_000  # events per span
BATCH = 10_000  # rows read at a time within a span
PARALLEL_FROM = 200_000  # below this many events, starting processes costs more than it saves

_HEAD = Prepared(select(head_t.c.seq, head_t.c.hash).where(head_t.c.id == HEAD_ID))
_CHAIN = Prepared(  # as stored, unconverted: the time is hashed as written, as text
    select(
        events_t.c.seq,
        *(type_coerce(events_t.c[name], String) for name in ("at", *HASHED)),
        events_t.c.prev_hash,
        events_t.c.hash,
    )
    .where(events_t.c.seq >= bindparam("start"), events_t.c.seq <= bindparam("end"))
    .order_by(events_t.c.seq)
    .limit(bindparam("limit"))
)
_AFTER = Prepared(
    select(events_t.c.seq)
    .where(events_t.c.seq > bindparam("seq"))
    .order_by(events_t.c.seq)
    .limit(1)
)


@dataclass
class VerifyReport:
    checked: int
    head_seq: int
    head_hash: str
    first_bad: int | None = None
    problem: str | None = None

    @property
    def intact(self) -> bool:
        return self.problem is None

    def as_dict(self) -> dict[str, Any]:
        return {
            "intact": self.intact,
            "checked": self.checked,
            "head_seq": self.head_seq,
            "head_hash": self.head_hash,
            "first_bad_event": self.first_bad,
            "problem": self.problem,
        }


@dataclass
class _Span:
    """What one span of the chain says of itself; its link to the span before is not
    checked here."""

    start: int
    end: int
    first_link: str | None = None  # the previous hash its first event names
    last_hash: str | None = None
    bad: int | None = None
    problem: Literal["missing", "unlinked", "altered"] | None = None


def _check_span(connection: Connection, start: int, end: int) -> _Span:
    span = _Span(start, end)
    expected, prev = start, None
    while expected <= end:
        rows = _CHAIN.rows(connection, {"start": expected, "end": end, "limit": BATCH})
        for seq, at, *fields, detail, prev_hash, stored in rows:
            if seq != expected:
                span.bad, span.problem = expected, "missing"
                return span
            if prev is None:
                span.first_link = prev_hash
            elif prev_hash != prev:
                span.bad, span.problem = seq, "unlinked"
                return span
            at_text = at if isinstance(at, str) else stamp(at)  # text on SQLite only
            detail = orjson.loads(detail) if isinstance(detail, str) else detail
            if digest(prev_hash, seq, (at_text, *fields, detail)) != stored:
                span.bad, span.problem = seq, "altered"
                return span
            prev = span.last_hash = stored
            expected += 1
        if len(rows) < BATCH and expected <= end:
            span.bad, span.problem = expected, "missing"
            return span
    return span


def _check_span_apart(url: str, start: int, end: int) -> _Span:
    """`_check_span` in a worker process, on a connection of its own."""
    engine = make_engine(url, pool_size=1, max_overflow=0)
    try:
        with session_scope(engine, write=False) as session:
            return _check_span(session.connection(), start, end)
    finally:
        engine.dispose()


def _spans(session: Session, head_seq: int, workers: int) -> Iterator[_Span]:
    """Every span of 1..head_seq, checked, in order.

    With workers, they take spans from the end while this process takes them from the start
    (any span no worker has begun), so that the time workers take to start is not lost.
    """
    connection = session.connection()
    bounds = [(s, min(s + SPAN - 1, head_seq)) for s in range(1, head_seq + 1, SPAN)]
    if not workers:
        for start, end in bounds:
            yield _check_span(connection, start, end)
        return
    url = session.get_bind().url.render_as_string(hide_password=False)
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        futures = {b: pool.submit(_check_span_apart, url, *b) for b in reversed(bounds)}
        try:
            for start, end in bounds:
                future = futures[start, end]
                yield _check_span(connection, start, end) if future.cancel() else future.result()
        finally:
            for future in futures.values():
                future.cancel()


def _worker_count(session: Session, head_seq: int) -> int:
    database = session.get_bind().url.database
    if head_seq < PARALLEL_FROM or database in (None, "", ":memory:"):
        return 0
    return min((os.cpu_count() or 1) - 1, 8)  # this process checks spans too


def verify(session: Session, *, progress: Callable[[int], None] = lambda _n: None) -> VerifyReport:
    """Recompute the whole chain; stop at the first event that does not fit."""
    connection = session.connection()
    ((head_seq, head_hash),) = _HEAD.rows(connection)
    report = VerifyReport(0, head_seq, head_hash)
    prev = GENESIS
    with closing(_spans(session, head_seq, _worker_count(session, head_seq))) as spans:
        for span in spans:
            if span.bad == span.start and span.problem == "missing":
                return _missing(report, connection, span.start)
            if span.first_link != prev:
                return _unlinked(report, span.start)
            if span.problem == "missing":
                return _missing(report, connection, span.bad)
            if span.problem == "unlinked":
                return _unlinked(report, span.bad)
            if span.problem == "altered":
                return _bad(report, span.bad, f"event {span.bad} was altered")
            prev = span.last_hash
            report.checked = span.end
            progress(span.end - span.start + 1)
    after = _AFTER.first(connection, {"seq": head_seq})
    if after is not None or prev != head_hash:
        return _bad(
            report,
            after[0] if after else head_seq + 1,
            f"the trail's head is event {head_seq} and does not match its last event "
            "(events added after it, or the head altered)",
        )
    return report


def _missing(report: VerifyReport, connection: Connection, seq: int) -> VerifyReport:
    if _AFTER.first(connection, {"seq": seq}) is None:
        return _bad(
            report,
            seq,
            f"the trail ends at event {seq - 1} but its head is event {report.head_seq} "
            "(events deleted at the end, or the head altered)",
        )
    return _bad(report, seq, f"event {seq} is missing (deleted)")


def _unlinked(report: VerifyReport, seq: int) -> VerifyReport:
    return _bad(report, seq, f"event {seq} does not follow event {seq - 1} (inserted or reordered)")


def _bad(report: VerifyReport, seq: int, problem: str) -> VerifyReport:
    """The report of a chain that breaks at `seq`: the events before it check out."""
    report.checked, report.first_bad, report.problem = seq - 1, seq, problem
    return report
