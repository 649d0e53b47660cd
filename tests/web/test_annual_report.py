"""The annual report on the real composition (SQLite registry and event store): the
coordinator's page, its print-ready version, the XLSX workbook (read back with
openpyxl), the region side by side, the API, the CLI, and the merge of exported grids
(bad files refused, nothing written)."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook

from server.container import services_of
from server.domain import annual_report as rules
from server.domain.accounts import Actor, Role
from server.entrypoints.cli import main
from server.web import app as web
from tests.web.conftest import CAMPUS, MONDAY_0920, OTHER, SECRET

YEAR = "2026-2027"


def _rows(data: bytes) -> dict[str, list[object]]:
    """The visible sheet by key (hidden column A): the campuses' figures."""
    book = load_workbook(io.BytesIO(data))
    sheet = book.worksheets[0]
    return {
        str(row[0]): list(row[2:]) for row in sheet.iter_rows(values_only=True) if row and row[0]
    }


def _attend(world) -> None:
    """E001 attends Monday's slot 09:00-12:00 (taps through the real ingest)."""
    world.tap("E001", MONDAY_0920.replace(hour=9, minute=0))
    world.tap("E001", MONDAY_0920.replace(hour=12, minute=0))


def test_the_coordinator_sees_the_grid_and_each_criterion(world, client_as) -> None:
    _attend(world)
    world.clock.set(MONDAY_0920 + timedelta(hours=4))
    page = client_as("coord").get(f"/coordinator/annual/?year={YEAR}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Campus de test" in html
    # 4 students at test-campus, all public, 2 tutors: 15 students not met, the others met
    assert 'id="indicator-headcount"' in html
    assert 'id="criterion-min_students"' in html
    criterion = html.split('id="criterion-min_students"')[1].split("</tr>")[0]
    assert "non atteint" in criterion and ">4 <" in criterion
    per_tutor = html.split('id="criterion-students_per_tutor"')[1].split("</tr>")[0]
    assert "atteint" in per_tutor and "non atteint" not in per_tutor
    assert "<svg" in html  # the charts
    workshops = html.split('id="indicator-workshops"')[1].split("</tr>")[0]
    assert '<td class="num">0</td>' in workshops  # the activity log is kept: none yet
    median = html.split('id="indicator-median_minutes_to_call"')[1].split("</tr>")[0]
    assert "non renseigné" in median  # no absence, no call: nothing to measure


def test_the_print_ready_page_and_the_css_for_print(world, client_as) -> None:
    client = client_as("coord")
    page = client.get(f"/coordinator/annual/print?year={YEAR}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "annual-report printing" in html
    assert 'name="year"' not in html  # no form on paper
    css = (Path(web.__file__).parent / "static" / "app.css").read_text(encoding="utf-8")
    assert ".annual-report form" in css.split("@media print")[-1]


def test_the_workbook_holds_the_figures_and_the_format(world, client_as) -> None:
    _attend(world)
    world.clock.set(MONDAY_0920 + timedelta(hours=4))
    answer = client_as("coord").get(f"/coordinator/annual/export?year={YEAR}&format=xlsx")
    assert answer.status_code == 200
    assert answer.mimetype.endswith("spreadsheetml.sheet")
    rows = _rows(answer.data)
    assert rows["headcount"] == [4]
    assert rows["public_share"] == [1]
    assert rows["students_per_tutor"] == [2]
    assert rows["min_students.met"] == ["non atteint"]
    assert rows["hours_attended"][0] >= 3  # Monday's three hours at least
    assert rows["workshops"] == [0]
    assert rows["median_minutes_to_call"] == ["non renseigné"]
    book = load_workbook(io.BytesIO(answer.data))
    data = book["data"]
    assert data.sheet_state == "hidden"
    assert (data["A1"].value, data["B1"].value) == ("format", rules.FORMAT_ID)
    assert data["B2"].value == rules.FORMAT_VERSION


def test_a_coordinator_of_another_campus_is_refused(world, client_as) -> None:
    client = client_as("coord-other")
    assert client.get(f"/coordinator/annual/?year={YEAR}&campus={CAMPUS}").status_code == 403
    assert client.get(f"/coordinator/annual/region?year={YEAR}").status_code == 403
    assert client_as("alice").get(f"/coordinator/annual/?year={YEAR}").status_code == 403


def test_bad_periods_are_refused_with_a_reason(world, client_as) -> None:
    client = client_as("coord")
    answer = client.get("/coordinator/annual/?from=2020-09-01&to=2026-08-31")
    assert answer.status_code == 400
    assert "5 ans" in answer.get_data(as_text=True)
    assert client.get("/coordinator/annual/?year=2026-2028").status_code == 400


def test_an_academic_year_without_data_is_an_empty_valid_report(world, client_as) -> None:
    answer = client_as("coord").get("/coordinator/annual/export?year=2019-2020&format=json")
    assert answer.status_code == 200
    grid = rules.from_dict(answer.get_json())
    assert grid.indicators["headcount"] == 0
    assert grid.indicators["hours_committed"] == 0
    assert grid.trend[-1] == ("2019-2020", 0)


def test_the_region_shows_every_campus_side_by_side(world, client_as) -> None:
    client = client_as("admin")
    assert "/coordinator/annual/region?year=" in client.get(
        f"/coordinator/annual/?year={YEAR}"
    ).get_data(as_text=True)
    assert "/coordinator/annual/region" not in client_as("coord").get(
        "/coordinator/annual/"
    ).get_data(as_text=True)
    page = client.get(f"/coordinator/annual/region?year={YEAR}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Campus de test" in html and "Autre campus" in html
    rows = _rows(client.get(f"/coordinator/annual/region?year={YEAR}&format=xlsx").data)
    assert rows["headcount"] == [1, 4]  # Autre campus, Campus de test (by id)


def _token(world, role: Role, campus: str) -> dict[str, str]:
    accounts = services_of(world.app).accounts
    secret, _view = accounts.create_token(
        name=f"annual-{role}-{campus or 'all'}",
        role=role,
        campus_id=campus,
        actor=Actor("t", world.clock()),
    )
    return {"Authorization": f"Bearer {secret}"}


def test_the_api_gives_the_same_figures_as_the_page(world, client_as) -> None:
    api = world.app.test_client()
    headers = _token(world, Role.COORDINATOR, CAMPUS)
    answer = api.get(f"/api/v1/reports/annual?year={YEAR}", headers=headers)
    assert answer.status_code == 200
    body = answer.get_json()
    assert (body["format"], body["version"]) == (rules.FORMAT_ID, rules.FORMAT_VERSION)
    export = client_as("coord").get(f"/coordinator/annual/export?year={YEAR}&format=json")
    assert body["indicators"] == export.get_json()["indicators"]
    assert (
        api.get(f"/api/v1/reports/annual?year={YEAR}&campus={OTHER}", headers=headers).status_code
        == 403
    )
    bad = api.get("/api/v1/reports/annual?from=2010-01-01&to=2026-01-01", headers=headers)
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "bad_period"
    assert api.get(f"/api/v1/reports/annual?year={YEAR}").status_code == 401


@pytest.fixture
def config(world, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A TOML configuration pointing at the world's data folder."""
    monkeypatch.setenv("CAMPUS_BADGES_HASH_SECRET", SECRET)
    path = tmp_path / "campus.toml"
    path.write_text(
        f'[server]\ndata_dir = "{world.settings.data_dir}"\n\n'
        f'[[campus]]\nid = "{CAMPUS}"\nname = "Campus de test"\nreaders = ["door-1", "salle-1"]\n\n'
        f'[[campus]]\nid = "{OTHER}"\nname = "Autre campus"\nreaders = ["door-9"]\n',
        encoding="utf-8",
    )
    return path


def _cli(config: Path, *args: str) -> int:
    now = (MONDAY_0920 + timedelta(hours=4)).isoformat()
    return main(["--config", str(config), "report", "annual", "--now", now, *args])


def test_the_cli_gives_the_same_figures_as_the_api(world, config, capsys, client_as) -> None:
    _attend(world)
    world.clock.set(MONDAY_0920 + timedelta(hours=4))
    assert _cli(config, "--year", YEAR, "--campus", CAMPUS) == 0
    printed = json.loads(capsys.readouterr().out)
    export = client_as("coord").get(f"/coordinator/annual/export?year={YEAR}&format=json")
    assert printed["indicators"] == export.get_json()["indicators"]
    assert _cli(config, "--year", "2026-2028") == 2
    assert "2026-2027" in capsys.readouterr().err
    assert _cli(config, "--from", "2010-01-01", "--to", "2020-01-01") == 2
    assert _cli(config, "--year", YEAR, "--campus", "nowhere") == 2


def test_merge_of_exports_from_several_servers(world, config, tmp_path: Path, capsys) -> None:
    workbook, document = tmp_path / "a.xlsx", tmp_path / "b.json"
    assert _cli(config, "--year", YEAR, "--format", "xlsx", "--output", str(workbook)) == 0
    assert _cli(config, "--year", YEAR, "--campus", CAMPUS, "--output", str(document)) == 0
    merged = tmp_path / "merged.xlsx"
    assert main(["report", "merge", str(workbook), str(document), "--output", str(merged)]) == 0
    assert "3" in capsys.readouterr().out
    assert _rows(merged.read_bytes())["headcount"] == [1, 4, 4]


def test_a_bad_file_stops_the_merge_and_writes_nothing(world, config, tmp_path, capsys) -> None:
    good = tmp_path / "good.json"
    assert _cli(config, "--year", YEAR, "--campus", CAMPUS, "--output", str(good)) == 0
    other_version = tmp_path / "v2.json"
    other_version.write_text(json.dumps({**json.loads(good.read_text()), "version": 2}))
    unknown = tmp_path / "unknown.json"
    unknown.write_text('{"hello": "world"}')
    garbage = tmp_path / "garbage.xlsx"
    garbage.write_bytes(b"PK\x03\x04 not really a zip")
    workbook = tmp_path / "v2.xlsx"
    assert _cli(config, "--year", YEAR, "--format", "xlsx", "--output", str(workbook)) == 0
    book = load_workbook(workbook)
    book["data"]["B2"] = 2
    book.save(workbook)
    merged = tmp_path / "merged.xlsx"
    for bad, reason in [
        (other_version, "version"),
        (unknown, "campus-presence"),
        (garbage, "classeur"),
        (workbook, "version"),
    ]:
        capsys.readouterr()
        assert main(["report", "merge", str(good), str(bad), "--output", str(merged)]) == 2
        err = capsys.readouterr().err
        assert bad.name in err and reason in err
        assert not merged.exists()
        assert not list(tmp_path.glob("*.part"))


def test_students_years_and_the_activity_log_feed_the_grid(world, client_as) -> None:
    """14A's records: a student's year (result, programme type, public or not, profile)
    and the campus's activity log (workshops, interviews, exams on site, COPIL)."""
    from datetime import date

    from server.domain.academic_year import AcademicYear
    from server.domain.activities import Modality
    from server.domain.outcomes import ProfileStatus, ProgrammeType, Result, StudentYear
    from server.registry.people_store import people_unit_of_work
    from server.services.people import activities, outcomes

    actor = Actor("tests", world.clock())
    year = AcademicYear(2026)
    for student_id, result, public in [
        ("E001", Result.PASSED, True),
        ("E002", Result.DROPPED_OUT, False),
        ("E003", Result.PENDING, True),
    ]:
        outcomes.save_student_year(
            people_unit_of_work(world.registry),
            StudentYear(
                student_pk=world.student_pk(student_id),
                student_id=student_id,
                campus_id=CAMPUS,
                year=year,
                programme_type=ProgrammeType.DAEU,
                institution_public=public,
                status=ProfileStatus.EMPLOYED,
                result=result,
                result_on=date(2026, 11, 2) if result is not Result.PENDING else None,
            ),
            actor=actor,
        )
    pks = [world.student_pk(s) for s in ("E001", "E002")]
    day = date(2026, 11, 16)
    activities.save_workshop(
        people_unit_of_work(world.registry),
        CAMPUS,
        day=day,
        theme="Gestion du stress",
        attendee_pks=pks,
        actor=actor,
    )
    activities.save_interview(
        people_unit_of_work(world.registry),
        CAMPUS,
        day=day,
        student_pk=pks[0],
        modality=Modality.PHONE,
        tutor_id=None,
        actor=actor,
    )
    activities.save_meeting(people_unit_of_work(world.registry), CAMPUS, day=day, actor=actor)
    answer = client_as("coord").get(f"/coordinator/annual/export?year={YEAR}&format=json")
    grid = rules.from_dict(answer.get_json())
    figures = grid.indicators
    assert figures["headcount"] == 4
    assert figures["outcomes_recorded"] == 2  # E003's result is pending
    assert (figures["success_rate"], figures["dropped_out_rate"]) == (0.5, 0.5)
    assert figures["public_students"] == 3  # E002 recorded private, E004 imported public
    assert (figures["workshops"], figures["workshop_attendance"]) == (1, 2)
    assert (figures["interviews"], figures["exams_on_site"], figures["copil"]) == (1, 0, 1)
    assert grid.breakdowns["programme_type"] == {"daeu": 3, "not_recorded": 1}
    assert grid.breakdowns["workshop_themes"] == {"Gestion du stress": 1}
    assert grid.breakdowns["interview_modality"]["phone"] == 1
    html = client_as("coord").get(f"/coordinator/annual/?year={YEAR}").get_data(as_text=True)
    assert "Gestion du stress" in html and "salarié" in html


def test_capacity_and_surface_from_the_rooms_when_the_campus_has_none(world, client_as) -> None:
    from sqlalchemy import select

    from server.registry.models import Room

    with world.registry() as session, session.begin():
        rooms = list(session.scalars(select(Room).where(Room.campus_id == CAMPUS)))
        if not rooms:
            rooms = [Room(campus_id=CAMPUS, name="Salle 1")]
            session.add_all(rooms)
        for room in rooms:
            room.capacity, room.area_m2 = 10, 60.0
        count = len(rooms)
    answer = client_as("coord").get(f"/coordinator/annual/export?year={YEAR}&format=json")
    figures = answer.get_json()["indicators"]
    assert (figures["capacity"], figures["area_m2"]) == (10 * count, 60.0 * count)
    assert figures["m2_per_place"] == 6.0
    assert figures["days_open"] > 0 and figures["hours_open_evenings"] > 0
    assert figures["hours_open_weekends"] > 0  # open on Saturdays 07:00-22:00
