"""The JSON API answers every input with a 4xx and a reason, never a 500: days and weeks
outside the supported years, bodies too large, too deep or not JSON, a campus that does
not exist (the same 400 on every call), a method a path does not take (405 with
``Allow``); a day alone is read in the campus's time zone.

Each of the six inputs that answered 500 on main (issue 18) has its own case below."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient

from server.container import services_of
from server.domain.accounts import Actor, Role
from server.domain.alerts import AlertKind
from server.domain.calendar import FIRST_YEAR, LAST_YEAR
from server.i18n import gettext
from server.registry.alert_repository import AlertRepository
from server.registry.models import Campus
from server.web.api_params import MAX_BODY_BYTES, MAX_BODY_DEPTH
from tests.web.conftest import CAMPUS, MONDAY_0920, OTHER, PARIS
from tests.web.test_coordinator_occupancy import furnish, tap_at

GETS = [
    "/api/v1/presence/weekly?week=2026-W48",
    "/api/v1/occupancy?",
    "/api/v1/occupancy/history?",
    "/api/v1/occupancy/stats?period=day",
    "/api/v1/occupancy/forecast?",
    "/api/v1/readers?",
    "/api/v1/alerts?",
    "/api/v1/alerts/evidence?from=2026-11-23&to=2026-11-29",
]


def _token(world, role: Role = Role.ADMIN, campus: str = "") -> dict[str, str]:
    accounts = services_of(world.app).accounts
    secret, _view = accounts.create_token(
        name=f"{role}-{campus or 'all'}",
        role=role,
        campus_id=campus,
        actor=Actor("t", world.clock()),
    )
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def api(world) -> FlaskClient:
    return world.app.test_client()


@pytest.fixture
def admin(world) -> dict[str, str]:
    return _token(world)


def _absence(world, noticed: datetime | None = None) -> str:
    pk = world.student_pk("E001")
    start = MONDAY_0920.replace(minute=0)
    with world.registry() as session, session.begin():
        repo = AlertRepository(session)
        return repo.add(
            AlertKind.ABSENCE,
            "absence:E001",
            CAMPUS,
            noticed or world.clock(),
            student_pk=pk,
            tutor_id=repo.tutor_of(pk),
            slot_start=start,
            slot_end=start + timedelta(hours=3),
        ).public_id


def _refused(answer, status: int, code: str) -> str:
    assert answer.status_code == status, answer.get_data(as_text=True)[:300]
    assert answer.mimetype == "application/json"
    error = answer.get_json()["error"]
    assert error["code"] == code, error
    assert error["message"]
    return error["message"]


# ----------------------------------------------------------------- the six 500s of issue 18


def test_weekly_presence_of_year_9999_is_a_400(api, admin) -> None:
    answer = api.get("/api/v1/presence/weekly?week=9999-W52", headers=admin)
    message = _refused(answer, 400, "bad_week")
    assert f"{FIRST_YEAR}" in message and f"{LAST_YEAR}" in message


def test_forecast_of_year_9999_is_a_400(api, admin) -> None:
    answer = api.get(f"/api/v1/occupancy/forecast?campus={CAMPUS}&week=9999-W52", headers=admin)
    _refused(answer, 400, "bad_week")


def test_evidence_of_the_last_day_of_9999_is_a_400(api, admin) -> None:
    answer = api.get("/api/v1/alerts/evidence?from=9999-12-31&to=9999-12-31", headers=admin)
    _refused(answer, 400, "bad_from")
    answer = api.get("/api/v1/alerts/evidence?from=2026-11-23&to=9999-12-31", headers=admin)
    _refused(answer, 400, "bad_to")


def test_alerts_since_the_first_day_of_year_1_ahead_of_utc_is_a_400(api, admin) -> None:
    answer = api.get("/api/v1/alerts?since=0001-01-01T00:00:00%2B14:00", headers=admin)
    _refused(answer, 400, "bad_since")


@pytest.mark.parametrize(("period", "day"), [("month", "9999-12-31"), ("week", "0001-01-01")])
def test_stats_of_a_period_at_the_ends_of_the_calendar_is_a_400(api, admin, period, day) -> None:
    answer = api.get(
        f"/api/v1/occupancy/stats?campus={CAMPUS}&period={period}&date={day}", headers=admin
    )
    _refused(answer, 400, "bad_date")


@pytest.mark.parametrize("path", ["calls", "ack"])
def test_a_200_kb_deeply_nested_body_is_refused_not_a_recursion_error(
    world, api, admin, path
) -> None:
    alert = _absence(world)
    deep = "[" * 200_000
    answer = api.post(
        f"/api/v1/alerts/{alert}/{path}", data=deep, content_type="application/json", headers=admin
    )
    _refused(answer, 413, "request_too_large")
    # Within the size limit, deeper than the JSON parser goes: a 400, not a RecursionError.
    within = "[" * 30_000 + "]" * 30_000
    assert len(within) < MAX_BODY_BYTES
    answer = api.post(
        f"/api/v1/alerts/{alert}/{path}",
        data=within,
        content_type="application/json",
        headers=admin,
    )
    assert "imbrique" in _refused(answer, 400, "bad_body")
    nested = {"outcome": "reached", "by": "x"}
    for _level in range(MAX_BODY_DEPTH):
        nested = {"outcome": "reached", "reason": nested}
    answer = api.post(f"/api/v1/alerts/{alert}/{path}", json=nested, headers=admin)
    _refused(answer, 400, "bad_body")
    assert services_of(world.app).alerts.get(alert)["status"] == "open"


def test_history_from_a_day_at_the_ends_of_the_calendar_is_a_400(api, admin) -> None:
    """Found by tests/web/test_api_fuzz.py: 0001-01-01 at Paris midnight is no UTC instant."""
    for query, code in [
        ("from=0001-01-01&to=2026-11-23", "bad_from"),
        ("from=2026-11-23&to=9999-12-31", "bad_to"),
        ("from=1999-12-31&to=2000-01-01", "bad_from"),
    ]:
        answer = api.get(f"/api/v1/occupancy/history?campus={CAMPUS}&{query}", headers=admin)
        _refused(answer, 400, code)
    # The first day of the supported years is before 2000 in UTC: still a supported day.
    first = f"/api/v1/occupancy/history?campus={CAMPUS}&from=2000-01-01&to=2000-01-02"
    assert api.get(first, headers=admin).status_code == 200


# ----------------------------------------------------------------- bodies


def test_a_9_mb_body_is_a_413_that_speaks_of_the_request_not_a_file(world, api, admin) -> None:
    alert = _absence(world)
    body = json.dumps({"outcome": "reached", "reason": "x" * (9 * 1024 * 1024)})
    answer = api.post(
        f"/api/v1/alerts/{alert}/calls", data=body, content_type="application/json", headers=admin
    )
    message = _refused(answer, 413, "request_too_large")
    assert "requête" in message and "fichier" not in message
    assert "request body" in gettext(
        "The request body is too large (at most {size} KB).", "en", size=64
    )
    # Even before the token is looked at, and on a path that takes no body.
    answer = api.post("/api/v1/occupancy/corrections", data=body, content_type="application/json")
    assert answer.status_code == 413


def test_a_body_that_is_not_json_is_a_415(world, api, admin) -> None:
    alert = _absence(world)
    answer = api.post(
        f"/api/v1/alerts/{alert}/calls",
        data="outcome=reached",
        headers=admin,
        content_type="application/x-www-form-urlencoded",
    )
    _refused(answer, 415, "unsupported_media_type")
    answer = api.post(
        f"/api/v1/alerts/{alert}/calls",
        data="{oops",
        content_type="application/json",
        headers=admin,
    )
    _refused(answer, 400, "bad_body")
    answer = api.post(f"/api/v1/alerts/{alert}/ack", headers=admin)  # no body: allowed
    assert answer.status_code == 200


def test_a_call_logged_at_a_time_outside_the_supported_years_is_a_400(world, api, admin) -> None:
    alert = _absence(world)
    for moment in ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00", "2026-11-23T10:00"):
        answer = api.post(
            f"/api/v1/alerts/{alert}/calls",
            json={"outcome": "reached", "called_at": moment},
            headers=admin,
        )
        _refused(answer, 400, "bad_called_at")


@pytest.mark.parametrize("by", ["", "   ", "x" * 255, 3])
def test_who_acts_must_be_named(world, api, admin, by) -> None:
    alert = _absence(world)
    answer = api.post(f"/api/v1/alerts/{alert}/ack", json={"by": by}, headers=admin)
    _refused(answer, 400, "bad_by")


# ----------------------------------------------------------------- campus


@pytest.mark.parametrize("path", GETS)
@pytest.mark.parametrize("campus", ["", "nonexistent", "Campus%20A"])
def test_a_campus_that_does_not_exist_is_the_same_400_everywhere(api, admin, path, campus) -> None:
    answer = api.get(f"{path}&campus={campus}", headers=admin)
    _refused(answer, 400, "bad_campus")


@pytest.mark.parametrize("path", GETS)
def test_another_campus_is_a_403_for_a_token_of_one_campus(world, api, path) -> None:
    mine = _token(world, Role.COORDINATOR, CAMPUS)
    _refused(api.get(f"{path}&campus={OTHER}", headers=mine), 403, "forbidden_campus")
    assert api.get(f"{path}&campus={CAMPUS}", headers=mine).status_code == 200


def test_a_correction_of_an_unknown_or_foreign_campus_is_refused(world, api, admin) -> None:
    mine = _token(world, Role.COORDINATOR, CAMPUS)
    for campus, headers, status, code in [
        ("", admin, 400, "bad_campus"),
        ("nonexistent", admin, 400, "bad_campus"),
        (None, admin, 400, "bad_campus"),
        (["x"], admin, 400, "bad_campus"),
        (OTHER, mine, 403, "forbidden_campus"),
        ("nonexistent", mine, 403, "forbidden_campus"),  # it learns nothing of others
    ]:
        body = {"campus": campus, "count": 1, "reason": "comptage"}
        answer = api.post("/api/v1/occupancy/corrections", json=body, headers=headers)
        _refused(answer, status, code)


# ----------------------------------------------------------------- methods


def test_a_method_a_path_does_not_take_is_a_405_with_allow(world, api, admin) -> None:
    alert = _absence(world)
    answer = api.get(f"/api/v1/alerts/{alert}/calls", headers=admin)
    _refused(answer, 405, "method_not_allowed")
    assert set(answer.headers["Allow"].replace(" ", "").split(",")) == {"POST", "OPTIONS"}
    answer = api.delete("/api/v1/alerts", headers=admin)
    _refused(answer, 405, "method_not_allowed")
    assert "GET" in answer.headers["Allow"]
    answer = api.put("/api/v1/openapi.json")
    assert answer.status_code == 405 and "GET" in answer.headers["Allow"]


# ----------------------------------------------------------------- days in the campus's zone


def test_a_day_alone_is_read_in_the_campus_time_zone_across_a_dst_change(world, api, admin):
    """Sunday 29 March 2026, Paris goes from +01:00 to +02:00 at 02:00: the local day runs
    from 23:00 UTC the day before to 22:00 UTC. The occupancy service writes a sample when
    a tap is the first of a local day: one at 00:30 Paris on the 29th (23:30 UTC on the
    28th) belongs to ``from=2026-03-29``; one at 00:30 Paris on the 30th (22:30 UTC on the
    29th) is past ``to=2026-03-30`` (read as UTC midnights, both would be the other way)."""
    furnish(world)
    first_of_29th = datetime(2026, 3, 29, 0, 30, tzinfo=PARIS)
    first_of_30th = datetime(2026, 3, 30, 0, 30, tzinfo=PARIS)
    tap_at(world, "E001", first_of_29th)
    tap_at(world, "E002", first_of_30th)
    world.clock.set(datetime(2026, 4, 1, 12, 0, tzinfo=PARIS))

    def seen(query: str) -> list[str]:
        answer = api.get(f"/api/v1/occupancy/history?campus={CAMPUS}&{query}", headers=admin)
        assert answer.status_code == 200, answer.get_json()
        return [point["at"] for point in answer.get_json()["points"]]

    both = ["2026-03-28T23:30:00.000Z", "2026-03-29T22:30:00.000Z"]
    assert seen("from=2026-03-28&to=2026-03-31") == both  # the samples exist
    assert seen("from=2026-03-29&to=2026-03-30") == both[:1]
    assert seen("from=2026-03-30&to=2026-03-31") == both[1:]
    stats = api.get(
        f"/api/v1/occupancy/stats?campus={CAMPUS}&period=day&date=2026-03-29", headers=admin
    ).get_json()
    assert (stats["start"], stats["end"]) == (
        "2026-03-28T23:00:00.000Z",
        "2026-03-29T22:00:00.000Z",
    )


def test_a_time_without_offset_is_a_wall_clock_time_of_the_campus(world, api, admin) -> None:
    furnish(world)
    tap_at(world, "E001", datetime(2026, 3, 29, 3, 30, tzinfo=PARIS))  # 01:30 UTC, after DST
    world.clock.set(datetime(2026, 4, 1, 12, 0, tzinfo=PARIS))
    query = f"campus={CAMPUS}&from=2026-03-29T03:00:00&to=2026-03-29T04:00:00"
    points = api.get(f"/api/v1/occupancy/history?{query}", headers=admin).get_json()["points"]
    assert [p["at"] for p in points] == ["2026-03-29T01:30:00.000Z"]


def test_days_are_read_in_the_campus_time_zone_not_utc(world, api, admin) -> None:
    """The campus's time zone is the settings' (docs/campus-settings.md), Paris here: its
    24 November runs from 23:00 UTC on the 23rd. An absence noticed at 23:30 UTC on the
    23rd is on the 24th there (on the 23rd in UTC); a stale copy of another zone in the
    ``campuses`` table changes nothing."""
    with world.registry() as session, session.begin():
        session.get(Campus, CAMPUS).timezone = "America/Cayenne"
    _absence(world, noticed=datetime(2026, 11, 23, 23, 30, tzinfo=UTC))
    query = f"campus={CAMPUS}&from=2026-11-24&to=2026-11-24"
    evidence = api.get(f"/api/v1/alerts/evidence?{query}", headers=admin).get_json()
    assert evidence["total"]["absences_noticed"] == 1
    query = f"campus={CAMPUS}&from=2026-11-23&to=2026-11-23"
    evidence = api.get(f"/api/v1/alerts/evidence?{query}", headers=admin).get_json()
    assert evidence["total"]["absences_noticed"] == 0
    stats = api.get(
        f"/api/v1/occupancy/stats?campus={CAMPUS}&period=day&date=2026-11-24", headers=admin
    ).get_json()
    assert stats["start"] == "2026-11-23T23:00:00.000Z"
