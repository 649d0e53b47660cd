"""Duplicates and conflicts of taps in InfluxDB, which has no unique key.

:class:`~server.adapters.influx_events.InfluxEventStore` keeps a :class:`TapIndex` of the
``index_size`` most recent tap ids (with a fingerprint of their content), warmed by
``setup()`` from the last 48 h. A known id with the same content is a ``DUPLICATE`` and
is not rewritten; with other content it is a ``CONFLICT`` and is not written. Limits:
a conflict with a tap older than the index, or written by another worker process, is not
detected: that tap is stored beside the original (or replaces it if it has the same
campus, reader, ms and seq). An exact redelivery is always harmless: it rewrites the
identical point. Two different taps of one reader in one ms with seqs 1,000,000 apart
would also share a point; readers' seqs do not jump like that.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from server.adapters.event_times import to_ms
from server.domain.events import StoredTap


class TapIndex:
    """The ``size`` most recently written tap ids with a fingerprint of their content."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[str, int] = OrderedDict()

    def get(self, tap_id: str) -> int | None:
        return self._items.get(tap_id)

    def put(self, tap_id: str, fingerprint: int) -> None:
        self._items[tap_id] = fingerprint
        if len(self._items) > self.size:
            self._items.popitem(last=False)


def tap_fingerprint(tap: StoredTap, *, ts_ms: int | None = None) -> int:
    """``ts_ms``: ``to_ms(tap.ts)`` when the caller has it already."""
    if ts_ms is None:
        ts_ms = to_ms(tap.ts)
    return hash((tap.campus, tap.reader, tap.badge, ts_ms, tap.seq, tap.clock_synced))


def row_fingerprint(row: dict[str, Any]) -> int:
    """The :func:`tap_fingerprint` of a tap read back from ``taps`` (``time`` is in ns)."""
    content = (
        row["campus"],
        row["reader"],
        row["badge"],
        row["time"] // 1_000_000,
        row["seq"],
        row["clock_synced"],
    )
    return hash(content)
