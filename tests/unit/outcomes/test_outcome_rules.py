from datetime import date

import pytest

from server.domain.academic_year import AcademicYear
from server.domain.errors import DomainError
from server.domain.outcomes import Result, StudentYear, check_student_year, count_outcomes

YEAR = AcademicYear(2026)


def _record(**values) -> StudentYear:
    return StudentYear(student_pk=1, student_id="E001", campus_id="c", year=YEAR, **values)


def test_an_outcome_before_enrolment_is_refused_with_both_dates() -> None:
    record = _record(
        enrolled_on=date(2026, 9, 15), result=Result.FAILED, result_on=date(2026, 9, 14)
    )
    with pytest.raises(DomainError) as refused:
        check_student_year(record)
    assert refused.value.values == {"outcome": "2026-09-14", "enrolment": "2026-09-15"}
    assert "before the enrolment date" in refused.value.message


def test_a_departure_before_enrolment_is_refused() -> None:
    with pytest.raises(DomainError, match="departure date"):
        check_student_year(_record(enrolled_on=date(2026, 9, 15), left_on=date(2026, 9, 1)))


def test_a_drop_out_needs_its_date_and_a_pending_result_has_none() -> None:
    with pytest.raises(DomainError, match="drop-out"):
        check_student_year(_record(result=Result.DROPPED_OUT, result_reason="moved"))
    with pytest.raises(DomainError, match="Choose a result"):
        check_student_year(_record(result_on=date(2027, 6, 30)))
    check_student_year(
        _record(
            enrolled_on=date(2026, 9, 1),
            result=Result.DROPPED_OUT,
            result_on=date(2026, 9, 1),
            result_reason="found a job",
        )
    )


def test_counts_and_rates() -> None:
    records = [
        _record(result=Result.PASSED),
        _record(result=Result.PASSED),
        _record(result=Result.DROPPED_OUT, result_on=date(2027, 1, 5)),
        _record(),
    ]
    counts = count_outcomes(records)
    assert counts.headcount == 4
    assert counts.by_result[Result.PASSED] == 2 and counts.by_result[Result.REORIENTED] == 0
    assert counts.rate(Result.PASSED) == 0.5 and counts.rate(Result.DROPPED_OUT) == 0.25
    assert count_outcomes([]).rate(Result.PASSED) is None
