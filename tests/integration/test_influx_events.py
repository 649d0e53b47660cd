"""InfluxDB-only checks against the real influxd 1.6: retention, schema, escaping, errors.

The ``api_version = 2`` path can only be checked here against 1.6, which has no
``/api/v2``: the adapter must say to set ``api_version = 1``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import urllib3

from server.adapters.event_store import EventStoreError, EventStoreUnavailable
from server.adapters.influx_events import RETENTION_POLICY, InfluxEventStore
from server.config import InfluxSettings
from server.domain.events import ReaderStatusRecord, Rejection, StoredTap, WriteOutcome
from tests.services import Influxd

pytestmark = pytest.mark.influxdb

BADGE = "c3" * 32


@pytest.fixture
def settings(influxd: Influxd) -> InfluxSettings:
    return InfluxSettings(url=influxd.url, api_version=1, database=f"test_{uuid.uuid4().hex[:12]}")


@pytest.fixture
def store(settings: InfluxSettings) -> Iterator[InfluxEventStore]:
    with InfluxEventStore(settings, retention=timedelta(days=30)) as store:
        store.setup()
        yield store


@pytest.fixture
def base() -> datetime:
    return datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)


def raw(settings: InfluxSettings, query: str) -> list[list[Any]]:
    """The values of the first series of a query, through plain HTTP."""
    response = urllib3.PoolManager().request(
        "POST",
        f"{settings.url}/query",
        fields={"q": query, "db": settings.database, "epoch": "ns"},
        encode_multipart=False,
    )
    result = json.loads(response.data)["results"][0]
    assert "error" not in result, result
    return result["series"][0]["values"] if "series" in result else []


def raw_write(settings: InfluxSettings, line: str) -> None:
    response = urllib3.request(
        "POST", f"{settings.url}/write?db={settings.database}&precision=ns", body=line
    )
    assert response.status == 204, response.data


def tap(tap_id: str, ts: datetime, seq: int = 1, **kwargs: Any) -> StoredTap:
    values = {"campus": "c1", "reader": "door-1", "badge": BADGE, "received_at": ts}
    return StoredTap(tap_id=tap_id, ts=ts, seq=seq, **{**values, **kwargs})


def test_setup_creates_a_default_retention_policy_of_the_configured_duration(
    settings: InfluxSettings,
) -> None:
    with InfluxEventStore(settings, retention=timedelta(days=30)) as store:
        store.setup()
        store.setup()
    policies = {row[0]: row for row in raw(settings, "SHOW RETENTION POLICIES")}
    _name, duration, _shard, _replicas, default = policies[RETENTION_POLICY]
    assert (duration, default) == ("720h0m0s", True)
    assert policies["autogen"][4] is False

    with InfluxEventStore(settings, retention=timedelta(days=400)) as store:
        store.setup()
    policies = {row[0]: row for row in raw(settings, "SHOW RETENTION POLICIES")}
    assert policies[RETENTION_POLICY][1] == "9600h0m0s"
    assert len(policies) == 2


def test_schema_for_grafana(store: InfluxEventStore, settings: InfluxSettings) -> None:
    ts = datetime.now(UTC).replace(microsecond=123_456) - timedelta(days=2)
    store.write_taps([tap("tap-schema-1", ts, 3_000_042, clock_synced=False)])

    fields = dict(raw(settings, "SHOW FIELD KEYS FROM taps"))
    assert fields == {
        "tap_id": "string",
        "badge": "string",
        "seq": "integer",
        "received_ms": "integer",
        "clock_synced": "boolean",
    }
    assert sorted(row[0] for row in raw(settings, "SHOW TAG KEYS FROM taps")) == [
        "campus",
        "reader",
    ]
    [[time_ns, *_]] = raw(settings, "SELECT * FROM taps")
    ms = (ts - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)
    assert time_ns == ms * 1_000_000 + 42


def test_odd_values_are_escaped_and_bound(store: InfluxEventStore, base: datetime) -> None:
    odd = 'c 1,x="y"\\z'
    tapped = tap("tap-odd-0001", base, campus=odd, reader="door=1, hall")
    plain = tap("tap-plain-01", base, 2)
    status = ReaderStatusRecord(
        campus=odd,
        reader="door 2",
        state="degraded",
        ts=base,
        received_at=base,
        detail='nfc: "timeout"\\\nsecond line, é ✓',
    )
    rejection = Rejection(
        received_at=base,
        reason="odd reason, with=signs",
        topic='campus/c1/readers/"x"/taps',
        detail="a\\b\nc",
        size=7,
        campus=odd,
    )
    store.write_taps([tapped, plain])
    store.write_statuses([status])
    store.write_rejection(rejection)
    end = base + timedelta(seconds=1)

    assert store.taps(base, end, campus=odd) == [tapped]
    assert store.taps(base, end, campus=odd, reader="door=1, hall") == [tapped]
    assert store.latest_statuses(campus=odd) == [status]
    assert store.rejections(since=base) == [rejection]
    with pytest.raises(EventStoreError, match="tag value") as error:
        store.write_taps([tap("tap-odd-0002", base, 3, campus="ends with \\")])
    assert not isinstance(error.value, EventStoreUnavailable)
    # Bound parameters are values, never InfluxQL.
    for injection in ["c1' OR campus = 'c 1", 'c1" OR "1"="1', "c1 OR 1=1"]:
        assert store.taps(base, end, campus=injection) == []
    assert store.count_taps(base, end) == 2


def test_api_version_2_against_influxdb_1_6_says_to_use_version_1(
    settings: InfluxSettings, base: datetime
) -> None:
    v2 = InfluxEventStore(replace(settings, api_version=2, token="t"), retention=timedelta(days=30))
    with v2, pytest.raises(EventStoreError, match=r"api_version = 1"):
        v2.setup()
    with InfluxEventStore(settings, retention=timedelta(days=30)) as v1:
        v1.setup()
        with v2, pytest.raises(EventStoreUnavailable, match=r"api_version = 1"):
            v2.write_taps([tap("tap-v2-00001", base)])
        assert v1.count_taps(base, base + timedelta(seconds=1)) == 0


def test_refused_data_is_an_error_without_badge_hashes(
    store: InfluxEventStore, settings: InfluxSettings, base: datetime
) -> None:
    # Someone wrote seq as a float: InfluxDB refuses our integers with a 400.
    raw_write(settings, f"taps,campus=c9,reader=door-9 seq=1.5 {base.timestamp():.0f}000000000")
    refused = tap("tap-refused-1", base)

    for _ in range(2):  # a refused tap is not remembered as written
        with pytest.raises(EventStoreError, match="field type conflict") as error:
            store.write_taps([refused])
        assert not isinstance(error.value, EventStoreUnavailable)
        assert BADGE not in str(error.value)


def test_taps_older_than_retention_are_refused(store: InfluxEventStore, base: datetime) -> None:
    with pytest.raises(EventStoreError, match="retention") as error:
        store.write_taps([tap("tap-too-old-1", base - timedelta(days=31))])
    assert not isinstance(error.value, EventStoreUnavailable)


def test_exact_redelivery_unknown_to_the_index_rewrites_the_same_point(
    store: InfluxEventStore, settings: InfluxSettings, base: datetime
) -> None:
    original = tap("tap-same-point", base, 5)
    store.write_taps([original])
    # Another worker, whose index never saw the tap (setup() not called: index cold).
    with InfluxEventStore(settings, retention=timedelta(days=30)) as other:
        assert other.write_taps([replace(original, received_at=base)]) == [WriteOutcome.STORED]

    assert store.taps(base, base + timedelta(seconds=1)) == [original]


def test_index_is_bounded_and_forgets_the_oldest_ids(
    settings: InfluxSettings, base: datetime
) -> None:
    """The documented limit: a conflict with a forgotten tap is stored beside it."""
    with InfluxEventStore(settings, retention=timedelta(days=30), index_size=2) as store:
        store.setup()
        taps = [tap(f"tap-bounded-{n}", base + timedelta(milliseconds=n), n) for n in range(3)]
        store.write_taps(taps)
        later = timedelta(milliseconds=500)

        assert store.write_taps([replace(taps[2], ts=base + later)]) == [WriteOutcome.CONFLICT]
        assert store.write_taps([replace(taps[0], ts=base + later)]) == [WriteOutcome.STORED]
        assert store.count_taps(base, base + timedelta(seconds=1)) == 4


def test_setup_while_unreachable_raises_unavailable(own_influxd: Influxd) -> None:
    settings = InfluxSettings(url=own_influxd.url, api_version=1, database="down", timeout_s=1)
    own_influxd.stop()
    with (
        InfluxEventStore(settings, retention=timedelta(days=1)) as store,
        pytest.raises(EventStoreUnavailable),
    ):
        store.setup()


def test_tap_rows_read_as_msgpack_keep_odd_values_and_many_chunks(
    store: InfluxEventStore, base: datetime
) -> None:
    """The ledger's rows come as MessagePack decoded while they arrive: the same rows as
    ``taps()`` gives, odd strings included, over many chunks of the answer (influxd cuts
    it every 10,000 points)."""
    odd = tap('tap,"odd"\\1 é', base, 1, reader="door=1, hall")
    many = [tap(f"tap-{n:06d}", base + timedelta(milliseconds=n), n + 2) for n in range(25_000)]
    store.write_taps([odd, *many])
    end = base + timedelta(minutes=1)

    rows = store.tap_rows(base, end, campus="c1")
    assert len(rows) == 25_001
    assert rows == [
        (t.badge, int(t.ts.timestamp()) * 1_000_000 + t.ts.microsecond, t.reader)
        for t in store.taps(base, end, campus="c1")
    ]
    assert rows[0] == (BADGE, int(base.timestamp()) * 1_000_000, "door=1, hall")


def test_tap_rows_of_several_readers_merge_their_series_in_time_order(
    store: InfluxEventStore, base: datetime
) -> None:
    """The ledger's rows are asked one series per reader (``GROUP BY reader``: influxd
    reads 1 field instead of 5): the readers' series, cut in chunks, are merged into the
    order of ``taps()``, two readers' taps within one millisecond included."""
    readers = ("door-1", "door-2", "hall")
    many = [
        tap(f"tap-{n:06d}", base + timedelta(milliseconds=n // 2), n + 1, reader=readers[n % 3])
        for n in range(24_000)
    ]
    store.write_taps(many)
    end = base + timedelta(minutes=1)

    rows = store.tap_rows(base, end, campus="c1")
    assert len(rows) == 24_000
    assert rows == [
        (t.badge, int(t.ts.timestamp()) * 1_000_000 + t.ts.microsecond, t.reader)
        for t in store.taps(base, end, campus="c1")
    ]
    assert [row[2] for row in rows[:4]] == ["door-1", "door-2", "hall", "door-1"]  # merged


def test_tap_rows_say_why_influxdb_refused_the_query(
    settings: InfluxSettings, base: datetime
) -> None:
    """influxd 1.6 answers some errors inside a 200 answer: they are errors, never "no
    taps" (its CSV answers drop them, hence MessagePack)."""
    missing = replace(settings, database="no_such_database")
    with InfluxEventStore(missing, retention=timedelta(days=1)) as store:
        with pytest.raises(EventStoreError, match="database not found"):
            store.tap_rows(base, base + timedelta(hours=1), campus="c1")
        # The connection is fine for the next query.
        with pytest.raises(EventStoreError, match="database not found"):
            store.tap_rows(base, base + timedelta(hours=1))
