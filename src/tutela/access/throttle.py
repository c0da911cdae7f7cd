"""Slow down key guessing: a client with too many failed authentications is refused for a while.

In memory, per process: enough to make guessing a 256-bit key pointless and to keep a
misconfigured client from hammering the database; a shared limiter belongs in front of a
multi-process deployment.
"""

from __future__ import annotations

import threading
import time
from collections import deque

__all__ = ["FailureThrottle"]


class FailureThrottle:
    def __init__(self, *, limit: int = 10, window: float = 60.0) -> None:
        self.limit = limit
        self.window = window
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, client: str, now: float) -> deque[float]:
        failures = self._failures.setdefault(client, deque())
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        return failures

    def retry_after(self, client: str) -> int:
        """Seconds the client must wait, or 0 when it may try."""
        now = time.monotonic()
        with self._lock:
            failures = self._recent(client, now)
            if len(failures) < self.limit:
                return 0
            return max(1, int(failures[0] + self.window - now) + 1)

    def failed(self, client: str) -> None:
        now = time.monotonic()
        with self._lock:
            self._recent(client, now).append(now)
            if len(self._failures) > 10_000:  # forget quiet clients rather than grow forever
                for key in [k for k, v in self._failures.items() if not v][:5_000]:
                    del self._failures[key]
