"""Rows read from InfluxDB while a point is being written may lack some of its fields
(each field is stored apart): they are left out, never turned into a crash."""

from __future__ import annotations

from server.adapters.influx_lines import status_rows_complete, tap_rows_complete

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
