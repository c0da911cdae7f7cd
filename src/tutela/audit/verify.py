"""Verifying the audit trail: recompute every link under the chain keys of the key file,
name the first event that does not fit.

Each event stores its predecessor's hash, so spans of the chain can be checked apart from
each other, in several processes, and stitched together in order: the first event of a span
must point at the last hash of the span before it. Reading rows costs more than hashing
them, so on a long trail each core takes spans of its own.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from multiprocessing import get_context
from typing import Any, Literal

from orjson import OPT_SORT_KEYS, dumps, loads
from sqlalchemy import Connection, String, bindparam, select, type_coerce
from sqlalchemy.orm import Session

from tutela.audit.chain import GENESIS, mac
from tutela.audit.checkpoint import Checkpoint
from tutela.audit.service import HASHED, HEAD_ID, events_t, head_t, stamp
from tutela.db import make_engine, session_scope
from tutela.prepared import Prepared

__all__ = ["ChainKeys", "VerifyReport", "chain_rows", "link_message", "verify"]

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
        events_t.c.chain_key_id,
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
    checkpoint: Checkpoint | None = None  # the one the trail was checked against

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
            "checkpoint": {"seq": self.checkpoint.seq, "taken_at": self.checkpoint.taken_at}
            if self.checkpoint
            else None,
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
    problem: Literal["missing", "unlinked", "altered", "unkeyed"] | None = None


# Chain keys by master key id. `audit.keying` adds None: None to read links written unkeyed.
ChainKeys = Mapping[str | None, bytes | None]


def chain_rows(connection: Connection, start: int, end: int) -> Iterator[list[tuple]]:
    """Events `start`..`end` in order, a batch at a time, as stored: (seq, time, the other
    fields in `HASHED` order, previous link, link, chain key id)."""
    while start <= end:
        rows = _CHAIN.rows(connection, {"start": start, "end": end, "limit": BATCH})
        yield rows
        if len(rows) < BATCH:
            return
        start = rows[-1][0] + 1


def link_message(prev_hash: str, seq: int, at: Any, fields: list, detail: Any) -> bytes:
    """What an event's link covers, from its row as stored (the time and the detail are
    text on SQLite), as `chain.link` was given it."""
    at = at if type(at) is str else stamp(at)
    detail = loads(detail) if type(detail) is str else detail
    return prev_hash.encode() + dumps([seq, at, *fields, detail], option=OPT_SORT_KEYS)


def _check_span(connection: Connection, start: int, end: int, keys: ChainKeys) -> _Span:
    span = _Span(start, end)
    macs = {key_id: mac(key) for key_id, key in keys.items()}
    expected, prev = start, None
    for batch in chain_rows(connection, start, end):
        for seq, at, *fields, detail, prev_hash, stored, key_id in batch:
            if seq != expected:
                span.bad, span.problem = expected, "missing"
                return span
            if prev is None:
                span.first_link = prev_hash
            elif prev_hash != prev:
                span.bad, span.problem = seq, "unlinked"
                return span
            digest = macs.get(key_id)
            if digest is None:
                span.bad, span.problem = seq, "unkeyed"
                return span
            if digest(link_message(prev_hash, seq, at, fields, detail)) != stored:
                span.bad, span.problem = seq, "altered"
                return span
            prev = span.last_hash = stored
            expected += 1
    if expected <= end:
        span.bad, span.problem = expected, "missing"
    return span


def _check_span_apart(url: str, start: int, end: int, keys: ChainKeys) -> _Span:
    """`_check_span` in a worker process, on a connection of its own (the keys go through
    the pipe that starts it, never to disk)."""
    engine = make_engine(url, pool_size=1, max_overflow=0)
    try:
        with session_scope(engine, write=False) as session:
            return _check_span(session.connection(), start, end, keys)
    finally:
        engine.dispose()


def _spans(session: Session, head_seq: int, keys: ChainKeys, workers: int) -> Iterator[_Span]:
    """Every span of 1..head_seq, checked, in order.

    With workers, they take spans from the end while this process takes them from the start
    (any span no worker has begun), so that the time workers take to start is not lost.
    """
    connection = session.connection()
    bounds = [(s, min(s + SPAN - 1, head_seq)) for s in range(1, head_seq + 1, SPAN)]
    if not workers:
        for start, end in bounds:
            yield _check_span(connection, start, end, keys)
        return
    url = session.get_bind().url.render_as_string(hide_password=False)
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        futures = {b: pool.submit(_check_span_apart, url, *b, keys) for b in reversed(bounds)}
        try:
            for start, end in bounds:
                future = futures[start, end]
                if future.cancel():
                    yield _check_span(connection, start, end, keys)
                else:
                    yield future.result()
        finally:
            for future in futures.values():
                future.cancel()


def _worker_count(session: Session, head_seq: int) -> int:
    database = session.get_bind().url.database
    if head_seq < PARALLEL_FROM or database in (None, "", ":memory:"):
        return 0
    return min((os.cpu_count() or 1) - 1, 8)  # this process checks spans too


def verify(
    session: Session,
    *,
    keys: ChainKeys,
    checkpoint: Checkpoint | None = None,
    progress: Callable[[int], None] = lambda _n: None,
) -> VerifyReport:
    """Recompute the whole chain under `keys` (`KeySet.chain_keys`); stop at the first
    event that does not fit. With a checkpoint, the trail must also still extend it."""
    connection = session.connection()
    head = _HEAD.first(connection)
    if head is None:
        first = _AFTER.first(connection, {"seq": 0})
        return _bad(
            VerifyReport(0, 0, GENESIS),
            first[0] if first else 1,
            "the trail's head row is missing (deleted): the trail cannot be trusted",
        )
    head_seq, head_hash = head
    report = VerifyReport(0, head_seq, head_hash, checkpoint=checkpoint)
    prev = GENESIS
    workers = _worker_count(session, head_seq)
    with closing(_spans(session, head_seq, keys, workers)) as spans:
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
            if span.problem == "unkeyed":
                return _bad(
                    report,
                    span.bad,
                    f"event {span.bad} is not chained under any key of this store's key file "
                    "(written without the key, or the key file is not this store's)",
                )
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
    problem = checkpoint.problem(connection, keys) if checkpoint else None
    if problem:
        return _bad(report, min(checkpoint.seq, head_seq + 1), problem)
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
