"""Registry tables of issue 14: a student's academic year (programme, institution,
profile, result) and the campus's activity log (workshops and who attended,
individual interviews, exams held on site, steering-committee meetings).
Migration ``0014a_outcomes_activities``. Rules: ``server.domain.outcomes`` and
``server.domain.activities``."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from server.domain.activities import AttendanceSource, Modality
from server.domain.outcomes import AgeBand, ProfileStatus, ProgrammeType, Result
from server.registry.models import Base, UtcDateTime


def _in(column: str, values: list[str]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


PROGRAMME_TYPES = [kind.value for kind in ProgrammeType]
AGE_BANDS = [band.value for band in AgeBand]
PROFILE_STATUSES = [status.value for status in ProfileStatus]
RESULTS = [result.value for result in Result]
MODALITIES = [modality.value for modality in Modality]
SOURCES = [source.value for source in AttendanceSource]


class StudentYearRow(Base):
    """One student's academic year (``year`` like ``2026-2027``)."""

    __tablename__ = "student_years"
    __table_args__ = (
        UniqueConstraint("student_pk", "year"),
        CheckConstraint(_in("programme_type", PROGRAMME_TYPES), name="programme_type"),
        CheckConstraint(_in("age_band", AGE_BANDS), name="age_band"),
        CheckConstraint(_in("status", PROFILE_STATUSES), name="status"),
        CheckConstraint(_in("result", RESULTS), name="result"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    student_pk: Mapped[int] = mapped_column(ForeignKey("students.id"), index=True)
    year: Mapped[str] = mapped_column(String(9), index=True)
    programme: Mapped[str] = mapped_column(String(200), default="")
    programme_type: Mapped[str] = mapped_column(String(10), default="other")
    institution: Mapped[str] = mapped_column(String(200), default="")
    institution_public: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    enrolled_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    left_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    age_band: Mapped[str] = mapped_column(String(16), default="not_given")
    status: Mapped[str] = mapped_column(String(20), default="not_given")
    result: Mapped[str] = mapped_column(String(16), default="pending")
    result_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    result_reason: Mapped[str] = mapped_column(String(500), default="")
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class WorkshopRow(Base):
    __tablename__ = "workshops"
    __table_args__ = (CheckConstraint(_in("source", SOURCES), name="source"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campus_id: Mapped[str] = mapped_column(ForeignKey("campuses.id"), index=True)
    day: Mapped[date] = mapped_column(Date)
    theme: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(10), default="ticked")
    note: Mapped[str] = mapped_column(Text, default="")


class WorkshopAttendee(Base):
    """A student who attended a workshop (the workshop's explicit purpose)."""

    __tablename__ = "workshop_attendees"

    workshop_id: Mapped[int] = mapped_column(
        ForeignKey("workshops.id", ondelete="CASCADE"), primary_key=True
    )
    student_pk: Mapped[int] = mapped_column(ForeignKey("students.id"), primary_key=True)


class InterviewRow(Base):
    __tablename__ = "interviews"
    __table_args__ = (CheckConstraint(_in("modality", MODALITIES), name="modality"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campus_id: Mapped[str] = mapped_column(ForeignKey("campuses.id"), index=True)
    student_pk: Mapped[int] = mapped_column(ForeignKey("students.id"), index=True)
    tutor_id: Mapped[int | None] = mapped_column(ForeignKey("tutors.id"), nullable=True)
    day: Mapped[date] = mapped_column(Date)
    modality: Mapped[str] = mapped_column(String(10))
    note: Mapped[str] = mapped_column(Text, default="")


class ExamSessionRow(Base):
    __tablename__ = "exam_sessions"
    __table_args__ = (CheckConstraint("candidates >= 0", name="candidates"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campus_id: Mapped[str] = mapped_column(ForeignKey("campuses.id"), index=True)
    day: Mapped[date] = mapped_column(Date)
    institution: Mapped[str] = mapped_column(String(200))
    candidates: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str] = mapped_column(Text, default="")


class ExamCandidate(Base):
    __tablename__ = "exam_candidates"

    exam_id: Mapped[int] = mapped_column(
        ForeignKey("exam_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    student_pk: Mapped[int] = mapped_column(ForeignKey("students.id"), primary_key=True)


class SteeringMeetingRow(Base):
    __tablename__ = "steering_meetings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campus_id: Mapped[str] = mapped_column(ForeignKey("campuses.id"), index=True)
    day: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
