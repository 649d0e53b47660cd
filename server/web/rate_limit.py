"""Failed logins per client address in a sliding window, in memory (one process serves
a campus). The per-account lock-out lives in the registry; this one stops a client
trying many logins."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta


class FailureWindow:
    def __init__(self, *, limit: int, window: timedelta, clock: Callable[[], datetime]) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._failures: dict[str, deque[datetime]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: datetime) -> deque[datetime]:
        failures = self._failures.setdefault(key, deque())
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        return failures

    def blocked_until(self, key: str) -> datetime | None:
        now = self.clock()
        with self._lock:
            failures = self._recent(key, now)
            if len(failures) >= self.limit:
                return failures[0] + self.window
            if not failures:
                self._failures.pop(key, None)
            return None

    def failed(self, key: str) -> None:
        now = self.clock()
        with self._lock:
            self._recent(key, now).append(now)
