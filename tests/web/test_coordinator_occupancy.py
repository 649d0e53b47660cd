"""Occupancy pages: counts after real taps against the campus and room capacities, the
live fragment, the readers' health, the history chart and the heatmap (inline SVG with
a data table), and refused parameters."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from server.container import services_of
from server.domain.capacity import Limits
from server.domain.events import ReaderStatusRecord
from server.registry.occupancy_repository import OccupancyRepository, RoomInfo
from tests.web.conftest import CAMPUS, DOOR, OTHER, PARIS, ROOM


def at(hour: int, minute: int = 0, day: int = 23) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=PARIS)


def furnish(world, *, campus_capacity: int = 30, room_capacity: int = 12) -> None:
    """The campus holds 30 people; room ``salle-1`` (12 places) is behind its reader."""
    with world.registry() as session, session.begin():
        repo = OccupancyRepository(session)
        now = world.clock()
        repo.set_campus_limits(
            CAMPUS, Limits(capacity=campus_capacity, area_m2=120), actor="t", at=now
        )
        repo.add_room(
            CAMPUS,
            RoomInfo("salle-1", "Salle de travail", "individual", Limits(capacity=room_capacity)),
            actor="t",
            at=now,
        )
        repo.link_reader(CAMPUS, ROOM, "salle-1")
    # The service runs from 08:00 (as its minute job would): every change is a sample.
    world.clock.set(at(8, 0))
    services_of(world.app).occupancy.tick(at(8, 0))


def tap_at(world, student_id: str, moment: datetime, *, reader: str = DOOR) -> None:
    """A tap received when it is made (the occupancy history is timed by the clock)."""
    world.clock.set(moment)
    world.tap(student_id, moment, reader=reader)


def test_counts_against_capacity(world, client_as) -> None:
    furnish(world)
    tap_at(world, "E001", at(9, 5))
    tap_at(world, "E002", at(9, 10))
    tap_at(world, "E001", at(9, 12), reader=ROOM)
    page = client_as("coord").get("/coordinator/occupancy").get_data(as_text=True)
    assert '<p class="kpi">2 / 30</p>' in page
    assert '<meter class="gauge" min="0" max="30" value="2"' in page
    assert "Salle de travail" in page and '<p class="kpi">1 / 12</p>' in page
    assert page.count("Sous la limite") == 2
    assert f'data-live-url="/coordinator/occupancy/live?campus={CAMPUS}"' in page
    assert 'data-live-every="10"' in page and 'data-live-status="live-status"' in page


def test_a_full_room_says_so_in_words(world, client_as) -> None:
    furnish(world, room_capacity=2)
    for student in ("E001", "E002"):
        tap_at(world, student, at(9, 5))
        tap_at(world, student, at(9, 6), reader=ROOM)
    page = client_as("coord").get("/coordinator/occupancy").get_data(as_text=True)
    assert '<p class="kpi">2 / 2</p>' in page
    assert '<span class="status status-danger">Complet</span>' in page


def test_the_live_fragment_follows_the_taps(world, client_as) -> None:
    furnish(world)
    coord = client_as("coord")
    before = coord.get("/coordinator/occupancy/live").get_data(as_text=True)
    assert "<html" not in before and '<p class="kpi">0 / 30</p>' in before
    tap_at(world, "E003", at(9, 30))
    after = coord.get("/coordinator/occupancy/live").get_data(as_text=True)
    assert '<p class="kpi">1 / 30</p>' in after


def test_other_campus_counts_stay_there(world, client_as) -> None:
    furnish(world)
    tap_at(world, "E005", at(9, 5))
    mine = client_as("coord").get("/coordinator/occupancy/live").get_data(as_text=True)
    theirs = client_as("coord-other").get("/coordinator/occupancy/live").get_data(as_text=True)
    assert '<p class="kpi">0 / 30</p>' in mine
    assert '<p class="kpi">1</p>' in theirs and "Aucune capacité définie." in theirs
    admin = client_as("admin").get(f"/coordinator/occupancy/live?campus={OTHER}")
    assert '<p class="kpi">1</p>' in admin.get_data(as_text=True)


def test_readers_health(world, client_as) -> None:
    moment = at(9, 19)
    world.server.ingest.store.write_statuses(
        [ReaderStatusRecord(CAMPUS, DOOR, "online", moment, moment)]
    )
    page = client_as("coord").get("/coordinator/occupancy").get_data(as_text=True)
    rows = dict(re.findall(r'<th scope="row">([^<]+)</th>(.*?)</tr>', page, re.DOTALL))
    assert set(rows) == {DOOR, ROOM}
    assert "En ligne" in rows[DOOR] and "23 nov. 2026, 09:19" in rows[DOOR]
    assert "Aucun signal reçu" in rows[ROOM] and "jamais" in rows[ROOM]


def test_history_chart_heatmap_and_tables(world, client_as) -> None:
    furnish(world)
    tap_at(world, "E001", at(9, 0))
    tap_at(world, "E002", at(9, 30))
    tap_at(world, "E001", at(10, 0))
    world.clock.set(at(11, 0))
    answer = client_as("coord").get("/coordinator/occupancy/history?from=2026-11-23&to=2026-11-23")
    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    assert page.count('role="img"') == 2
    assert 'aria-label="Occupation du campus du lundi 23 novembre 2026' in page
    assert "pic 2, capacité 30" in page
    assert "<title>" in page and "<script" not in page.split("<main", 1)[1]
    # the hour table: 09h peak 2 (mean 1.5), 10h peak 1
    row = r'<th scope="row">23 nov. 2026, (\d\d):00</th><td class="num">(\d+)</td>'
    hours = re.findall(row + r'<td class="num">([\d,]+)</td>', page)
    assert hours == [("09", "2", "1,5"), ("10", "1", "1")]
    # the heatmap table: Monday 9h is 1.5 on average, 10h is 1
    monday = re.search(r'<th scope="row">lun\.</th>(.*?)</tr>', page, re.DOTALL)[1]
    assert ">1,5<" in monday and ">1<" in monday


@pytest.mark.parametrize(
    "query, message",
    [
        ("from=2026-11-24&to=2026-11-23", "La date de fin ne peut pas précéder"),
        ("from=lundi", "Une date est attendue"),
        ("from=2021-11-23&to=2026-11-23", "au plus 5 ans"),
    ],
)
def test_history_refuses_bad_days(client_as, query: str, message: str) -> None:
    answer = client_as("coord").get(f"/coordinator/occupancy/history?{query}")
    assert answer.status_code == 400
    assert message in answer.get_data(as_text=True)


def test_a_week_of_history(world, client_as) -> None:
    furnish(world)
    tap_at(world, "E001", at(9, 0))
    answer = client_as("admin").get(
        f"/coordinator/occupancy/history?campus={CAMPUS}&from=2026-11-23&to=2026-11-29"
    )
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "lun. 23" in page and "dim. 29" in page  # one tick a day
