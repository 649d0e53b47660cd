"""The occupancy use cases (the admin's place page, the reader watch, the day's count
corrections) on in-memory fakes of their ports: no database."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from server.config import PresenceSettings
from server.domain.accounts import Actor
from server.domain.capacity import Limits
from server.domain.errors import DomainError
from server.domain.events import OccupancySample, ReaderStatusRecord, StoredTap
from server.ports.occupancy import ReaderRecord, RoomInfo
from server.services.occupancy.admin_places import PlacesAdmin
from server.services.occupancy.coordinator_corrections import corrections_today
from server.services.occupancy.occupancy import OccupancyService
from server.services.occupancy.reader_watch import ReaderDown, ReaderWatch
from tests.unit.occupancy.fakes import FakeReaderOutages, FakeUnitOfWork, Stored

CAMPUS = "saint-marcellin"
NOW = datetime(2026, 12, 7, 9, 15, tzinfo=UTC)
ADMIN = Actor("admin@example.org", NOW)
PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
def stored() -> Stored:
    return Stored(
        campuses={CAMPUS: Limits(), "other": Limits()},
        readers={
            (CAMPUS, "door-1"): ReaderRecord(CAMPUS, "door-1", "toggle", None),
            (CAMPUS, "salle-1"): ReaderRecord(CAMPUS, "salle-1", "toggle", None),
        },
    )


@pytest.fixture
def admin(stored: Stored) -> PlacesAdmin:
    return PlacesAdmin(lambda: FakeUnitOfWork(stored))


def _room(code: str = "salle-calme", name: str = "Salle calme") -> RoomInfo:
    return RoomInfo(code, name, "individual", Limits(capacity=12, soft=10, hard=12))


def test_a_room_is_added_once_and_audited(admin: PlacesAdmin, stored: Stored) -> None:
    admin.add_room(CAMPUS, _room(), ADMIN)
    (line,) = admin.place_sheet(CAMPUS).rooms
    assert (line.code, line.name, line.kind, line.limits.hard) == (
        "salle-calme",
        "Salle calme",
        "individual",
        12,
    )
    assert [entry["action"] for entry in stored.audit] == ["room_added"]
    for clash in (_room(name="Autre nom"), _room(code="autre-code")):
        with pytest.raises(DomainError, match="already has this name or code"):
            admin.add_room(CAMPUS, clash, ADMIN)
    assert (len(stored.rooms), stored.commits) == (1, 1)
    admin.add_room("other", _room(), ADMIN)  # the same code in another campus
    assert len(stored.rooms) == 2


def test_an_edited_room_keeps_its_code_and_is_audited_before_and_after(
    admin: PlacesAdmin, stored: Stored
) -> None:
    admin.add_room(CAMPUS, _room(), ADMIN)
    admin.add_room(CAMPUS, _room("salle-2", "Salle 2"), ADMIN)
    (room_id,) = [rid for rid, room in stored.rooms.items() if room.code == "salle-calme"]
    admin.edit_room(
        CAMPUS, room_id, name="Salle du fond", kind="group", limits=Limits(20), actor=ADMIN
    )
    room = stored.rooms[room_id]
    assert (room.code, room.name, room.kind, room.capacity, room.hard) == (
        "salle-calme",
        "Salle du fond",
        "group",
        20,
        None,
    )
    entry = stored.audit[-1]
    assert (entry["action"], entry["entity_id"]) == ("room_updated", f"{CAMPUS}/salle-calme")
    assert (entry["before"]["name"], entry["after"]["name"]) == ("Salle calme", "Salle du fond")
    with pytest.raises(DomainError, match="already has this name"):
        admin.edit_room(CAMPUS, room_id, name="Salle 2", kind="group", limits=Limits(), actor=ADMIN)
    with pytest.raises(DomainError, match="There is no such room"):
        admin.edit_room("other", room_id, name="X", kind="group", limits=Limits(), actor=ADMIN)
    assert stored.rooms[room_id].name == "Salle du fond"


def test_a_reader_becomes_a_room_reader_then_a_door_again(
    admin: PlacesAdmin, stored: Stored
) -> None:
    admin.add_room(CAMPUS, _room(), ADMIN)
    admin.set_reader(CAMPUS, "salle-1", mode="room", room_code="salle-calme", actor=ADMIN)
    (line,) = [r for r in admin.place_sheet(CAMPUS).readers if r.reader_id == "salle-1"]
    assert (line.mode, line.room_code) == ("room", "salle-calme")
    linked = stored.audit[-1]
    assert linked["after"] == {
        "mode": "room",
        "room_id": stored.readers[(CAMPUS, "salle-1")].room_id,
    }
    admin.set_reader(CAMPUS, "salle-1", mode="in", room_code="", actor=ADMIN)
    assert stored.readers[(CAMPUS, "salle-1")] == ReaderRecord(CAMPUS, "salle-1", "in", None)
    assert stored.audit[-1]["before"]["mode"] == "room"


@pytest.mark.parametrize(
    ("reader", "mode", "room", "message"),
    [
        ("door-1", "sideways", "", "Choose one of the proposed values."),
        ("door-1", "room", "", "A room reader needs its room; a door reader has none."),
        ("door-1", "in", "salle-calme", "A room reader needs its room; a door reader has none."),
        ("door-9", "in", "", "There is no such reader."),
        ("door-1", "room", "nowhere", "There is no such room."),
    ],
)
def test_a_wrong_reader_change_is_refused_and_nothing_is_stored(
    admin: PlacesAdmin, stored: Stored, reader: str, mode: str, room: str, message: str
) -> None:
    before = dict(stored.readers)
    with pytest.raises(DomainError) as refused:
        admin.set_reader(CAMPUS, reader, mode=mode, room_code=room, actor=ADMIN)
    assert refused.value.message == message
    assert (stored.readers, stored.audit, stored.commits) == (before, [], 0)


def test_the_campus_limits_are_audited_with_what_they_were(
    admin: PlacesAdmin, stored: Stored
) -> None:
    admin.set_campus_limits(CAMPUS, Limits(40, 35, 40, 120.0), ADMIN)
    admin.set_campus_limits(CAMPUS, Limits(50, 45, 50, 120.0), ADMIN)
    assert admin.place_sheet(CAMPUS).limits == Limits(50, 45, 50, 120.0)
    first, second = stored.audit
    assert first["before"] is None
    assert second["before"] == {"capacity": 40, "soft": 35, "hard": 40}


def test_the_days_corrections_are_read_back_newest_first(stored: Stored) -> None:
    occupancy = OccupancyService(
        lambda: FakeUnitOfWork(stored),
        None,  # type: ignore[arg-type]  # no tap is read to list corrections
        PresenceSettings(),
    )
    moments = [NOW - timedelta(days=1), NOW - timedelta(hours=1), NOW - timedelta(minutes=5)]
    for n, at in enumerate(moments):
        with FakeUnitOfWork(stored) as uow:
            uow.places.record_correction(
                CAMPUS, None if n else "salle-1", count=n, computed=5, reason="r", actor="c", at=at
            )
            uow.commit()
    found = corrections_today(occupancy, CAMPUS, NOW, PARIS)
    assert [(c.at, c.room, c.computed, c.count) for c in found] == [
        (moments[2], None, 5, 2),
        (moments[1], None, 5, 1),
    ]


class Statuses:
    """The one event-store read the reader watch makes: each reader's last status."""

    def __init__(self) -> None:
        self.latest: list[ReaderStatusRecord] = []

    def latest_statuses(self) -> list[ReaderStatusRecord]:
        return list(self.latest)


