from datetime import date

import pytest

from server.domain.academic_year import AcademicYear
from server.domain.errors import DomainError
from server.domain.outcomes import AgeBand, ProfileStatus, ProgrammeType, Result
from server.services.people.outcome_import import parse_outcome


def test_no_year_and_no_outcome_value_means_nothing_to_save() -> None:
    assert parse_outcome({"student_id": "E001", "programme": "BTS SIO"}) is None


def test_french_words_and_codes_are_read() -> None:
    record = parse_outcome(
        {
            "academic_year": "2026-2027",
            "programme": "Licence psychologie",
            "institution": "UGA",
            "institution_type": "Public",
            "programme_type": "Licence",
            "enrolment_date": "15/09/2026",
            "age_band": "20-24",
            "profile_status": "Demandeur d'emploi",
            "result": "Abandon",
            "result_date": "2027-02-01",
            "result_reason": "a trouvé un emploi",
        }
    )
    assert record is not None
    assert (record.year, record.programme_type, record.institution_public) == (
        AcademicYear(2026),
        ProgrammeType.LMD,
        True,
    )
    assert (record.age_band, record.status, record.result) == (
        AgeBand.FROM_20_TO_24,
        ProfileStatus.JOB_SEEKER,
        Result.DROPPED_OUT,
    )
    assert (record.enrolled_on, record.result_on) == (date(2026, 9, 15), date(2027, 2, 1))
    blank = parse_outcome({"academic_year": "2026-2027", "institution_type": "privé"})
    assert blank is not None and blank.result is Result.PENDING
    assert blank.institution_public is False and blank.status is ProfileStatus.NOT_GIVEN


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ({"result": "abandon"}, "academic_year is needed"),
        ({"academic_year": "2026"}, "not an academic year"),
        ({"academic_year": "2026-2027", "result": "peut-être"}, "unknown value"),
        ({"academic_year": "2026-2027", "enrolment_date": "31/02/2026"}, "is not a date"),
        (
            {
                "academic_year": "2026-2027",
                "enrolment_date": "2026-09-15",
                "result": "echec",
                "result_date": "2026-09-01",
            },
            "before the enrolment date",
        ),
    ],
)
def test_bad_values_refuse_the_row(values: dict[str, str], reason: str) -> None:
    with pytest.raises(DomainError, match=reason):
        parse_outcome(values)
