"""Every Grafana panel query runs on a real influxd, on data written by the server's own
InfluxDB event store, and the schema documented in ``dashboards/README.md`` is what that
store writes.

Grafana's variables are replaced as Grafana would: ``$timeFilter`` by a time range,
``$campus`` by the regex-escaped campus id, ``$__interval`` by an interval.
"""

from __future__ import annotations

import json
import re
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from server.adapters.influx_events import InfluxEventStore
from server.config import InfluxSettings
from server.domain.events import ReaderStatusRecord, Rejection, StoredTap
from tests.services import Influxd
from tests.unit.test_dashboards import QUERIES, SCHEMA, documented_field_types, variables

pytestmark = pytest.mark.influxdb

CAMPUS = "paris-13"
OTHER_CAMPUS = "lyon-2"
PARIS_TAPS = 7  # of which one with an unsynchronised clock
BADGE = "5e" * 32


def influxql(influxd: Influxd, database: str, query: str) -> dict[str, Any]:
    """The first statement's result of one InfluxQL query, through plain HTTP."""
    url = f"{influxd.url}/query?" + urllib.parse.urlencode({"db": database, "q": query})
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - local influxd
        assert response.status == 200
        return json.load(response)["results"][0]


def grafana_interpolate(query: str, campus: str = CAMPUS) -> str:
    return (
        query.replace("$timeFilter", "time >= now() - 6h")
        .replace("$campus", re.escape(campus))
        .replace("$__interval", "1m")
    )


def write_events(settings: InfluxSettings, now: datetime) -> None:
    taps = [
        StoredTap(
            tap_id=f"{campus}-{n:04}-{uuid.uuid4().hex[:8]}",
            campus=campus,
            reader=f"door-{n % 2 + 1}",
            badge=BADGE,
            ts=now - timedelta(minutes=5 * n + 1),
            seq=n,
            received_at=now,
            clock_synced=not (campus == CAMPUS and n == 3),
        )
        for campus, count in ((CAMPUS, PARIS_TAPS), (OTHER_CAMPUS, 2))
        for n in range(count)
    ]
    statuses = [
        ReaderStatusRecord(
            campus=CAMPUS,
            reader=reader,
            state=state,
            ts=now - timedelta(minutes=minutes),
            received_at=now - timedelta(minutes=minutes),
            queued=queued,
            detail=detail,
            clock_synced=state != "degraded",
        )
        for reader, state, minutes, queued, detail in [
            ("door-1", "online", 30, 0, ""),
            ("door-1", "degraded", 20, 4, "NFC reader not found on usb"),
            ("door-1", "online", 10, 0, ""),
            ("door-2", "offline", 15, 2, "connection lost"),
        ]
    ]
    rejections = [
        Rejection(
            received_at=now - timedelta(minutes=3),
            reason="bad_uid",
            topic=f"campus/{CAMPUS}/readers/door-1/taps",
            detail="uid must be an even number of hex digits",
            size=92,
            campus=CAMPUS,
            reader="door-1",
        ),
        Rejection(
            received_at=now - timedelta(minutes=2),
            reason="bad_topic",
            topic="campus/Paris/readers/door-1/taps",
            detail="campus or reader id in topic is malformed",
            size=90,
        ),
    ]
    with InfluxEventStore(settings, retention=timedelta(days=30)) as store:
        store.setup()
        store.write_taps(taps)
        store.write_statuses(statuses)
        for rejection in rejections:
            store.write_rejection(rejection)