class Heard:
    def __init__(self) -> None:
        self.events: list[ReaderDown] = []

    def reader_down(self, event: ReaderDown) -> None:
        self.events.append(event)


def test_an_outage_is_raised_once_and_resolved_once_whichever_process_watches() -> None:
    outages, statuses = FakeReaderOutages(), Statuses()
    heard_a, heard_b = Heard(), Heard()
    a = ReaderWatch(outages, statuses, notifier=heard_a)  # type: ignore[arg-type]
    b = ReaderWatch(outages, statuses, notifier=heard_b)  # type: ignore[arg-type]
    statuses.latest = [ReaderStatusRecord(CAMPUS, "door-1", "online", NOW, NOW, heartbeat=60)]
    assert a.check(NOW + timedelta(minutes=1)) == []  # one heartbeat missed: not down yet
    # silent for more than two heartbeats: down (the campus has no hours: always open)
    later = NOW + timedelta(minutes=3)
    assert [(e.reader, e.reader_state) for e in a.check(later)] == [("door-1", "silent")]
    assert b.check(later + timedelta(minutes=1)) == []  # already noticed
    assert list(b.current(later)) == [(CAMPUS, "door-1")]
    back = later + timedelta(minutes=2)
    statuses.latest = [ReaderStatusRecord(CAMPUS, "door-1", "online", back, back, heartbeat=60)]
    assert [e.resolved for e in b.check(back)] == [True]
    assert a.check(back) == [] and outages.outages == {}
    assert [e.resolved for e in heard_a.events + heard_b.events] == [False, True]


