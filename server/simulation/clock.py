"""The demo's clock: simulated time running ``speed`` times faster than the wall clock
from ``origin`` (08:30 this morning), shared by the server and the simulated door so a
newcomer watches a whole morning in a few minutes, absences and all."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta


class SimulatedClock:
    def __init__(self, origin: datetime, *, speed: float) -> None:
        if origin.tzinfo is None:
            raise ValueError("the origin must be an aware datetime")
        self.origin = origin.astimezone(UTC)
        self.speed = speed
        self._anchor: float | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Time starts flowing now (before, it stands at ``origin``)."""
        with self._lock:
            if self._anchor is None:
                self._anchor = time.monotonic()

    def __call__(self) -> datetime:
        with self._lock:
            anchor = self._anchor
        if anchor is None:
            return self.origin
        return self.origin + timedelta(seconds=(time.monotonic() - anchor) * self.speed)
