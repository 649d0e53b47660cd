"""API tokens keep to their campus: a token of campus A never reads nor changes campus B
(weekly presence, occupancy, readers, alerts and their evidence); a token of every
campus sees them all."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask.testing import FlaskClient

from server.container import services_of
from server.domain.accounts import Actor, Role
from server.domain.alerts import AlertKind
from server.registry.alert_repository import AlertRepository
from tests.web.conftest import CAMPUS, MONDAY_0920, OTHER

WEEK = "/api/v1/presence/weekly?week=2026-W48"
SLOT_START = MONDAY_0920.replace(minute=0)


def _token(world, role: Role = Role.COORDINATOR, campus: str = CAMPUS) -> dict[str, str]:
    accounts = services_of(world.app).accounts
    secret, _view = accounts.create_token(
        name=f"{role}-{campus or 'all'}",
        role=role,
        campus_id=campus,
        actor=Actor("t", world.clock()),
    )
    return {"Authorization": f"Bearer {secret}"}


def _absence(world, student_id: str) -> str:
    """A stored absence alert of the student's campus (as the watcher would raise)."""
    pk = world.student_pk(student_id)
    with world.registry() as session, session.begin():
        repo = AlertRepository(session)
        row = repo.add(
            AlertKind.ABSENCE,
            f"absence:{student_id}",
            OTHER if student_id == "E005" else CAMPUS,
            world.clock(),
            student_pk=pk,
            tutor_id=repo.tutor_of(pk),
            slot_start=SLOT_START,
            slot_end=SLOT_START + timedelta(hours=3),
        )
        return row.public_id


def _reader_down(world, campus: str, reader: str) -> str:
    with world.registry() as session, session.begin():
        row = AlertRepository(session).add(
            AlertKind.READER_DOWN,
            f"down:{campus}:{reader}",
            campus,
            world.clock(),
            reader_id=reader,
        )
        return row.public_id


@pytest.fixture
def api(world) -> FlaskClient:
    return world.app.test_client()


def test_weekly_presence_is_the_token_campus_only(world, api) -> None:
    mine = api.get(WEEK, headers=_token(world)).get_json()
    assert [line["student_id"] for line in mine["students"]] == ["E001", "E002", "E003", "E004"]
    assert mine["campus"] == CAMPUS
    refused = api.get(f"{WEEK}&campus={OTHER}", headers=_token(world))
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "forbidden_campus"
    other = api.get(WEEK, headers=_token(world, campus=OTHER)).get_json()
    assert [line["student_id"] for line in other["students"]] == ["E005"]
    everyone = api.get(WEEK, headers=_token(world, Role.ADMIN, "")).get_json()
    assert len(everyone["students"]) == 5


def test_csv_of_another_campus_is_refused(world, api) -> None:
    answer = api.get(f"{WEEK}&format=csv&campus={OTHER}", headers=_token(world))
    assert answer.status_code == 403


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/occupancy",
        "/api/v1/occupancy/history",
        "/api/v1/occupancy/stats?period=day",
        "/api/v1/occupancy/forecast",
        "/api/v1/readers",
        "/api/v1/alerts",
        "/api/v1/alerts/evidence?from=2026-11-23&to=2026-11-29",
    ],
)
def test_asking_for_another_campus_is_forbidden(world, api, path: str) -> None:
    joiner = "&" if "?" in path else "?"
    answer = api.get(f"{path}{joiner}campus={OTHER}", headers=_token(world))
    assert answer.status_code == 403
    assert answer.get_json()["error"]["code"] == "forbidden_campus"
    assert (
        api.get(f"{path}{joiner}campus={OTHER}", headers=_token(world, campus=OTHER)).status_code
        == 200
    )


