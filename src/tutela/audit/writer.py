"""Group commit for audit events recorded apart: one transaction for the events of many
concurrent requests, each request still waiting until its own events are committed.

Under load, committing one small transaction per read costs more than everything else the
read does; batching keeps "audited before disclosed" and pays one commit per batch.
"""

from __future__ import annotations

import queue
import threading
import weakref
from collections.abc import Sequence
from concurrent.futures import Future
from datetime import datetime

from sqlalchemy import Engine

from tutela.db import holds_writer_lock, make_engine, session_scope

__all__ = ["append"]

IDLE_SECONDS = 2.0  # a writer thread with nothing to do for this long goes away
MAX_BATCH = 256

Entry = tuple[Sequence, datetime, str, Future]


class _Writer:
    def __init__(self, engine: Engine) -> None:
        self.key = engine
        # A connection of its own: requests waiting for their events hold pooled connections,
        # and a writer drawing from the same pool could wait for them forever.
        url = engine.url.render_as_string(hide_password=False)
        self.engine = make_engine(url, pool_size=1, max_overflow=0)
        self.queue: queue.SimpleQueue[Entry] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._run, name="tutela-audit", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        from tutela.audit.service import record  # the one way to write the trail

        while True:
            try:
                batch = [self.queue.get(timeout=IDLE_SECONDS)]
            except queue.Empty:
                with _lock:
                    if self.queue.empty():
                        _writers.pop(self.key, None)
                        self.engine.dispose()
                        return
                continue
            while len(batch) < MAX_BATCH:
                try:
                    batch.append(self.queue.get_nowait())
                except queue.Empty:
                    break
            try:
                with session_scope(self.engine) as session:
                    results = [
                        record(session, events, at=at, policy_version=version)
                        for events, at, version, _ in batch
                    ]
            except BaseException as exc:  # every waiter learns that its events are not stored
                for *_, future in batch:
                    future.set_exception(exc)
            else:
                for (*_, future), seq in zip(batch, results, strict=True):
                    future.set_result(seq)


_writers: weakref.WeakKeyDictionary[Engine, _Writer] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def append(engine: Engine, events: Sequence, *, at: datetime, policy_version: str) -> int:
    """Queue events for the engine's writer thread; return once they are committed.

    A thread already inside a write transaction commits them itself, in a nested one: the
    writer thread would wait for that thread's lock, and that thread for the writer thread.
    """
    if holds_writer_lock(engine):
        from tutela.audit.service import record

        with session_scope(engine) as session:
            return record(session, events, at=at, policy_version=policy_version)
    future: Future = Future()
    with _lock:
        writer = _writers.get(engine)
        if writer is None:
            writer = _writers[engine] = _Writer(engine)
        writer.queue.put((events, at, policy_version, future))
    return future.result()
