from datetime import UTC, date, datetime, timedelta

import pytest

from server.domain.activities import (
    ActivityLog,
    ExamSession,
    Interview,
    Modality,
    SteeringMeeting,
    Workshop,
    attendees_from_taps,
    check_exam,
)
from server.domain.errors import DomainError

DAY = date(2026, 11, 23)


def test_the_log_counts_what_the_report_needs() -> None:
    log = ActivityLog(
        campus_id="c",
        first_day=date(2026, 9, 1),
        last_day=date(2027, 8, 31),
        workshops=[
            Workshop(1, "c", DAY, "CV", (1, 2, 3)),
            Workshop(2, "c", DAY, "Méthodo", (1,)),
            Workshop(3, "c", DAY, "CV", ()),
        ],
        interviews=[
            Interview(1, "c", DAY, 1, Modality.PHONE),
            Interview(2, "c", DAY, 2, Modality.PHONE),
            Interview(3, "c", DAY, 2, Modality.VIDEO),
        ],
        exams=[ExamSession(1, "c", DAY, "CNED", (1, 2)), ExamSession(2, "c", DAY, "UGA", (), 7)],
        meetings=[SteeringMeeting(1, "c", DAY)],
    )
    assert (log.workshop_count, log.workshop_attendance, log.themes) == (3, 4, ["CV", "Méthodo"])
    assert log.interviews_by_modality == {Modality.ON_SITE: 0, Modality.PHONE: 2, Modality.VIDEO: 1}
    assert (log.exam_count, log.exam_candidates, log.meeting_count) == (2, 9, 1)
    empty = ActivityLog("c", DAY, DAY)
    assert (empty.workshop_count, empty.themes, empty.exam_candidates) == (0, [], 0)


def test_an_exam_needs_an_institution_and_candidates() -> None:
    with pytest.raises(DomainError, match="institution"):
        check_exam(" ", [1], 0)
    with pytest.raises(DomainError, match="Tick the students"):
        check_exam("CNED", [], 0)
    with pytest.raises(DomainError):
        check_exam("CNED", [], -1)
    check_exam("CNED", [], 3)


def test_workshop_attendance_from_badge_taps_counts_each_student_once_within_its_time() -> None:
    start = datetime(2026, 11, 23, 14, tzinfo=UTC)
    end = start + timedelta(hours=2)
    taps = [
        (start - timedelta(minutes=1), 9),  # before: not counted
        (start + timedelta(minutes=30), 2),
        (start, 1),
        (start + timedelta(minutes=40), 1),  # tapped again: once
        (end, 3),  # the end is excluded
    ]
    assert attendees_from_taps(taps, start, end) == (1, 2)
    with pytest.raises(DomainError):
        attendees_from_taps(taps, end, start)