def test_occupancy_defaults_to_the_token_campus(world, api) -> None:
    headers = _token(world)
    now = api.get("/api/v1/occupancy", headers=headers).get_json()
    assert [entry["campus"] for entry in now["campuses"]] == [CAMPUS]
    # Two campuses exist: without the scope, history would need ?campus=.
    assert api.get("/api/v1/occupancy/history", headers=headers).get_json()["campus"] == CAMPUS
    assert api.get("/api/v1/occupancy/forecast", headers=headers).get_json()["campus"] == CAMPUS
    admin = _token(world, Role.ADMIN, "")
    everything = api.get("/api/v1/occupancy", headers=admin).get_json()
    assert sorted(entry["campus"] for entry in everything["campuses"]) == [OTHER, CAMPUS]
    assert api.get("/api/v1/occupancy/history", headers=admin).status_code == 400


def test_readers_are_the_token_campus_only(world, api) -> None:
    readers = api.get("/api/v1/readers", headers=_token(world)).get_json()["readers"]
    assert sorted((item["campus"], item["reader"]) for item in readers) == [
        (CAMPUS, "door-1"),
        (CAMPUS, "salle-1"),
    ]
    others = api.get("/api/v1/readers", headers=_token(world, campus=OTHER)).get_json()
    assert [item["reader"] for item in others["readers"]] == ["door-9"]


def test_a_count_of_another_campus_cannot_be_corrected(world, api) -> None:
    body = {"campus": OTHER, "room": None, "count": 3, "reason": "comptage à la main"}
    refused = api.post("/api/v1/occupancy/corrections", json=body, headers=_token(world))
    assert refused.status_code == 403
    occupancy = services_of(world.app).occupancy
    (reading,) = [r for r in occupancy.current(world.clock(), campus=OTHER) if r.room is None]
    assert reading.count.count == 0
    body["campus"] = CAMPUS
    done = api.post("/api/v1/occupancy/corrections", json=body, headers=_token(world))
    assert done.status_code == 200 and done.get_json()["count"] == 3


def test_alerts_are_listed_by_campus_of_their_student_or_reader(world, api) -> None:
    mine = {_absence(world, "E001"), _absence(world, "E004"), _reader_down(world, CAMPUS, "door-1")}
    theirs = {_absence(world, "E005"), _reader_down(world, OTHER, "door-9")}
    listed = api.get("/api/v1/alerts?status=all", headers=_token(world)).get_json()["alerts"]
    assert {alert["id"] for alert in listed} == mine
    other = _token(world, campus=OTHER)
    listed = api.get("/api/v1/alerts?status=all", headers=other).get_json()["alerts"]
    assert {alert["id"] for alert in listed} == theirs
    admin = _token(world, Role.ADMIN, "")
    listed = api.get("/api/v1/alerts?status=all", headers=admin).get_json()["alerts"]
    assert {alert["id"] for alert in listed} == mine | theirs


def test_an_alert_of_another_campus_cannot_be_acknowledged_nor_called(world, api) -> None:
    theirs = _absence(world, "E005")
    headers = _token(world)
    refused = api.post(f"/api/v1/alerts/{theirs}/ack", headers=headers)
    assert refused.status_code == 404
    call = {"outcome": "reached", "by": "alice@campus.test"}
    assert api.post(f"/api/v1/alerts/{theirs}/calls", json=call, headers=headers).status_code == 404
    alert = services_of(world.app).alerts.get(theirs)
    assert alert["status"] == "open" and alert["calls"] == []
    answer = api.post(
        f"/api/v1/alerts/{theirs}/calls", json=call, headers=_token(world, campus=OTHER)
    )
    assert answer.status_code == 201 and answer.get_json()["status"] == "closed"


def test_the_evidence_counts_only_the_token_campus(world, api) -> None:
    for student_id in ("E001", "E002", "E005"):
        _absence(world, student_id)
    path = "/api/v1/alerts/evidence?from=2026-11-23&to=2026-11-29"
    mine = api.get(path, headers=_token(world)).get_json()
    assert mine["total"]["absences_noticed"] == 2
    assert [line["tutor"] for line in mine["tutors"]] == ["Alice"]  # by name
    theirs = api.get(path, headers=_token(world, campus=OTHER)).get_json()
    assert theirs["total"]["absences_noticed"] == 1
    everything = api.get(path, headers=_token(world, Role.ADMIN, "")).get_json()
    assert everything["total"]["absences_noticed"] == 3
