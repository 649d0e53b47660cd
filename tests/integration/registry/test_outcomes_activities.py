"""Students' academic years and the campus's activity log on a real SQLite registry."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from server.domain.academic_year import AcademicYear
from server.domain.accounts import Actor
from server.domain.activities import Modality
from server.domain.errors import DomainError
from server.domain.outcomes import ProfileStatus, ProgrammeType, Result
from server.registry.models import AuditEntry, Campus, Student
from server.registry.outcome_models import WorkshopAttendee
from server.registry.people_store import people_unit_of_work
from server.registry.privacy_store import privacy_unit_of_work
from server.services.people import activities, outcomes
from server.services.privacy.erasure import erase_student
from tests.integration.registry.conftest import (
    CAMPUS,
    HEADER,
    ROW_E001,
    ROW_E002,
    csv_bytes,
    run_import,
)

YEAR = AcademicYear(2026)
ACTOR = Actor("coord@campus.fr", datetime(2026, 11, 23, 10, tzinfo=UTC))


@pytest.fixture
def pks(registry) -> dict[str, int]:
    assert run_import(registry, csv_bytes(ROW_E001, ROW_E002)).ok
    with registry() as session:
        return {s.student_id: s.id for s in session.scalars(select(Student))}


def _audit(registry, action: str) -> list[AuditEntry]:
    with registry() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_a_saved_year_comes_back_for_the_campus_and_is_audited(registry, pks) -> None:
    blank, exists = outcomes.student_year(people_unit_of_work(registry), pks["E001"], YEAR)
    assert not exists and blank.programme == "Licence psychologie"
    assert blank.institution_public is True
    record = blank.__class__(
        **{
            **blank.__dict__,
            "programme_type": ProgrammeType.LMD,
            "enrolled_on": date(2026, 9, 1),
            "status": ProfileStatus.JOB_SEEKER,
            "result": Result.PASSED,
            "result_on": date(2027, 6, 30),
        }
    )
    assert outcomes.save_student_year(people_unit_of_work(registry), record, actor=ACTOR)
    assert not outcomes.save_student_year(
        people_unit_of_work(registry), record, actor=ACTOR
    )  # nothing changed
    found = outcomes.outcomes_for(people_unit_of_work(registry), CAMPUS, YEAR)
    assert [(r.student_id, r.result, r.programme_type) for r in found] == [
        ("E001", Result.PASSED, ProgrammeType.LMD)
    ]
    assert outcomes.outcomes_for(people_unit_of_work(registry), CAMPUS, YEAR.previous()) == []
    assert outcomes.outcome_years(people_unit_of_work(registry), CAMPUS) == [YEAR]
    (entry,) = _audit(registry, "student_year_saved")
    assert entry.entity_id == "E001"
    assert json.loads(entry.after)["result"] == "passed" and entry.before == ""
    roster = outcomes.year_roster(people_unit_of_work(registry), CAMPUS, YEAR)
    assert [(r is not None, s.student_id) for r, s in roster.entries] == [
        (True, "E001"),
        (False, "E002"),
    ]


def test_an_outcome_before_enrolment_is_refused_and_nothing_is_stored(registry, pks) -> None:
    blank, _ = outcomes.student_year(people_unit_of_work(registry), pks["E002"], YEAR)
    bad = blank.__class__(
        **{
            **blank.__dict__,
            "enrolled_on": date(2026, 10, 1),
            "result": Result.FAILED,
            "result_on": date(2026, 9, 30),
        }
    )
    with pytest.raises(DomainError):
        outcomes.save_student_year(people_unit_of_work(registry), bad, actor=ACTOR)
    assert outcomes.outcomes_for(people_unit_of_work(registry), CAMPUS, YEAR) == []
    assert _audit(registry, "student_year_saved") == []


def test_the_activity_log_of_a_period(registry, pks) -> None:
    workshop = activities.save_workshop(
        people_unit_of_work(registry),
        CAMPUS,
        day=date(2026, 11, 20),
        theme="Méthodologie",
        attendee_pks=[pks["E001"], pks["E002"]],
        actor=ACTOR,
    )
    activities.save_interview(
        people_unit_of_work(registry),
        CAMPUS,
        day=date(2026, 11, 21),
        student_pk=pks["E001"],
        modality=Modality.VIDEO,
        tutor_id=None,
        actor=ACTOR,
    )
    activities.save_exam(
        people_unit_of_work(registry),
        CAMPUS,
        day=date(2027, 1, 10),
        institution="CNED",
        candidates=4,
        actor=ACTOR,
    )
    activities.save_meeting(
        people_unit_of_work(registry), CAMPUS, day=date(2027, 8, 31), note="COPIL", actor=ACTOR
    )
    activities.save_meeting(
        people_unit_of_work(registry), CAMPUS, day=date(2027, 9, 1), actor=ACTOR
    )  # next year
    log = activities.activities_for(
        people_unit_of_work(registry), CAMPUS, YEAR.first_day, YEAR.last_day
    )
    assert (log.workshop_count, log.workshop_attendance, log.themes) == (1, 2, ["Méthodologie"])
    assert log.interviews_by_modality[Modality.VIDEO] == 1
    assert (log.exam_count, log.exam_candidates, log.meeting_count) == (1, 4, 1)

    activities.save_workshop(
        people_unit_of_work(registry),
        CAMPUS,
        day=date(2026, 11, 20),
        theme="Méthodologie",
        attendee_pks=[pks["E002"]],
        actor=ACTOR,
        item_id=workshop,
    )
    assert activities.activity(
        people_unit_of_work(registry), "workshop", workshop
    ).attendee_pks == (pks["E002"],)
    activities.delete_activity(
        people_unit_of_work(registry), "workshop", workshop, CAMPUS, actor=ACTOR
    )
    assert activities.activity(people_unit_of_work(registry), "workshop", workshop) is None
    with registry() as session:
        assert session.scalars(select(WorkshopAttendee)).all() == []
    assert [len(_audit(registry, a)) for a in ("workshop_saved", "workshop_deleted")] == [2, 1]
    assert activities.activities_for(
        people_unit_of_work(registry), CAMPUS, date(2030, 1, 1), date(2030, 12, 31)
    ) == (activities.ActivityLog(CAMPUS, date(2030, 1, 1), date(2030, 12, 31)))


def test_students_of_another_campus_and_entries_of_another_campus_are_refused(
    registry, pks
) -> None:
    with registry() as session, session.begin():
        session.add(Campus(id="campus-b", name="B"))
    with pytest.raises(DomainError, match="not a student of this campus"):
        activities.save_workshop(
            people_unit_of_work(registry),
            "campus-b",
            day=date(2026, 11, 20),
            theme="CV",
            attendee_pks=[pks["E001"]],
            actor=ACTOR,
        )
    meeting = activities.save_meeting(
        people_unit_of_work(registry), CAMPUS, day=date(2026, 10, 1), actor=ACTOR
    )
    with pytest.raises(DomainError, match="no longer exists"):
        activities.delete_activity(
            people_unit_of_work(registry), "meeting", meeting, "campus-b", actor=ACTOR
        )
    with pytest.raises(DomainError, match="theme"):
        activities.save_workshop(
            people_unit_of_work(registry),
            CAMPUS,
            day=date(2026, 11, 20),
            theme=" ",
            attendee_pks=[],
            actor=ACTOR,
        )


def test_an_erased_student_leaves_no_free_text_in_their_year_nor_interviews(
    registry, pks, settings
) -> None:
    blank, _ = outcomes.student_year(people_unit_of_work(registry), pks["E001"], YEAR)
    dropped = blank.__class__(
        **{
            **blank.__dict__,
            "result": Result.DROPPED_OUT,
            "result_on": date(2027, 1, 5),
            "result_reason": "raisons de santé",
        }
    )
    outcomes.save_student_year(people_unit_of_work(registry), dropped, actor=ACTOR)
    activities.save_interview(
        people_unit_of_work(registry),
        CAMPUS,
        day=date(2026, 11, 21),
        student_pk=pks["E001"],
        modality=Modality.PHONE,
        tutor_id=None,
        note="parle de sa santé",
        actor=ACTOR,
    )
    report = erase_student(
        privacy_unit_of_work(registry, settings.presence),
        "E001",
        ACTOR,
        secret=settings.badge_secret.encode(),
        zone=settings.presence.zone,
    )
    assert report is not None
    (record,) = outcomes.outcomes_for(people_unit_of_work(registry), CAMPUS, YEAR)
    assert (record.result, record.result_on) == (Result.DROPPED_OUT, date(2027, 1, 5))
    assert (record.programme, record.institution, record.result_reason) == ("", "", "")
    log = activities.activities_for(
        people_unit_of_work(registry), CAMPUS, YEAR.first_day, YEAR.last_day
    )
    assert [interview.note for interview in log.interviews] == [""]
    with registry() as session:
        texts = " ".join(f"{e.before} {e.after}" for e in session.scalars(select(AuditEntry)))
    assert "santé" not in texts


OUTCOME_HEADER = HEADER + ";annee_universitaire;type_formation;date_inscription;situation;resultat"


def test_the_spreadsheet_brings_a_students_year(registry) -> None:
    rows = (
        ROW_E001 + ";2026-2027;Licence;01/09/2026;Reprise d'études;",
        ROW_E002 + ";;;;;",
    )
    report = run_import(registry, csv_bytes(*rows, header=OUTCOME_HEADER))
    assert report.ok and report.created == ["E001", "E002"], report.errors
    (record,) = outcomes.outcomes_for(people_unit_of_work(registry), CAMPUS, YEAR)
    assert (record.student_id, record.programme_type, record.status, record.result) == (
        "E001",
        ProgrammeType.LMD,
        ProfileStatus.RETURN_TO_STUDY,
        Result.PENDING,
    )
    assert record.enrolled_on == date(2026, 9, 1) and record.institution_public is True
    again = run_import(registry, csv_bytes(*rows, header=OUTCOME_HEADER))
    assert again.unchanged == ["E001", "E002"]
    assert len(_audit(registry, "student_year_saved")) == 1


def test_an_outcome_before_enrolment_refuses_the_row_with_its_line(registry) -> None:
    rows = (
        ROW_E001 + ";2026-2027;bts;15/09/2026;;echec",
        ROW_E002 + ";2026-2027;bts;15/09/2026;;abandon",
    )
    header = OUTCOME_HEADER + ";date_resultat"
    report = run_import(registry, csv_bytes(rows[0] + ";01/09/2026", rows[1] + ";", header=header))
    lines = {problem.line: problem.message for problem in report.errors}
    assert "précéder la date d’inscription" in lines[2]
    assert "abandon demande sa date" in lines[3]
    assert (
        report.created == []
        and outcomes.outcomes_for(people_unit_of_work(registry), CAMPUS, YEAR) == []
    )
