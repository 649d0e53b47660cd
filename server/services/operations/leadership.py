"""Use case: which server process runs the periodic jobs (freeze, purge, absence and
reader watches, deliveries...). Several ``serve`` workers may run side by side; a lease
row in the registry (holder, expires_at), taken atomically, names the one that runs them.
Its holder renews it well before it expires; another worker takes it over once it has
expired (a dead or stalled holder). Never decided in one process's memory alone: a
process only believes it leads until the expiry it wrote itself."""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from datetime import datetime, timedelta

from server.ports.operations import JobLeases

log = logging.getLogger(__name__)

JOBS = "periodic-jobs"
TTL = timedelta(seconds=30)


def process_id() -> str:
    """This process, as written in a lease: host, pid and a random part (pids repeat)."""
    return f"{socket.gethostname()[:100]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Leadership:
    def __init__(
        self,
        leases: JobLeases,
        *,
        name: str = JOBS,
        holder: str | None = None,
        ttl: timedelta = TTL,
    ) -> None:
        self.leases = leases
        self.name = name
        self.holder = holder or process_id()
        self.ttl = ttl
        self._expires_at: datetime | None = None
        self._lock = threading.Lock()

    def renew(self, now: datetime) -> bool:
        """Take or extend the lease at ``now``; True if this process holds it."""
        with self._lock:
            held = self._take(now)
            was = self._expires_at is not None
            self._expires_at = now + self.ttl if held else None
        if held and not was:
            log.info("this process (%s) now runs the periodic jobs", self.holder)
        elif was and not held:
            log.warning("this process (%s) no longer runs the periodic jobs", self.holder)
        return held

    def leads(self, now: datetime) -> bool:
        """Does this process run the jobs at ``now``? Renews the lease once half of it
        has run out (so a job turn never needs a registry round trip otherwise)."""
        with self._lock:
            expires = self._expires_at
        if expires is not None and now < expires - self.ttl / 2:
            return True
        return self.renew(now)

    def release(self) -> None:
        """Give the lease up (a clean shutdown): another process takes it at once."""
        with self._lock:
            held, self._expires_at = self._expires_at is not None, None
        if not held:
            return
        self.leases.release(self.name, self.holder)

    def _take(self, now: datetime) -> bool:
        return self.leases.take(self.name, self.holder, now, self.ttl)
