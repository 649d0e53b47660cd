"""One contract for the occupancy ports (``server.ports.occupancy``), run against the
registry's adapter (SQLite, or PostgreSQL with CAMPUS_TEST_REGISTRY=postgresql) and
against the in-memory fakes the use cases' unit tests rely on: if the fakes drift from
the real store, this fails."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from server.domain.capacity import Limits
from server.domain.sessions import ReaderMode
from server.ports.occupancy import (
    READER_MODES,
    ROOM_KINDS,
    OccupancyUnitOfWork,
    Outage,
    ReaderOutages,
    ReaderRecord,
    RoomInfo,
)
from server.registry import models, occupancy_models
from server.registry.occupancy_store import SqlReaderOutages, occupancy_unit_of_work
from tests.integration.registry.conftest import CAMPUS
from tests.unit.occupancy.fakes import FakeReaderOutages, FakeUnitOfWork, Stored

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
READERS = ("door-1", "door-in", "door-out", "room-1")


@pytest.fixture(params=["registry", "fake"])
def unit_of_work(request: pytest.FixtureRequest) -> Callable[[], OccupancyUnitOfWork]:
    """CAMPUS with its four readers (all toggle doors) and no limits, on each side."""
    if request.param == "fake":
        readers = {(CAMPUS, r): ReaderRecord(CAMPUS, r, "toggle", None) for r in READERS}
        stored = Stored(campuses={CAMPUS: Limits()}, readers=readers)
        return lambda: FakeUnitOfWork(stored)
    settings = request.getfixturevalue("settings")
    return occupancy_unit_of_work(request.getfixturevalue("registry"), settings.presence)


@pytest.fixture(params=["registry", "fake"])
def outages(request: pytest.FixtureRequest) -> ReaderOutages:
    if request.param == "fake":
        return FakeReaderOutages()
    settings = request.getfixturevalue("settings")
    return SqlReaderOutages(request.getfixturevalue("registry"), settings.presence)


def _room(code: str, name: str, hard: int | None = None) -> RoomInfo:
    return RoomInfo(code, name, "group", Limits(capacity=10, soft=8, hard=hard, area_m2=30.0))


def test_the_ports_name_the_registry_s_modes_and_kinds() -> None:
    assert READER_MODES == models.READER_MODES
    assert ROOM_KINDS == occupancy_models.ROOM_KINDS


def test_a_place_is_its_limits_rooms_and_readers(unit_of_work) -> None:
    with unit_of_work() as uow:
        assert uow.places.place_sheet(CAMPUS).limits == Limits()
        uow.places.set_campus_limits(CAMPUS, Limits(40, 35, 40, 120.0), actor="a", at=NOW)
        uow.places.add_room(CAMPUS, _room("salle-b", "B", 10), actor="a", at=NOW)
        uow.places.add_room(CAMPUS, _room("salle-a", "A"), actor="a", at=NOW)
        uow.commit()
    with unit_of_work() as uow:
        place = uow.places.places()[CAMPUS]
        assert place.limits == Limits(40, 35, 40, 120.0)
        assert [(r.code, r.name, r.kind) for r in place.rooms] == [
            ("salle-a", "A", "group"),
            ("salle-b", "B", "group"),
        ]
        assert place.limits_of("salle-b") == Limits(10, 8, 10, 30.0)
        sheet = uow.places.place_sheet(CAMPUS)
        assert [line.code for line in sheet.rooms] == ["salle-a", "salle-b"]
        assert [(r.reader_id, r.mode, r.room_code) for r in sheet.readers] == [
            (reader, "toggle", "") for reader in READERS
        ]
        assert uow.places.campus_ids() == [CAMPUS]
        assert uow.places.room_taken(CAMPUS, name="A", code="x")
        assert uow.places.room_taken(CAMPUS, name="x", code="salle-b")
        assert not uow.places.room_taken(CAMPUS, name="C", code="salle-c")


def test_a_room_is_edited_and_a_reader_linked_to_it(unit_of_work) -> None:
    with unit_of_work() as uow:
        uow.places.add_room(CAMPUS, _room("salle-a", "A"), actor="a", at=NOW)
        uow.places.add_room(CAMPUS, _room("salle-b", "B"), actor="a", at=NOW)
        uow.commit()
    with unit_of_work() as uow:
        (line_a, line_b) = uow.places.place_sheet(CAMPUS).rooms
        room = uow.places.room(line_a.id)
        assert room is not None
        assert (room.campus, room.code, room.name, room.kind, room.soft) == (
            CAMPUS,
            "salle-a",
            "A",
            "group",
            8,
        )
        assert uow.places.name_taken(CAMPUS, "B", other_than=line_a.id)
        assert not uow.places.name_taken(CAMPUS, "A", other_than=line_a.id)
        room.name, room.kind, room.hard = "Calme", "individual", 9
        uow.places.save_room(room)
        assert uow.places.link_reader(CAMPUS, "room-1", "salle-b") == line_b.id
        with pytest.raises(LookupError):
            uow.places.link_reader(CAMPUS, "room-1", "nowhere")
        uow.places.set_door(CAMPUS, "door-in", "in")
        uow.commit()
    with unit_of_work() as uow:
        assert uow.places.room(line_a.id) == room
        assert uow.places.room(line_b.id + 100) is None
        assert uow.places.reader(CAMPUS, "room-1") == ReaderRecord(
            CAMPUS, "room-1", "room", line_b.id
        )
        assert uow.places.reader(CAMPUS, "nobody") is None
        assert uow.places.room_readers() == {(CAMPUS, "room-1"): "salle-b"}
        modes = uow.places.reader_modes()
        assert (modes[(CAMPUS, "door-in")], modes[(CAMPUS, "room-1")]) == (
            ReaderMode.IN,
            ReaderMode.ROOM,
        )


def test_nothing_is_written_without_a_commit(unit_of_work) -> None:
    with unit_of_work() as uow:
        uow.places.add_room(CAMPUS, _room("salle-a", "A"), actor="a", at=NOW)
        uow.places.set_door(CAMPUS, "door-1", "out")
    with unit_of_work() as uow:
        assert uow.places.place_sheet(CAMPUS).rooms == ()
        assert uow.places.reader(CAMPUS, "door-1") == ReaderRecord(CAMPUS, "door-1", "toggle", None)


def test_count_corrections_are_read_back_by_campus_and_time(unit_of_work) -> None:
    moments = [NOW - timedelta(hours=2), NOW - timedelta(hours=1), NOW]
    with unit_of_work() as uow:
        for n, at in enumerate(moments):
            room = "salle-a" if n == 1 else None
            uow.places.record_correction(
                CAMPUS, room, count=10 + n, computed=8, reason=f"r{n}", actor="coord", at=at
            )
        uow.places.record_correction(
            "other", None, count=1, computed=0, reason="x", actor="c", at=NOW
        )
        uow.commit()
    with unit_of_work() as uow:
        since = uow.places.corrections_since(CAMPUS, moments[1])
        assert since == [("salle-a", 3), (None, 4)]
        found = uow.places.corrections_between(CAMPUS, moments[0], moments[1])
        assert [(c.at, c.room, c.computed, c.count, c.reason, c.actor) for c in found] == [
            (moments[1], "salle-a", 8, 11, "r1", "coord"),
            (moments[0], None, 8, 10, "r0", "coord"),
        ]


def test_an_outage_is_noticed_once_and_resolved_once(outages: ReaderOutages) -> None:
    down = Outage(CAMPUS, "door-1", NOW, NOW - timedelta(minutes=3), "silent")
    assert outages.all() == []
    assert outages.notice(down)
    assert not outages.notice(down)  # another process noticed it first
    assert outages.all() == [down]
    assert outages.resolve(CAMPUS, "door-1")
    assert not outages.resolve(CAMPUS, "door-1")
    assert outages.all() == []
    (calendar,) = outages.calendars([CAMPUS]).values()
    assert calendar.tz.key == "Europe/Paris"
