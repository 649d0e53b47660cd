"""Students' years and the activity log in the web app: who may see and change them
(role and campus), the forms (a refused outcome date, audited changes) and the tutor's
own interviews, on the furnished world's real SQLite registry."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from server.domain.academic_year import AcademicYear
from server.domain.accounts import Actor
from server.domain.activities import AttendanceSource
from server.domain.outcomes import Result
from server.registry.models import AuditEntry
from server.registry.people_store import people_unit_of_work
from server.services.people import activities, outcomes
from tests.web.conftest import CAMPUS, DOOR, OTHER, PARIS, ROOM, csrf_of, post_form

YEAR = AcademicYear(2026)
PAGES = [
    "/coordinator/outcomes",
    "/coordinator/outcomes?year=2025-2026",
    "/coordinator/activities",
    "/coordinator/activities/workshop/new",
    "/coordinator/activities/interview/new",
    "/coordinator/activities/exam/new",
    "/coordinator/activities/meeting/new",
]


def _outcome_form(**values: str) -> dict[str, str]:
    return {
        "year": "2026-2027",
        "programme": "Licence psychologie",
        "programme_type": "lmd",
        "institution": "Université Grenoble Alpes",
        "institution_public": "public",
        "enrolled_on": "2026-09-15",
        "left_on": "",
        "age_band": "20_24",
        "status": "job_seeker",
        "result": "pending",
        "result_on": "",
        "result_reason": "",
        **values,
    }


def _audit(world, action: str) -> list[AuditEntry]:
    with world.registry() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


@pytest.mark.parametrize("path", PAGES)
def test_managers_see_the_pages_and_others_are_refused(client_as, path: str) -> None:
    assert client_as("coord").get(path).status_code == 200
    assert client_as("admin").get(path).status_code == 200
    for login in ("alice", "emilie"):
        assert client_as(login).get(path).status_code == 403
    joiner = "&" if "?" in path else "?"
    assert client_as("coord").get(f"{path}{joiner}campus={OTHER}").status_code == 403


def test_the_roster_lists_the_campus_students_only(client_as) -> None:
    page = client_as("coord").get("/coordinator/outcomes?year=2026-2027").get_data(as_text=True)
    assert "E001" in page and "E004" in page and "E005" not in page
    assert "2026-2027" in page
    assert client_as("coord").get("/coordinator/outcomes?year=2026").status_code == 400


def test_a_coordinator_records_a_year_and_it_is_audited(client_as, world) -> None:
    coord = client_as("coord")
    pk = world.student_pk("E001")
    path = f"/coordinator/outcomes/{pk}"
    form = _outcome_form(result="passed", result_on="2027-06-30")
    answer = post_form(coord, path, form, page=f"{path}?year=2026-2027")
    assert answer.status_code == 302
    (record,) = outcomes.outcomes_for(people_unit_of_work(world.registry), CAMPUS, YEAR)
    assert (record.student_pk, record.result, record.enrolled_on) == (
        pk,
        Result.PASSED,
        date(2026, 9, 15),
    )
    (entry,) = _audit(world, "student_year_saved")
    assert entry.actor == "coord" and json.loads(entry.after)["status"] == "job_seeker"
    page = coord.get("/coordinator/outcomes?year=2026-2027").get_data(as_text=True)
    assert "Diplôme obtenu ou année suivante" in page


def test_an_outcome_before_enrolment_is_refused_in_french(client_as, world) -> None:
    coord = client_as("coord")
    pk = world.student_pk("E002")
    path = f"/coordinator/outcomes/{pk}"
    form = _outcome_form(result="failed", result_on="2026-09-01")
    answer = post_form(coord, path, form, page=path)
    assert answer.status_code == 400
    text = answer.get_data(as_text=True)
    assert "ne peut pas précéder la date d’inscription" in text
    assert outcomes.outcomes_for(people_unit_of_work(world.registry), CAMPUS, YEAR) == []
    assert _audit(world, "student_year_saved") == []


def test_a_coordinator_cannot_record_a_student_of_another_campus(client_as, world) -> None:
    pk = world.student_pk("E005")
    other = client_as("coord")
    assert other.get(f"/coordinator/outcomes/{pk}").status_code == 403
    assert client_as("coord-other").get(f"/coordinator/outcomes/{pk}").status_code == 200


def test_the_activity_log_adds_changes_and_deletes_a_workshop(client_as, world) -> None:
    coord = client_as("coord")
    e001, e004 = world.student_pk("E001"), world.student_pk("E004")
    new = "/coordinator/activities/workshop/new"
    data = {"campus": CAMPUS, "day": "2026-11-20", "theme": "Méthodologie", "note": ""}
    answer = coord.post(
        new,
        data={**data, "students": [str(e001), str(e004)], "csrf_token": _csrf(coord, new)},
    )
    assert answer.status_code == 302
    log = activities.activities_for(
        people_unit_of_work(world.registry), CAMPUS, YEAR.first_day, YEAR.last_day
    )
    (workshop,) = log.workshops
    assert workshop.attendee_pks == tuple(sorted((e001, e004)))
    page = coord.get("/coordinator/activities").get_data(as_text=True)
    assert "Méthodologie" in page and "1 atelier" in page and "2 présences" in page

    edit = f"/coordinator/activities/workshop/{workshop.id}"
    answer = coord.post(
        edit, data={**data, "students": [str(e004)], "csrf_token": _csrf(coord, edit)}
    )
    assert answer.status_code == 302
    assert activities.activity(
        people_unit_of_work(world.registry), "workshop", workshop.id
    ).attendee_pks == (e004,)
    assert client_as("coord-other").get(edit).status_code == 403

    answer = post_form(coord, f"{edit}/delete", {}, page=edit)
    assert answer.status_code == 302
    assert activities.activity(people_unit_of_work(world.registry), "workshop", workshop.id) is None
    assert [len(_audit(world, a)) for a in ("workshop_saved", "workshop_deleted")] == [2, 1]


def test_a_workshop_with_a_student_of_another_campus_is_refused(client_as, world) -> None:
    coord = client_as("coord")
    new = "/coordinator/activities/workshop/new"
    answer = coord.post(
        new,
        data={
            "campus": CAMPUS,
            "day": "2026-11-20",
            "theme": "CV",
            "students": [str(world.student_pk("E005"))],
            "csrf_token": _csrf(coord, new),
        },
    )
    assert answer.status_code == 400
    assert "n’est pas un étudiant de ce campus" in answer.get_data(as_text=True)


def test_exam_and_meeting_forms(client_as, world) -> None:
    coord = client_as("coord")
    exam = "/coordinator/activities/exam/new"
    refused = post_form(coord, exam, {"campus": CAMPUS, "day": "2027-01-10", "institution": "CNED"})
    assert refused.status_code == 400
    ok = post_form(
        coord,
        exam,
        {"campus": CAMPUS, "day": "2027-01-10", "institution": "CNED", "candidates": "3"},
    )
    assert ok.status_code == 302
    meeting = "/coordinator/activities/meeting/new"
    assert post_form(coord, meeting, {"campus": CAMPUS, "day": "2026-12-01"}).status_code == 302
    log = activities.activities_for(
        people_unit_of_work(world.registry), CAMPUS, YEAR.first_day, YEAR.last_day
    )
    assert (log.exam_count, log.exam_candidates, log.meeting_count) == (1, 3, 1)


def test_a_tutor_logs_interviews_of_their_students_only(client_as, world) -> None:
    alice = client_as("alice")
    assert alice.get("/tutor/interviews").status_code == 200
    assert client_as("coord").get("/tutor/interviews").status_code == 403
    new = "/tutor/interviews/new"
    form = {"day": "2026-11-23", "modality": "phone", "note": ""}
    theirs = post_form(alice, new, {**form, "student": str(world.student_pk("E004"))})
    assert theirs.status_code == 400  # E004 is Bruno's student
    mine = post_form(alice, new, {**form, "student": str(world.student_pk("E001"))})
    assert mine.status_code == 302
    log = activities.activities_for(
        people_unit_of_work(world.registry), CAMPUS, YEAR.first_day, YEAR.last_day
    )
    (interview,) = log.interviews
    assert interview.tutor_id == world.tutor_id("alice@campus.test")
    assert "Téléphone" in alice.get("/tutor/interviews").get_data(as_text=True)
    bruno = client_as("bruno")
    assert bruno.get(f"/tutor/interviews/{interview.id}").status_code == 403
    assert "Durand" not in bruno.get("/tutor/interviews").get_data(as_text=True)
    deleted = post_form(
        alice, f"/tutor/interviews/{interview.id}/delete", {}, page="/tutor/interviews"
    )
    assert deleted.status_code == 302
    assert (
        activities.activity(people_unit_of_work(world.registry), "interview", interview.id) is None
    )


def _csrf(client, path: str) -> str:
    return csrf_of(client, path)


def test_a_workshop_attendance_taken_from_badges_at_a_room_reader(client_as, world) -> None:
    start = datetime(2026, 11, 23, 14, tzinfo=PARIS)
    world.tap("E001", start + timedelta(minutes=5), reader=ROOM)
    world.tap("E001", start + timedelta(minutes=50), reader=ROOM)  # counted once
    world.tap("E002", start + timedelta(minutes=10), reader=DOOR)  # the door: not the workshop
    world.tap("E003", start - timedelta(minutes=30), reader=ROOM)  # before the workshop
    world.tap("E004", start + timedelta(hours=1), reader=ROOM)
    workshop = activities.save_workshop(
        people_unit_of_work(world.registry),
        CAMPUS,
        day=date(2026, 11, 23),
        theme="CV",
        attendee_pks=[world.student_pk("E002")],
        actor=Actor("t", start),
    )
    coord = client_as("coord")
    edit = f"/coordinator/activities/workshop/{workshop}"
    assert "Relever la présence par les badges" in coord.get(edit).get_data(as_text=True)
    form = {"reader": ROOM, "start": "2026-11-23T14:00", "end": "2026-11-23T16:00"}
    answer = post_form(coord, f"{edit}/badges", form, page=edit)
    assert answer.status_code == 302
    found = activities.activity(people_unit_of_work(world.registry), "workshop", workshop)
    assert found.attendee_pks == tuple(sorted([world.student_pk("E001"), world.student_pk("E004")]))
    assert found.source == AttendanceSource.BADGES
    backwards = {**form, "end": "2026-11-23T13:00"}
    refused = post_form(coord, f"{edit}/badges", backwards, page=edit)
    assert refused.status_code == 400
    assert "Un atelier doit finir après son début." in refused.get_data(as_text=True)
    other = client_as("coord-other")
    token = csrf_of(other, "/coordinator/activities")
    assert other.post(f"{edit}/badges", data={**form, "csrf_token": token}).status_code == 403


def test_a_tutor_ticks_their_own_students_at_a_workshop(client_as, world) -> None:
    e001, e002, e004 = (world.student_pk(s) for s in ("E001", "E002", "E004"))
    workshop = activities.save_workshop(
        people_unit_of_work(world.registry),
        CAMPUS,
        day=date(2026, 11, 20),
        theme="Méthodologie",
        attendee_pks=[e004],
        actor=Actor("coord", datetime(2026, 11, 20, 18, tzinfo=PARIS)),
    )
    alice = client_as("alice")
    assert "Méthodologie" in alice.get("/tutor/interviews").get_data(as_text=True)
    path = f"/tutor/workshops/{workshop}"
    page = alice.get(path).get_data(as_text=True)
    assert "Durand" in page and "Roux" not in page  # E004 is Bruno's
    answer = alice.post(
        path, data={"students": [str(e001), str(e002)], "csrf_token": csrf_of(alice, path)}
    )
    assert answer.status_code == 302
    found = activities.activity(people_unit_of_work(world.registry), "workshop", workshop)
    assert found.attendee_pks == tuple(sorted((e001, e002, e004)))
    answer = alice.post(path, data={"students": [str(e002)], "csrf_token": csrf_of(alice, path)})
    assert activities.activity(
        people_unit_of_work(world.registry), "workshop", workshop
    ).attendee_pks == tuple(sorted((e002, e004)))
    refused = alice.post(path, data={"students": [str(e004)], "csrf_token": csrf_of(alice, path)})
    assert refused.status_code == 400
    assert client_as("coord").get(path).status_code == 403
