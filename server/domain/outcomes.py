"""A student's academic year: programme, institution, dates, the profile the student
agreed to give and the result the coordinator records. One rule, one place:
:func:`check_student_year` decides whether such a record holds together.

Pure: no clock, no database. Codes (``lmd``, ``job_seeker``…) are stored as such; the
web layer translates their labels."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from server.domain.academic_year import AcademicYear
from server.domain.errors import DomainError

MAX_REASON_CHARS = 500


class ProgrammeType(StrEnum):
    LMD = "lmd"  # licence, master, doctorat (university)
    DAEU = "daeu"  # diplôme d'accès aux études universitaires
    BTS = "bts"
    OTHER = "other"


class AgeBand(StrEnum):
    NOT_GIVEN = "not_given"
    UNDER_20 = "under_20"
    FROM_20_TO_24 = "20_24"
    FROM_25_TO_29 = "25_29"
    FROM_30 = "30_plus"


class ProfileStatus(StrEnum):
    """The student's situation when enrolling, as they agreed to say it."""

    NOT_GIVEN = "not_given"
    RECENT_BACHELOR = "recent_bachelor"  # néo-bachelier
    EMPLOYED = "employed"
    JOB_SEEKER = "job_seeker"
    CAREER_CHANGE = "career_change"
    RETURN_TO_STUDY = "return_to_study"


class Result(StrEnum):
    """What the coordinator records at the end (or during) the year."""

    PENDING = "pending"  # nothing recorded yet
    PASSED = "passed"  # diploma obtained or moved on to the next year
    FAILED = "failed"
    DROPPED_OUT = "dropped_out"
    REORIENTED = "reoriented"


@dataclass(frozen=True)
class StudentYear:
    """One student's academic year on one campus."""

    student_pk: int
    student_id: str
    campus_id: str
    year: AcademicYear
    programme: str = ""
    programme_type: ProgrammeType = ProgrammeType.OTHER
    institution: str = ""
    institution_public: bool | None = None  # None: not known
    enrolled_on: date | None = None
    left_on: date | None = None
    age_band: AgeBand = AgeBand.NOT_GIVEN
    status: ProfileStatus = ProfileStatus.NOT_GIVEN
    result: Result = Result.PENDING
    result_on: date | None = None
    result_reason: str = ""
    display_name: str = ""  # for pages only; never in exports meant for the ministry


def check_student_year(record: StudentYear) -> None:
    """Refuse a record that does not hold together (``DomainError``, English text with
    placeholders, translated by the caller)."""
    enrolled = record.enrolled_on
    if enrolled is not None and record.result_on is not None and record.result_on < enrolled:
        raise DomainError(
            "The outcome date ({outcome}) cannot be before the enrolment date ({enrolment}).",
            outcome=record.result_on.isoformat(),
            enrolment=enrolled.isoformat(),
        )
    if enrolled is not None and record.left_on is not None and record.left_on < enrolled:
        raise DomainError(
            "The departure date ({departure}) cannot be before the enrolment date ({enrolment}).",
            departure=record.left_on.isoformat(),
            enrolment=enrolled.isoformat(),
        )
    if record.result is Result.PENDING and (record.result_on or record.result_reason):
        raise DomainError("Choose a result before giving its date or reason.")
    if record.result is Result.DROPPED_OUT and record.result_on is None:
        raise DomainError("A drop-out needs its date.")
    if len(record.result_reason) > MAX_REASON_CHARS:
        raise DomainError("At most {count} characters.", count=MAX_REASON_CHARS)


@dataclass(frozen=True)
class OutcomeCounts:
    """Headcount and results of a list of student years (the report's rates)."""

    headcount: int
    by_result: dict[Result, int]

    def rate(self, result: Result) -> float | None:
        """Share of the headcount with that result, ``None`` for no student."""
        return self.by_result.get(result, 0) / self.headcount if self.headcount else None


def count_outcomes(records: list[StudentYear]) -> OutcomeCounts:
    by_result = {result: 0 for result in Result}
    for record in records:
        by_result[record.result] += 1
    return OutcomeCounts(headcount=len(records), by_result=by_result)
