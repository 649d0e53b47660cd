"""The InfluxDB :class:`EventStore`: writes line protocol, reads InfluxQL with bound params.

Schema, line protocol and the reading of ``/query`` answers: see
:mod:`server.adapters.influx_lines`.

- Writes: ``api_version = 2`` through influxdb-client's *synchronous* write API
  (``/api/v2/write``: written for InfluxDB 1.8+ and 2.x, untested: docs/influxdb.md);
  ``api_version = 1`` POSTs to ``/write`` (InfluxDB 1.x; tested with Debian's 1.6).
  Never the client's batching mode: it drops data.
  One ``write_taps`` call is one HTTP write.
- Reads: InfluxQL on ``/query`` (2.x answers it through its v1 compatibility API, with
  the bucket name as ``db`` and a DBRP mapping), values bound through ``params``; the
  ledger's tap rows (``tap_rows``, by the million) are asked as MessagePack and decoded
  as they arrive, the rest as JSON.
- Errors: connection failures, timeouts, 5xx, 401/403/404/408/429 raise
  :class:`EventStoreUnavailable` (nothing stored: do not acknowledge); any other refusal
  raises :class:`EventStoreError` with the server's message (hashes redacted).
- Retention: ``setup()`` creates the database and a DEFAULT retention policy (1.x) or the
  bucket with its retention rule (2.x); :meth:`InfluxEventStore.purge` does nothing.

Duplicates and conflicts (InfluxDB has no unique key): an index of the recent tap ids,
see :mod:`server.adapters.influx_tap_index`.

A 400 "partial write" may have stored the valid lines of the request; retrying them is
safe.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import msgpack
import urllib3
from influxdb_client import BucketRetentionRules, InfluxDBClient, WritePrecision
from influxdb_client.client.write_api import SYNCHRONOUS
from influxdb_client.rest import ApiException

from server.adapters.event_store import (
    EventStore,
    EventStoreError,
    EventStoreUnavailable,
    TapRow,
)
from server.adapters.event_times import to_ms
from server.adapters.influx_lines import (
    json_documents,
    occupancy_from_row,
    occupancy_line,
    query_rows,
    redact,
    rejection_from_row,
    rejection_line,
    status_from_row,
    status_line,
    status_rows_complete,
    tap_from_row,
    tap_line,
    tap_rows_complete,
    tap_rows_of,
    to_ns,
)
from server.adapters.influx_tap_index import TapIndex, row_fingerprint, tap_fingerprint
from server.config import InfluxSettings
from server.domain.events import (
    OccupancySample,
    ReaderStatusRecord,
    Rejection,
    StoredTap,
    WriteOutcome,
)
from server.domain.reader_health import stamped_at

RETENTION_POLICY = "campus_presence"
INDEX_SIZE = 200_000
WARM_WINDOW = timedelta(hours=48)

_MSGPACK = "application/x-msgpack"
_READ_SIZE = 256 * 1024  # bytes of a /query answer decoded at a time
_UNAVAILABLE_STATUSES = frozenset({401, 403, 404, 408, 429})
STAMP_SKEW = timedelta(minutes=10)  # how far ahead of the server a reader's clock may be
_FAR_FUTURE_NS = 2**62  # "received at any time after" (InfluxDB times end in 2262)
_NOT_V2 = (
    "this InfluxDB has no /api/v2 endpoints (InfluxDB 1.7 or older): "
    "set api_version = 1 in [events.influxdb]"
)


class InfluxEventStore(EventStore):
    """Events in InfluxDB 1.x (``api_version = 1``, tested with 1.6) or 1.8+/2.x
    (``api_version = 2``, untested: docs/influxdb.md)."""

    answered_elsewhere = True  # influxd answers reads: worth asking ahead

    def __init__(
        self, settings: InfluxSettings, *, retention: timedelta, index_size: int = INDEX_SIZE
    ) -> None:
        if retention < timedelta(hours=1):
            raise ValueError("InfluxDB retention must be at least one hour")
        self.settings = settings
        self.retention = retention
        self._index = TapIndex(index_size)
        self._write_lock = threading.Lock()
        self._last_rejection_ns = 0
        self._http = urllib3.PoolManager(
            maxsize=8,
            retries=False,
            timeout=urllib3.Timeout(connect=settings.timeout_s, read=settings.timeout_s),
        )
        self._client: InfluxDBClient | None = None
        if settings.api_version == 2:
            self._client = InfluxDBClient(
                url=settings.url,
                # InfluxDB 1.8's v2 API takes "user:password" as a token.
                token=settings.token
                or (f"{settings.username}:{settings.password}" if settings.username else None),
                org=settings.org or None,
                timeout=int(settings.timeout_s * 1000),
            )
            self._write_api = self._client.write_api(write_options=SYNCHRONOUS)

    def __repr__(self) -> str:
        return (
            f"InfluxEventStore({self.settings.url!r}, api_version={self.settings.api_version},"
            f" database={self.settings.database!r})"
        )

    def __enter__(self) -> InfluxEventStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- setup -------------------------------------------------------------------------

    def setup(self) -> None:
        if self.settings.api_version == 1:
            self._setup_database()
        else:
            self._setup_bucket()
        self._warm_index()

    def _setup_database(self) -> None:
        database = _identifier(self.settings.database)
        policy = _identifier(RETENTION_POLICY)
        self._query(f"CREATE DATABASE {database}")
        existing = {row["name"] for row in self._query(f"SHOW RETENTION POLICIES ON {database}")}
        verb = "ALTER" if RETENTION_POLICY in existing else "CREATE"
        seconds = int(self.retention.total_seconds())
        self._query(
            f"{verb} RETENTION POLICY {policy} ON {database} "
            f"DURATION {seconds}s REPLICATION 1 DEFAULT"
        )

    def _setup_bucket(self) -> None:
        assert self._client is not None
        buckets = self._client.buckets_api()
        rule = BucketRetentionRules(
            type="expire", every_seconds=int(self.retention.total_seconds())
        )
        try:
            bucket = buckets.find_bucket_by_name(self.settings.database)
            if bucket is None:
                buckets.create_bucket(
                    bucket_name=self.settings.database,
                    retention_rules=rule,
                    org=self.settings.org or None,
                )
            elif [r.every_seconds for r in bucket.retention_rules] != [rule.every_seconds]:
                bucket.retention_rules = [rule]
                buckets.update_bucket(bucket)
        except ApiException as error:
            if error.status == 404:
                raise EventStoreError(f"InfluxDB at {self.settings.url}: {_NOT_V2}") from None
            raise _api_error(error, "bucket setup") from None
        except (urllib3.exceptions.HTTPError, OSError) as error:
            raise EventStoreUnavailable(f"InfluxDB at {self.settings.url}: {error}") from None

    def _warm_index(self) -> None:
        since = to_ns(datetime.now(UTC) - WARM_WINDOW)
        rows = self._query(
            "SELECT tap_id, badge, seq, clock_synced, campus, reader FROM taps "
            "WHERE time >= $since ORDER BY time DESC LIMIT $limit",
            {"since": since, "limit": self._index.size},
        )
        with self._write_lock:
            for row in reversed(rows):
                self._index.put(row["tap_id"], row_fingerprint(row))

    # -- writes ------------------------------------------------------------------------

    def write_taps(self, taps: Sequence[StoredTap]) -> list[WriteOutcome]:
        outcomes: list[WriteOutcome] = []
        lines: list[str] = []
        fresh: dict[str, int] = {}
        with self._write_lock:
            for tap in taps:
                ts_ms = to_ms(tap.ts)
                fingerprint = tap_fingerprint(tap, ts_ms=ts_ms)
                known = fresh.get(tap.tap_id)
                if known is None:
                    known = self._index.get(tap.tap_id)
                if known is None:
                    fresh[tap.tap_id] = fingerprint
                    lines.append(tap_line(tap, ts_ms=ts_ms))
                    outcomes.append(WriteOutcome.STORED)
                elif known == fingerprint:
                    outcomes.append(WriteOutcome.DUPLICATE)
                else:
                    outcomes.append(WriteOutcome.CONFLICT)
            if lines:
                self._write(lines)
            for tap_id, fingerprint in fresh.items():
                self._index.put(tap_id, fingerprint)
        return outcomes

    def write_statuses(self, statuses: Sequence[ReaderStatusRecord]) -> None:
        if statuses:
            self._write([status_line(status) for status in statuses])

    def write_rejection(self, rejection: Rejection) -> None:
        self.write_rejections([rejection])

    def write_rejections(self, rejections: Sequence[Rejection]) -> None:
        if not rejections:
            return
        with self._write_lock:
            # Two rejections never share a time (they would overwrite each other).
            lines = []
            time_ns = self._last_rejection_ns
            for rejection in rejections:
                time_ns = max(to_ns(rejection.received_at), time_ns + 1)
                lines.append(rejection_line(rejection, time_ns))
            self._write(lines)  # one request for the batch's
            self._last_rejection_ns = time_ns

    def _write(self, lines: list[str]) -> None:
        body = "\n".join(lines)
        if self.settings.api_version == 1:
            query = urllib.parse.urlencode({"db": self.settings.database, "precision": "ns"})
            response = self._post(
                f"/write?{query}",
                body=body.encode(),
                headers={"Content-Type": "text/plain; charset=utf-8"},
            )
            if response.status != 204:
                raise _http_error(response, "write")
            return
        try:
            self._write_api.write(
                bucket=self.settings.database,
                org=self.settings.org or "-",  # InfluxDB 1.8 ignores it; the client wants one
                record=body,
                write_precision=WritePrecision.NS,
            )
        except ApiException as error:
            raise _api_error(error, "write") from None
        except (urllib3.exceptions.HTTPError, OSError) as error:
            raise EventStoreUnavailable(f"InfluxDB at {self.settings.url}: {error}") from None

    # -- reads -------------------------------------------------------------------------

    def taps(
        self,
        start: datetime,
        end: datetime,
        *,
        campus: str | None = None,
        reader: str | None = None,
    ) -> list[StoredTap]:
        where, params = _where(_tap_bound(start), _tap_bound(end), campus, reader)
        rows = self._query(
            "SELECT tap_id, badge, seq, received_ms, clock_synced, campus, reader "
            f"FROM taps WHERE {where}",
            params,
        )
        taps = (tap_from_row(row) for row in tap_rows_complete(rows))
        return sorted(taps, key=lambda t: (t.ts, t.seq, t.tap_id))

    def tap_rows(
        self, start: datetime, end: datetime, *, campus: str | None = None
    ) -> list[TapRow]:
        where, params = _where(_tap_bound(start), _tap_bound(end), campus, None)
        documents = self._query_documents(  # no campus column: a row does not name it
            f"SELECT badge FROM taps WHERE {where} GROUP BY reader",
            params,
            epoch="ns",
        )
        return tap_rows_of(documents)

    def count_taps(self, start: datetime, end: datetime, *, campus: str | None = None) -> int:
        where, params = _where(_tap_bound(start), _tap_bound(end), campus, None)
        rows = self._query(f"SELECT count(tap_id) FROM taps WHERE {where}", params)
        return rows[0]["count"] if rows else 0

    def statuses(
        self,
        start: datetime,
        end: datetime,
        *,
        campus: str | None = None,
        reader: str | None = None,
    ) -> list[ReaderStatusRecord]:
        where, params = _where(to_ns(start), to_ns(end), campus, reader)
        rows = self._query(f"SELECT * FROM reader_status WHERE {where}", params)
        return sorted(
            (status_from_row(row) for row in status_rows_complete(rows)),
            key=lambda s: (s.received_at, s.campus, s.reader, s.state),
        )

    def latest_statuses(self, *, campus: str | None = None) -> list[ReaderStatusRecord]:
        where, params = (
            ("", {}) if campus is None else ("WHERE campus = $campus", {"campus": campus})
        )
        rows = self._query(
            f"SELECT * FROM reader_status {where} "
            "GROUP BY campus, reader ORDER BY time DESC LIMIT 1",
            params,
        )
        found = (status_from_row(row) for row in status_rows_complete(rows))
        return sorted(found, key=lambda s: (s.campus, s.reader))

    def stamped_statuses(
        self,
        start: datetime,
        end: datetime,
        *,
        campus: str | None = None,
        reader: str | None = None,
    ) -> list[ReaderStatusRecord]:
        # The reader's stamp (field ``ts_ms``) when its clock is synchronised: such a
        # status is received after it is stamped, so its point time (the reception) is at
        # least ``start`` less the clock skew allowed. Otherwise the reception time.
        where, params = _where(to_ns(start - STAMP_SKEW), _FAR_FUTURE_NS, campus, reader)
        params.update(first=_ms_bound(start), last=_ms_bound(end))
        synced = self._query(
            f"SELECT * FROM reader_status WHERE {where} AND clock_synced = true "
            "AND ts_ms >= $first AND ts_ms < $last",
            params,
        )
        where, params = _where(to_ns(start), to_ns(end), campus, reader)
        unsynced = self._query(
            f"SELECT * FROM reader_status WHERE {where} AND clock_synced = false", params
        )
        return sorted(
            (status_from_row(row) for row in status_rows_complete([*synced, *unsynced])),
            key=lambda s: (stamped_at(s), s.campus, s.reader, s.received_at),
        )

    def rejections(self, *, since: datetime, limit: int = 100) -> list[Rejection]:
        rows = self._query(
            "SELECT * FROM rejections WHERE time >= $since ORDER BY time DESC LIMIT $limit",
            {"since": to_ns(since), "limit": limit},
        )
        return [rejection_from_row(row) for row in rows]

    def write_occupancy(self, samples: Sequence[OccupancySample]) -> None:
        if samples:
            self._write([occupancy_line(sample) for sample in samples])

    def occupancy(
        self,
        start: datetime,
        end: datetime,
        *,
        campus: str | None = None,
        room: str | None = None,
    ) -> list[OccupancySample]:
        where, params = _where(to_ns(start), to_ns(end), campus, None)
        if room is not None:
            where += " AND room = $room"  # "" matches the points without a room tag
            params["room"] = room
        rows = self._query(
            f'SELECT "count", capacity, campus, room FROM occupancy WHERE {where}', params
        )
        return sorted(
            (occupancy_from_row(row) for row in rows),
            key=lambda s: (s.at, s.campus, s.room or ""),
        )

    def purge(self, before: datetime) -> int:
        """Nothing to do: the retention policy (1.x) or bucket retention (2.x) deletes."""
        return 0

    def close(self) -> None:
        self._http.clear()
        if self._client is not None:
            self._write_api.close()
            self._client.close()

    def check_writable(self, now: datetime) -> None:
        """One point written in a measurement of its own, stamped at the start of the day
        (UTC): rewritten in place all day, one point a day kept by the retention."""
        day = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        self._write([f"write_probe ok=1i {int(day.timestamp()) * 1_000_000_000}"])

    # -- HTTP --------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        settings = self.settings
        if settings.token:
            return {"Authorization": f"Token {settings.token}"}
        if settings.username:
            return urllib3.make_headers(basic_auth=f"{settings.username}:{settings.password}")
        return {}

    def _post(self, path: str, **kwargs: Any) -> urllib3.BaseHTTPResponse:
        headers = {**self._headers(), **kwargs.pop("headers", {})}
        try:
            return self._http.request(
                "POST", self.settings.url.rstrip("/") + path, headers=headers, **kwargs
            )
        except (urllib3.exceptions.HTTPError, OSError) as error:
            raise EventStoreUnavailable(f"InfluxDB at {self.settings.url}: {error}") from None

    def _query(self, query: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Rows of one InfluxQL statement, each a dict of columns and group-by tags."""
        return query_rows(self._query_text(query, params))

    def _query_text(
        self, query: str, params: dict[str, Any] | None = None, *, epoch: str = "ns"
    ) -> str:
        """The answer of one InfluxQL statement (chunked JSON), times in ``epoch`` units."""
        fields = {"q": query, "db": self.settings.database, "epoch": epoch, "chunked": "true"}
        if params:
            fields["params"] = json.dumps(params)
        response = self._post("/query", fields=fields, encode_multipart=False)
        if response.status != 200:
            raise _http_error(response, "query")
        return response.data.decode()

    def _query_documents(
        self, query: str, params: dict[str, Any] | None = None, *, epoch: str = "ns"
    ) -> Iterator[dict[str, Any]]:
        """The decoded documents (one per chunk) of one InfluxQL statement, asked as
        MessagePack and decoded as they arrive (issue 16: influxd spends ~40 % less CPU
        on it than on JSON; CSV would be cheaper still but influxd 1.6 leaves its errors
        out of CSV answers). A server answering JSON instead is read as JSON."""
        fields = {"q": query, "db": self.settings.database, "epoch": epoch, "chunked": "true"}
        if params:
            fields["params"] = json.dumps(params)
        response = self._post(
            "/query",
            fields=fields,
            encode_multipart=False,
            headers={"Accept": _MSGPACK},
            preload_content=False,
        )
        finished = False
        try:
            if response.status != 200:
                response.read(cache_content=True)
                raise _http_error(response, "query")
            if response.headers.get("Content-Type", "").split(";")[0].strip() != _MSGPACK:
                text = response.read().decode()
                finished = True
                yield from json_documents(text)
                return
            # Arrays as tuples: half the decoding time of lists (issue 16).
            unpacker = msgpack.Unpacker(raw=False, max_buffer_size=0, use_list=False)
            size = 0
            try:
                for data in response.stream(_READ_SIZE):
                    size += len(data)
                    unpacker.feed(data)
                    yield from unpacker
                finished = True
            except (urllib3.exceptions.HTTPError, OSError) as error:
                raise EventStoreUnavailable(f"InfluxDB at {self.settings.url}: {error}") from None
            except (ValueError, msgpack.UnpackException) as error:
                raise EventStoreError(f"InfluxDB answered unreadable data: {error}") from None
            if unpacker.tell() != size:  # the answer stopped inside a document
                raise EventStoreUnavailable(f"InfluxDB at {self.settings.url}: answer cut short")
        finally:
            if not finished:  # a part of the answer may be left unread: not reused
                response.close()
            response.release_conn()


