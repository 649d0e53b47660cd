"""The InfluxDB schema: events as line protocol, and InfluxQL ``/query`` answers as events.

Schema (what Grafana's InfluxQL queries use)::

    taps           tags:   campus, reader
                   fields: tap_id (string), badge (string: keyed hash of the UID),
                           seq (integer), received_ms (integer, ms since epoch),
                           clock_synced (boolean)
                   time:   tap ts truncated to the ms, in ns, + (seq % 1_000_000) ns
    reader_status  tags:   campus, reader, state
                   fields: queued (integer), detail (string), ts_ms (integer: the
                           reader's own stamp), clock_synced (boolean), heartbeat (integer),
                           oldest_ms (integer: the oldest unconfirmed tap's ts, protocol
                           v2; absent when none)
                   time:   received_at
    rejections     tags:   reason
                   fields: topic, detail (strings), size (integer), campus, reader
                           (strings, absent when unknown)
                   time:   received_at, made strictly increasing by the adapter
    occupancy      tags:   campus, room (absent for the whole campus)
                   fields: count (integer), capacity (integer, absent when none)
                   time:   when the count was computed

The ``seq`` nanoseconds keep two taps of one reader within one millisecond apart, and
make a redelivered tap the identical point (an idempotent overwrite). Tap times are kept
to the ms (the MQTT contract's precision), like the SQLite adapter does.

Tag values are written as line protocol allows: commas, spaces and ``=`` are escaped;
an empty value, a control character or a trailing backslash cannot be expressed and is
refused with :class:`EventStoreError` (campus and reader ids are ``[a-z0-9-]``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from server.adapters.event_store import EventStoreError, TapRow
from server.adapters.event_times import from_ms, from_us, to_ms, to_us
from server.domain.events import OccupancySample, ReaderStatusRecord, Rejection, StoredTap

_TAG_ESCAPES = str.maketrans({",": r"\,", "=": r"\=", " ": r"\ "})
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_STRING_ESCAPES = str.maketrans({'"': r"\"", "\\": r"\\"})
_HASH = re.compile(r"[0-9a-fA-F]{32,}")


def to_ns(moment: datetime) -> int:
    """Nanoseconds since the epoch (the write and query precision); the last 3 digits are 0."""
    return to_us(moment) * 1000


def from_ns(value: int) -> datetime:
    return from_us(value // 1000)


def redact(message: str) -> str:
    """Keep badge hashes (and long ids) out of error messages and logs."""
    return _HASH.sub("<redacted>", message)[:500]


# -- line protocol ---------------------------------------------------------------------


@lru_cache(maxsize=4096)  # campus and reader ids: a few hundred, written on every tap
def _tag(value: str) -> str:
    """A tag value for line protocol, which cannot express some (ids never hit them)."""
    if not value or value.endswith("\\") or _CONTROL.search(value):
        raise EventStoreError(f"InfluxDB cannot store the tag value {value!r}")
    return value.translate(_TAG_ESCAPES)


def _string(value: str) -> str:
    """A string field value: ``"`` and ``\\`` escaped. Tap ids and badge hashes, written
    on every tap, have neither: looked for first, not translated."""
    if '"' in value or "\\" in value:
        value = value.translate(_STRING_ESCAPES)
    return '"' + value + '"'


def _boolean(value: bool) -> str:
    return "true" if value else "false"


def tap_line(tap: StoredTap, *, ts_ms: int | None = None) -> str:
    """``ts_ms``: ``to_ms(tap.ts)`` when the caller has it already (the write computes it
    once for the tap's fingerprint and its line)."""
    if ts_ms is None:
        ts_ms = to_ms(tap.ts)
    return (
        f"taps,campus={_tag(tap.campus)},reader={_tag(tap.reader)} "
        f"tap_id={_string(tap.tap_id)},badge={_string(tap.badge)},seq={tap.seq}i,"
        f"received_ms={to_ms(tap.received_at)}i,clock_synced={_boolean(tap.clock_synced)}"
        f" {ts_ms * 1_000_000 + tap.seq % 1_000_000}"
    )


def status_line(status: ReaderStatusRecord) -> str:
    oldest = "" if status.oldest is None else f",oldest_ms={to_ms(status.oldest)}i"
    return (
        f"reader_status,campus={_tag(status.campus)},reader={_tag(status.reader)},"
        f"state={_tag(status.state)} queued={status.queued}i,detail={_string(status.detail)},"
        f"ts_ms={to_ms(status.ts)}i,clock_synced={_boolean(status.clock_synced)},"
        f"heartbeat={status.heartbeat}i{oldest} {to_ns(status.received_at)}"
    )


def rejection_line(rejection: Rejection, time_ns: int) -> str:
    """``time_ns`` is chosen by the caller: two rejections must never share a time."""
    fields = [
        f"topic={_string(rejection.topic)}",
        f"detail={_string(rejection.detail)}",
        f"size={rejection.size}i",
    ]
    if rejection.campus is not None:
        fields.append(f"campus={_string(rejection.campus)}")
    if rejection.reader is not None:
        fields.append(f"reader={_string(rejection.reader)}")
    return f"rejections,reason={_tag(rejection.reason)} {','.join(fields)} {time_ns}"


def occupancy_line(sample: OccupancySample) -> str:
    room = f",room={_tag(sample.room)}" if sample.room else ""
    capacity = f",capacity={sample.capacity}i" if sample.capacity is not None else ""
    return (
        f"occupancy,campus={_tag(sample.campus)}{room} count={sample.count}i{capacity}"
        f" {to_ns(sample.at)}"
    )


# -- /query answers --------------------------------------------------------------------


def query_rows(text: str) -> list[dict[str, Any]]:
    """The rows of a ``/query`` answer (``epoch=ns``), each a dict of columns and tags.

    Chunked answers are one JSON document per chunk; a server may ignore chunking.
    """
    rows = []
    for chunk in json_documents(text):
        rows.extend(_chunk_rows(chunk))
    return rows


def json_documents(text: str) -> Iterator[dict[str, Any]]:
    """The documents of a JSON ``/query`` answer: one per chunk (or one in all)."""
    position = 0
    decoder = json.JSONDecoder()
    while position < len(text):
        if text[position].isspace():
            position += 1
            continue
        chunk, position = decoder.raw_decode(text, position)
        yield chunk


def _chunk_rows(chunk: dict[str, Any]) -> Iterable[dict[str, Any]]:
    if "error" in chunk:
        raise EventStoreError(f"InfluxDB query failed: {redact(chunk['error'])}")
    for result in chunk.get("results", []):
        if "error" in result:
            raise EventStoreError(f"InfluxDB query failed: {redact(result['error'])}")
        for series in result.get("series", []):
            tags = series.get("tags", {})
            columns = series["columns"]
            for values in series["values"]:
                yield {**tags, **dict(zip(columns, values, strict=True))}


# InfluxDB keeps each field of a point apart: a query running while a point is being
# written may see some of its fields and not yet the others. Such a row is the point of a
# write still under way, read as if the query had come just before it.
_TAP_FIELDS = ("tap_id", "badge", "seq", "received_ms", "clock_synced")
_STATUS_FIELDS = ("state", "ts_ms", "queued", "detail", "clock_synced", "heartbeat")
_TAP_ROW_COLUMNS = ("time", "badge")  # what the ledger's rows are read from


def tap_rows_complete(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The tap rows whose every field is there (see above)."""
    return [row for row in rows if all(row.get(name) is not None for name in _TAP_FIELDS)]


def tap_rows_of(chunks: Iterable[dict[str, Any]]) -> list[TapRow]:
    """:data:`TapRow` tuples from the decoded documents (JSON or MessagePack, one per
    chunk) of the ``/query`` answer (``epoch=ns``) of
    ``SELECT badge FROM taps WHERE … GROUP BY reader``: one series per reader, each in
    time order. Rows missing the badge are left out (see above). Reads the value lists
    as they are: no dict per row.

    Order: by time then reader, the time being the tap's ms plus its ``seq`` mod 10^6 in
    ns (see the schema above): :meth:`EventStore.taps`'s (ts, seq, tap id) for the taps of
    one reader, except two taps of one millisecond whose seqs straddle a multiple of
    10^6 (a reader cannot read two badges within a millisecond); the taps of two readers
    within one millisecond, ordered by seq elsewhere, may be ordered otherwise once a seq
    passes 10^6, or by reader where the other store orders by tap id (the same ms and the
    same seq) — nothing the ledger computes depends on it (a badge is at one reader at a
    time). Not asking for ``seq`` and the other fields spares influxd ~35 % of the read,
    and not asking for the tap id (which no rule reads) ~45 % of the rest (issue 16)."""
    runs: dict[str, list[Sequence[Any]]] = {}
    for chunk in chunks:
        if "error" in chunk:
            raise EventStoreError(f"InfluxDB query failed: {redact(chunk['error'])}")
        for result in chunk.get("results", []):
            if "error" in result:
                raise EventStoreError(f"InfluxDB query failed: {redact(result['error'])}")
            for series in result.get("series", []):
                reader = (series.get("tags") or {}).get("reader", "")
                values = series["values"]
                columns = tuple(series["columns"])  # tuples from MessagePack, lists from JSON
                if columns != _TAP_ROW_COLUMNS:
                    at = [columns.index(name) for name in _TAP_ROW_COLUMNS]
                    values = [[row[i] for i in at] for row in values]
                runs.setdefault(reader, []).extend(values)
    if len(runs) == 1:  # one reader: its series is in time order already
        ((reader, values),) = runs.items()
        return [
            (badge, time_ns // 1_000_000 * 1000, reader)
            for time_ns, badge in values
            if badge is not None
        ]
    found = [
        (time_ns, reader, badge)
        for reader, values in runs.items()
        for time_ns, badge in values
        if badge is not None
    ]
    found.sort()
    return [(badge, ns // 1_000_000 * 1000, reader) for ns, reader, badge in found]


def status_rows_complete(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The status rows whose every required field is there (see above)."""
    return [row for row in rows if all(row.get(name) is not None for name in _STATUS_FIELDS)]


def tap_from_row(row: dict[str, Any]) -> StoredTap:
    return StoredTap(
        tap_id=row["tap_id"],
        campus=row["campus"],
        reader=row["reader"],
        badge=row["badge"],
        ts=from_ms(row["time"] // 1_000_000),
        seq=row["seq"],
        received_at=from_ms(row["received_ms"]),
        clock_synced=row["clock_synced"],
    )


def status_from_row(row: dict[str, Any]) -> ReaderStatusRecord:
    return ReaderStatusRecord(
        campus=row["campus"],
        reader=row["reader"],
        state=row["state"],
        ts=from_ms(row["ts_ms"]),
        received_at=from_ns(row["time"]),
        queued=row["queued"],
        detail=row["detail"],
        clock_synced=row["clock_synced"],
        heartbeat=row["heartbeat"],
        oldest=None if row.get("oldest_ms") is None else from_ms(row["oldest_ms"]),
    )


def rejection_from_row(row: dict[str, Any]) -> Rejection:
    return Rejection(
        received_at=from_ns(row["time"]),
        reason=row["reason"],
        topic=row["topic"],
        detail=row["detail"],
        size=row["size"],
        campus=row.get("campus"),
        reader=row.get("reader"),
    )


def occupancy_from_row(row: dict[str, Any]) -> OccupancySample:
    return OccupancySample(
        campus=row["campus"],
        room=row.get("room") or None,
        at=from_ns(row["time"]),
        count=row["count"],
        capacity=row.get("capacity"),
    )