def write_planned_occupancy(influxd: Influxd, database: str, now: datetime) -> None:
    """Occupancy is planned (no writer yet): points shaped as the README documents."""
    ns = int(now.timestamp()) * 10**9
    lines = [
        f"occupancy,campus={CAMPUS} count=23i,capacity=40i {ns - 600 * 10**9}",
        f"occupancy,campus={CAMPUS},room=salle-2 count=11i,capacity=18i {ns - 600 * 10**9}",
        f"occupancy,campus={CAMPUS},room=salle-2 count=12i,capacity=18i {ns - 60 * 10**9}",
    ]
    request = urllib.request.Request(  # noqa: S310 - local influxd
        f"{influxd.url}/write?db={database}&precision=ns",
        data="\n".join(lines).encode(),
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        assert response.status == 204


@pytest.fixture(scope="module")
def database(influxd: Influxd) -> Iterator[str]:
    name = f"dashboards_{uuid.uuid4().hex[:10]}"
    now = datetime.now(UTC).replace(microsecond=0)
    write_events(InfluxSettings(url=influxd.url, api_version=1, database=name), now)
    write_planned_occupancy(influxd, name, now)
    yield name
    influxql(influxd, name, f'DROP DATABASE "{name}"')


# --------------------------------------------------------------------------- schema


@pytest.mark.parametrize("measurement", ["taps", "reader_status", "rejections"])
def test_documented_schema_is_what_the_event_store_writes(
    influxd: Influxd, database: str, measurement: str
) -> None:
    fields = influxql(influxd, database, f'SHOW FIELD KEYS FROM "{measurement}"')
    tags = influxql(influxd, database, f'SHOW TAG KEYS FROM "{measurement}"')
    written_fields = dict(fields["series"][0]["values"])
    written_tags = {row[0] for row in tags["series"][0]["values"]}
    assert written_fields == documented_field_types()[measurement]
    assert written_tags == SCHEMA[measurement].tags


# --------------------------------------------------------------------------- panels


@pytest.mark.parametrize(("title", "query"), QUERIES, ids=[title for title, _ in QUERIES])
def test_every_panel_query_runs_and_finds_the_data(
    influxd: Influxd, database: str, title: str, query: str
) -> None:
    result = influxql(influxd, database, grafana_interpolate(query))
    assert "error" not in result, result
    assert result.get("series"), f"{title}: no data, though every measurement has some"


def _values(influxd: Influxd, database: str, title: str, campus: str = CAMPUS) -> list[Any]:
    [query] = [query for panel_title, query in QUERIES if panel_title == title]
    result = influxql(influxd, database, grafana_interpolate(query, campus))
    return [value for series in result.get("series", []) for value in series["values"]]


def test_tap_panels_count_the_selected_campus_only(influxd: Influxd, database: str) -> None:
    total = _values(influxd, database, "Taps in the period")
    assert [count for _, count in total] == [PARIS_TAPS]
    hourly = _values(influxd, database, "Taps per hour, per reader")
    assert sum(count for _, count in hourly) == PARIS_TAPS
    unsynced = _values(influxd, database, "Taps stamped by an unsynchronised clock")
    assert [count for _, count in unsynced] == [1]
    other = _values(influxd, database, "Taps in the period", OTHER_CAMPUS)
    assert [count for _, count in other] == [2]
    # A campus id that is a prefix of another must not match it (the regex is anchored).
    assert _values(influxd, database, "Taps in the period", "paris") == []


def test_last_status_table_shows_each_readers_latest_state(influxd: Influxd, database: str) -> None:
    [query] = [q for title, q in QUERIES if title == "Last status of each reader"]
    result = influxql(influxd, database, grafana_interpolate(query))
    assert len(result["series"]) == 2  # one row per reader, whatever its states were
    latest = {}
    for series in result["series"]:
        row = dict(zip(series["columns"], series["values"][0], strict=True))
        latest[series["tags"]["reader"]] = (row["state"], row["queued"], row["detail"])
    assert latest == {"door-1": ("online", 0, ""), "door-2": ("offline", 2, "connection lost")}


def test_rejection_panels_include_messages_without_a_campus(
    influxd: Influxd, database: str
) -> None:
    [query] = [q for title, q in QUERIES if title == "Rejected messages per hour, per reason"]
    result = influxql(influxd, database, grafana_interpolate(query))
    per_reason = {
        series["tags"]["reason"]: sum(count for _, count in series["values"])
        for series in result["series"]
    }
    assert per_reason == {"bad_uid": 1, "bad_topic": 1}
    rows = _values(influxd, database, "Last rejected messages")
    assert [row[1] for row in rows] == ["bad_topic", "bad_uid"]  # newest first


def test_campus_variable_lists_every_campus(influxd: Influxd, database: str) -> None:
    result = influxql(influxd, database, variables()["campus"]["query"])
    assert {row[1] for row in result["series"][0]["values"]} == {CAMPUS, OTHER_CAMPUS}
