"""The processes that validate and encrypt an import while the main one writes.

Workers are spawned with the policy's rules once; each task gets its chunk and arguments
(a keyring among them) with it. Results come back in file order.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from tutela.subjects.import_files import Item
from tutela.subjects.validation import RecordRules

__all__ = ["Workers", "worker_count", "workers"]

PARALLEL_FROM_BYTES = 4 * 1024 * 1024  # below this, starting workers costs more than it saves


_worker_rules: RecordRules | None = None


def _init_worker(rules: RecordRules) -> None:
    global _worker_rules
    _worker_rules = rules


def _in_worker(task: Callable, chunk: list[tuple[int, Item]], *args: Any) -> Any:
    assert _worker_rules is not None
    return task(chunk, _worker_rules, *args)


def worker_count(path: Path, requested: int | None) -> int:
    if requested is not None:
        return requested
    if path.stat().st_size < PARALLEL_FROM_BYTES:
        return 0
    return max(1, min((os.cpu_count() or 1) - 1, 4))  # this process prepares chunks too


class Workers:
    """`workers` processes (or none) that run a task over chunks of the file, while this
    process writes; the results come back in file order."""

    def __init__(self, rules: RecordRules, workers: int) -> None:
        self.rules = rules
        self.count = workers
        self.pool = (
            ProcessPoolExecutor(
                max_workers=workers,
                mp_context=get_context("spawn"),
                initializer=_init_worker,
                initargs=(rules,),
            )
            if workers
            else None
        )

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)

    def ordered(
        self, chunks: Iterator[list[tuple[int, Item]]], task: Callable, *args: Any
    ) -> Iterator[tuple[list[tuple[int, Item]], Any]]:
        """(chunk, task(chunk, rules, *args)) in file order, run here or by the workers.

        Workers always have two chunks queued each, refilled before this process writes;
        while the oldest is not ready, this process runs the task on the next chunk itself.
        Arguments are sent with each chunk, so a keyring that moved to a new master key
        (a rotation) reaches the workers with the next chunk.
        """
        workers, pool = self.count, self.pool
        if pool is None:
            for chunk in chunks:
                yield chunk, task(chunk, self.rules, *args)
            return
        pending: deque[tuple[list, Any]] = deque()  # in file order: futures or results
        queued = 0  # chunks sent to workers and not yet taken back

        def refill() -> bool:
            nonlocal queued
            while queued < 2 * workers:
                chunk = next(chunks, None)
                if chunk is None:
                    return False
                pending.append((chunk, pool.submit(_in_worker, task, chunk, *args)))
                queued += 1
            return True

        try:
            more = refill()
            while pending:
                chunk, entry = pending[0]
                if (
                    isinstance(entry, Future)
                    and not entry.done()
                    and more
                    and len(pending) < 8 * workers
                ):
                    # The oldest chunk is not ready: run the next one here rather than wait.
                    stolen = next(chunks, None)
                    if stolen is not None:
                        pending.append((stolen, task(stolen, self.rules, *args)))
                        continue
                    more = False
                pending.popleft()
                if isinstance(entry, Future):
                    queued -= 1
                    entry = entry.result()
                more = refill() and more
                yield chunk, entry
        finally:
            for _chunk, entry in pending:  # an import that stops leaves no work behind
                if isinstance(entry, Future):
                    entry.cancel()


@contextmanager
def workers(rules: RecordRules, count: int) -> Iterator[Workers]:
    pool = Workers(rules, count)
    try:
        yield pool
    finally:
        pool.close()
