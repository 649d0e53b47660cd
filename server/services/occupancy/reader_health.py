"""Use case: the health of every reader now, and whether a door could be trusted during
a period (the absence watcher holds absences noticed while the door was down)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from server.adapters.event_store import STATUS_LOOKBACK, EventStore
from server.domain.reader_health import ReaderHealth, health_at, reliable_throughout

# How far back to look for the status in force at the start of a period.
LOOKBACK = STATUS_LOOKBACK


class ReaderHealthService:
    def __init__(self, store: EventStore) -> None:
        self._store = store

    def current(
        self, now: datetime, *, known: Iterable[tuple[str, str]] = (), campus: str | None = None
    ) -> list[ReaderHealth]:
        """Every reader that sent a status, plus the ``known`` ones that never did."""
        latest = {
            (item.campus, item.reader): item for item in self._store.latest_statuses(campus=campus)
        }
        readers = set(latest) | {pair for pair in known if campus in (None, pair[0])}
        return [health_at(c, r, latest.get((c, r)), now) for c, r in sorted(readers)]

    def reliable_throughout(self, campus: str, reader: str, start: datetime, end: datetime) -> bool:
        """Judged on the stored status history of the period (what the reader said of
        itself then), not on what happened to be received live: a replay after an outage
        (``check-absences --at``) judges the doors as they were."""
        statuses = self._store.stamped_statuses(
            start - LOOKBACK, end + timedelta(microseconds=1), campus=campus, reader=reader
        )
        return reliable_throughout(statuses, start, end, stamped=True)
