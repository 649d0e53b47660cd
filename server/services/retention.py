"""Retention: events older than the configured period are deleted.

InfluxDB does it itself (retention policy or bucket retention, set up by the adapter);
the SQLite store needs this job. It runs at start and then every ``every``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from server.adapters.event_store import EventStore, EventStoreError

log = logging.getLogger(__name__)


def purge_expired(store: EventStore, now: datetime, retention: timedelta) -> int:
    deleted = store.purge(now - retention)
    if deleted:
        log.info("retention: deleted %d events older than %d days", deleted, retention.days)
    return deleted


class RetentionJob:
    def __init__(
        self,
        store: EventStore,
        retention: timedelta,
        *,
        clock: Callable[[], datetime],
        every: timedelta = timedelta(hours=1),
    ) -> None:
        self._store = store
        self._retention = retention
        self._clock = clock
        self._every = every
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="retention", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                purge_expired(self._store, self._clock(), self._retention)
            except EventStoreError as error:
                log.warning("retention purge failed, will retry: %s", error)
            if self._stop.wait(self._every.total_seconds()):
                return

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
