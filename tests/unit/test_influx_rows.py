"""Rows read from InfluxDB while a point is being written may lack some of its fields
(each field is stored apart): they are left out, never turned into a crash. And the
line protocol written: tag and string values escaped as it needs."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from server.adapters.event_store import EventStoreError
from server.adapters.event_times import to_ms
from server.adapters.influx_lines import (
    _string,
    _tag,
    status_rows_complete,
    tap_line,
    tap_rows_complete,
    tap_rows_of,
)
from server.adapters.influx_tap_index import tap_fingerprint
from server.domain.events import StoredTap

TAP = {
    "time": 1_764_000_000_000_000_000,
    "campus": "c1",
    "reader": "door-1",
    "tap_id": "t1",
    "badge": "b" * 64,
    "seq": 1,
    "received_ms": 1_764_000_000_100,
    "clock_synced": True,
}


def test_a_tap_row_missing_a_field_is_left_out() -> None:
    partial = {**TAP, "tap_id": "t2", "received_ms": None}
    assert tap_rows_complete([TAP, partial]) == [TAP]


def test_a_status_row_needs_its_required_fields_only() -> None:
    status = {
        "campus": "c1",
        "reader": "door-1",
        "state": "online",
        "ts_ms": 1,
        "queued": 0,
        "detail": "",
        "clock_synced": True,
        "heartbeat": 60,
        "oldest_ms": None,  # optional
    }
    assert status_rows_complete([status, {**status, "queued": None}]) == [status]


def test_a_tap_row_read_for_the_ledger_missing_its_badge_is_left_out() -> None:
    """The ledger's rows (``tap_rows_of``): a row whose badge is not there yet is left
    out; the columns are found by name, others are not read."""
    ns = 1_764_000_000_123_000_007  # the ms, plus seq 7 in ns
    series = {
        "name": "taps",
        "tags": {"reader": "door-1"},
        "columns": ["time", "tap_id", "badge"],
        "values": [[ns, "t1", "b" * 64], [ns + 1, "t2", None], [ns + 1_000_000, None, "c" * 64]],
    }
    chunk = {"results": [{"statement_id": 0, "series": [series]}]}
    assert tap_rows_of([chunk]) == [
        ("b" * 64, 1_764_000_000_123_000, "door-1"),
        ("c" * 64, 1_764_000_000_124_000, "door-1"),
    ]


def test_tap_rows_of_two_readers_merge_by_time_then_reader() -> None:
    """Two readers' series merge in time order; two taps of the same instant (the same
    ms and seq) by reader."""
    ns = 1_764_000_000_123_000_007

    def series(reader: str, values: list) -> dict:
        return {
            "name": "taps",
            "tags": {"reader": reader},
            "columns": ["time", "badge"],
            "values": values,
        }

    chunk = {
        "results": [
            {
                "statement_id": 0,
                "series": [
                    series("hall", [[ns, "h1"], [ns + 2_000_000, "h2"]]),
                    series("door", [[ns, "d1"], [ns + 1_000_000, "d2"]]),
                ],
            }
        ]
    }
    ms = 1_764_000_000_123_000
    assert tap_rows_of([chunk]) == [
        ("d1", ms, "door"),
        ("h1", ms, "hall"),
        ("d2", ms + 1000, "door"),
        ("h2", ms + 2000, "hall"),
    ]


def test_a_tag_value_line_protocol_cannot_write_is_refused_every_time() -> None:
    """Tag values are remembered once escaped (campus and reader ids, on every tap); a
    refused one is not: refused again, never written half-escaped."""
    assert _tag("door 1,a=b") == r"door\ 1\,a\=b"
    assert _tag("door 1,a=b") == r"door\ 1\,a\=b"
    for _ in range(2):
        with pytest.raises(EventStoreError, match="tag value"):
            _tag("ends with \\")


def test_string_fields_escape_quotes_and_backslashes_only() -> None:
    """Tap ids and badge hashes are written as they are; any other text escaped."""
    assert _string("b" * 64) == '"' + "b" * 64 + '"'
    assert _string('say "hi" \\ bye') == r'"say \"hi\" \\ bye"'
    assert _string("") == '""'


def test_a_tap_line_is_the_same_with_its_ms_given_or_computed() -> None:
    moment = datetime(2026, 12, 7, 9, 14, 3, 512_999, tzinfo=UTC)
    tap = StoredTap("t1", "c1", "door-1", "b" * 64, moment, 1_000_003, moment, False)
    line = tap_line(tap)
    assert line == tap_line(tap, ts_ms=to_ms(moment))
    assert line == (
        f'taps,campus=c1,reader=door-1 tap_id="t1",badge="{"b" * 64}",seq=1000003i,'
        "received_ms=1796634843512i,clock_synced=false 1796634843512000003"
    )
    assert tap_fingerprint(tap) == tap_fingerprint(tap, ts_ms=to_ms(moment))
