"""One contract for the operations ports (``server.ports.operations``), run against the
registry's adapter (SQLite, or PostgreSQL with CAMPUS_TEST_REGISTRY=postgresql) and
against the in-memory fakes the use cases' unit tests rely on: if the fakes drift from
the real store, this fails."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from server.ports.operations import (
    JobLeases,
    ProcessRow,
    ProcessRows,
    RegistryRetention,
    RegistryWatch,
)
from server.registry.models import UnknownBadge
from server.registry.operations_store import (
    SqlJobLeases,
    SqlProcessRows,
    SqlRegistryRetention,
    SqlRegistryWatch,
)
from tests.integration.registry.conftest import CAMPUS
from tests.unit.operations.fakes import (
    FakeJobLeases,
    FakeProcessRows,
    FakeRegistryRetention,
    FakeRegistryWatch,
)

T0 = datetime(2026, 12, 7, 9, tzinfo=UTC)
TTL = timedelta(seconds=30)


@dataclass
class Side:
    leases: JobLeases
    rows: ProcessRows
    watch: RegistryWatch
    retention: RegistryRetention
    badges: Any  # what is left of the unknown badges: () -> sorted hashes
    add_badge: Any  # (hash, last seen) -> None


@pytest.fixture(params=["registry", "fake"])
def side(request: pytest.FixtureRequest) -> Side:
    if request.param == "fake":
        leases, retention = FakeJobLeases(), FakeRegistryRetention()

        def add(badge: str, seen: datetime) -> None:
            retention.last_seen[badge] = seen

        return Side(
            leases,
            FakeProcessRows(),
            FakeRegistryWatch(leases),
            retention,
            lambda: sorted(retention.last_seen),
            add,
        )
    registry = request.getfixturevalue("registry")

    def add_row(badge: str, seen: datetime) -> None:
        with registry() as session, session.begin():
            session.add(
                UnknownBadge(
                    badge_hash=badge,
                    campus_id=CAMPUS,
                    reader_id="door-1",
                    first_seen=seen,
                    last_seen=seen,
                    seen_count=1,
                )
            )

    def left() -> list[str]:
        with registry() as session:
            return sorted(session.scalars(select(UnknownBadge.badge_hash)))

    return Side(
        SqlJobLeases(registry),
        SqlProcessRows(registry),
        SqlRegistryWatch(registry),
        SqlRegistryRetention(registry),
        left,
        add_row,
    )


def test_a_lease_is_held_by_one_holder_until_it_expires(side: Side) -> None:
    leases = side.leases
    assert leases.get("jobs") is None
    assert leases.take("jobs", "a", T0, TTL)
    assert not leases.take("jobs", "b", T0 + timedelta(seconds=10), TTL)
    assert leases.take("jobs", "a", T0 + timedelta(seconds=10), TTL)  # renewed
    lease = leases.get("jobs")
    assert lease is not None
    assert (lease.holder, lease.expires_at) == ("a", T0 + timedelta(seconds=40))
    assert leases.take("jobs", "b", T0 + timedelta(seconds=40), TTL)  # expired
    leases.release("jobs", "a")  # not a's any more: kept
    assert leases.get("jobs") is not None
    leases.release("jobs", "b")
    assert leases.get("jobs") is None


def test_a_lease_from_a_clock_far_ahead_is_taken(side: Side) -> None:
    assert side.leases.take("jobs", "ahead", T0 + timedelta(minutes=5), TTL)
    assert not side.leases.take("jobs", "b", T0 + timedelta(minutes=4, seconds=50), TTL)
    assert side.leases.take("jobs", "b", T0, TTL)


def test_process_rows_are_upserted_listed_and_purged(side: Side) -> None:
    rows = side.rows
    rows.write(ProcessRow("h:2:b", "h", 2, T0, T0, False, "{}"), purge_before=T0)
    rows.write(ProcessRow("h:1:a", "h", 1, T0, T0, False, '{"a":1}'), purge_before=T0)
    later = T0 + timedelta(seconds=5)
    rows.write(ProcessRow("h:1:a", "x", 9, later, later, True, '{"a":2}'), purge_before=T0)
    assert rows.get("h:1:a") == ProcessRow("h:1:a", "h", 1, T0, later, True, '{"a":2}')
    assert [row.process for row in rows.since(T0)] == ["h:1:a", "h:2:b"]
    assert [row.process for row in rows.since(later)] == ["h:1:a"]
    rows.write(ProcessRow("h:1:a", "h", 1, T0, later, True, "{}"), purge_before=later)
    assert rows.get("h:2:b") is None and rows.get("nobody") is None


def test_the_registry_answers_and_shows_the_lease(side: Side) -> None:
    side.watch.ping()
    figures = side.watch.figures("jobs")
    assert figures.lease_expiry is None
    assert all(count == 0 for count in figures.alerts.values())
    assert (figures.deliveries, figures.failing) == ({}, [])
    side.leases.take("jobs", "a", T0, TTL)
    assert side.watch.figures("jobs").lease_expiry == T0 + TTL


def test_unknown_badges_last_seen_before_the_limit_are_purged(side: Side) -> None:
    side.add_badge("old", T0 - timedelta(days=2))
    side.add_badge("new", T0)
    assert side.retention.purge_unknown_badges(T0 - timedelta(days=1)) == 1
    assert side.badges() == ["new"]
    side.retention.checkpoint()
    assert side.retention.purge_unknown_badges(T0 - timedelta(days=1)) == 0