def _http_error(response: urllib3.BaseHTTPResponse, action: str) -> EventStoreError:
    header = response.headers.get("X-Influxdb-Error")
    if header:
        return _status_error(response.status, header, action)
    try:
        message = json.loads(response.data).get("error", "")
    except ValueError:
        message = response.data.decode(errors="replace")
    return _status_error(response.status, str(message), action)


def _api_error(error: ApiException, action: str) -> EventStoreError:
    message = getattr(error, "message", None) or error.reason or ""
    if error.status == 404 and action == "write":
        message = _NOT_V2
    return _status_error(error.status or 0, str(message), action)


def _status_error(status: int, message: str, action: str) -> EventStoreError:
    text = f"InfluxDB {action} answered HTTP {status}: {redact(message.strip())}"
    if status >= 500 or status in _UNAVAILABLE_STATUSES:
        return EventStoreUnavailable(text)
    return EventStoreError(text)


def _identifier(name: str) -> str:
    """An InfluxQL quoted identifier (names come from our config, never from users)."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _ms_bound(moment: datetime) -> int:
    """A bound on a field kept in whole ms: ``ms >= x`` is ``ms >= ceil(x)``."""
    return -(-to_ns(moment) // 1_000_000)


def _tap_bound(moment: datetime) -> int:
    """A tap time bound: taps are kept to the ms, and ``ms >= x`` is ``ms >= ceil(x)``."""
    return -(-to_ns(moment) // 1_000_000) * 1_000_000


def _where(
    start_ns: int, end_ns: int, campus: str | None, reader: str | None
) -> tuple[str, dict[str, Any]]:
    clauses = ["time >= $start", "time < $end"]
    params: dict[str, Any] = {"start": start_ns, "end": end_ns}
    if campus is not None:
        clauses.append("campus = $campus")
        params["campus"] = campus
    if reader is not None:
        clauses.append("reader = $reader")
        params["reader"] = reader
    return " AND ".join(clauses), params
