"""Capacity incidents announced to integrations on ``events/alerts``.

The occupancy service calls its notifier on every level change; this one keeps the
warning line in the log and publishes the ``capacity`` alert event of
``docs/protocol.md`` when the hard limit is reached, with one id per incident, the same
when it is raised and resolved. No personal data: counts and room ids. (Reader incidents
are stored alerts: ``reader_alerts``.)
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from datetime import datetime

from edge.protocol import events_topic, format_timestamp
from server.domain.capacity import CapacityChanged, CapacityLevel
from server.services.occupancy import LoggingCapacityNotifier

Publish = Callable[[str, bytes], None]


class CapacityEvents:
    def __init__(self, publish: Publish) -> None:
        self._publish = publish
        self._open: dict[tuple[str, str, str | None], str] = {}
        self._lock = threading.Lock()
        self._capacity_log = LoggingCapacityNotifier()

    def capacity_changed(self, event: CapacityChanged) -> None:
        self._capacity_log.capacity_changed(event)
        full = event.level is CapacityLevel.FULL
        if full == (event.previous is CapacityLevel.FULL):
            return  # the coordinator is alerted at the hard limit only, once
        fields = {"room": event.room, "count": event.count, "capacity": event.limit}
        self._announce("capacity", event.campus, event.room, event.at, resolved=not full, **fields)

    def _announce(
        self, kind: str, campus: str, subject: str | None, at: datetime, *, resolved: bool, **fields
    ) -> None:
        key = (kind, campus, subject)
        with self._lock:
            incident = (
                self._open.pop(key, None) if resolved else self._open.setdefault(key, _id(key, at))
            )
        if incident is None:
            return  # resolved before this process saw it raised: nothing to close
        body = {
            "v": 1,
            "kind": kind,
            "id": incident,
            "ts": format_timestamp(at),
            "campus": campus,
            "state": "resolved" if resolved else "raised",
            **fields,
        }
        self._publish(events_topic(campus, "alerts"), json.dumps(body).encode())


def _id(key: tuple[str, str, str | None], at: datetime) -> str:
    digest = hashlib.sha256(f"{key}|{at.isoformat()}".encode()).hexdigest()[:24]
    return f"{key[0].replace('_', '-')}-{digest}"