@dataclass(frozen=True, slots=True)
class Holding:
    badge_hash: str
    student_pk: int

    def holds_at(self, moment: datetime) -> bool:
        return True


class Taps:
    """The event-store calls the live occupancy makes: the stored taps of a span, and
    the count history it writes."""

    def __init__(self) -> None:
        self.stored: list[StoredTap] = []
        self.samples: list[OccupancySample] = []

    def add(self, badge: str, at: datetime) -> StoredTap:
        tap = StoredTap(f"t{len(self.stored)}", CAMPUS, "door-1", badge, at, len(self.stored), at)
        self.stored.append(tap)
        return tap

    def taps(self, start: datetime, end: datetime, *, campus: str | None = None) -> list[StoredTap]:
        return [t for t in self.stored if start <= t.ts < end and campus in (None, t.campus)]

    def write_occupancy(self, samples: list[OccupancySample]) -> None:
        self.samples.extend(samples)


def test_live_counts_are_derived_from_the_stored_taps_and_corrections_survive_a_restart(
    stored: Stored,
) -> None:
    stored.holdings = {CAMPUS: [Holding("badge-a", 1), Holding("badge-b", 2)]}
    events = Taps()
    published: list[tuple[str, bytes]] = []

    def service() -> OccupancyService:
        return OccupancyService(
            lambda: FakeUnitOfWork(stored),
            events,  # type: ignore[arg-type]
            PresenceSettings(),
            publish=lambda topic, payload: published.append((topic, payload)),
        )

    live = service()
    batch = [events.add("badge-a", NOW), events.add("badge-b", NOW + timedelta(seconds=5))]
    live.taps_stored(batch, NOW + timedelta(seconds=6))
    events.add("unknown-badge", NOW + timedelta(seconds=7))  # nobody's: not counted
    (campus,) = [
        z for z in live.current(NOW + timedelta(seconds=8), campus=CAMPUS) if z.room is None
    ]
    assert campus.count.count == 2
    assert [sample.count for sample in events.samples if sample.room is None][-1] == 2
    assert json.loads(published[-1][1])["count"] == 2
    live.correct(CAMPUS, None, 5, reason="headcount", actor="coord", now=NOW + timedelta(minutes=1))
    (entry,) = [e for e in stored.audit if e["action"] == "occupancy_correction"]
    assert entry["after"] == {"count": 5, "adjustment": 3, "reason": "headcount"}
    restarted = service()  # another process, or this one after a restart
    (campus,) = [
        z for z in restarted.current(NOW + timedelta(minutes=2), campus=CAMPUS) if z.room is None
    ]
    assert campus.count.count == 5
