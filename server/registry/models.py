"""Registry tables (SQLAlchemy 2 ORM): reference data and presence workflow state.

Types are portable (SQLite by default, PostgreSQL for larger deployments). Instants are
stored as UTC (:class:`UtcDateTime`) and always come back timezone-aware. Badge UIDs are
never stored: only their keyed hash (``server.domain.badges.badge_hash``).
Schema changes go through the Alembic migrations in ``server/registry/migrations``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    Time,
    TypeDecorator,
    UniqueConstraint,
    select,
)
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    column_property,
    mapped_column,
    relationship,
)

READER_MODES = ("toggle", "in", "out", "room")
CORRECTION_KINDS = ("confirm", "amend", "add", "remove")
WEEK_STATUSES = ("met", "short", "at_risk", "excused", "on_track")

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """An aware instant stored as UTC; SQLite gets a naive UTC value."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("registry instants must be timezone-aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


class Campus(Base):
    __tablename__ = "campuses"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Paris")
    school_zone: Mapped[str | None] = mapped_column(String(16))
    closes_on_school_holidays: Mapped[bool] = mapped_column(Boolean, default=False)
    closes_on_public_holidays: Mapped[bool] = mapped_column(Boolean, default=True)
    holiday_subdivision: Mapped[str | None] = mapped_column(String(8))


class OpeningHours(Base):
    """Regular opening hours; several rows per weekday allowed (a lunch break)."""

    __tablename__ = "opening_hours"
    __table_args__ = (CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campus_id: Mapped[str] = mapped_column(ForeignKey("campuses.id"), index=True)
    weekday: Mapped[int] = mapped_column(SmallInteger)
    opens: Mapped[time] = mapped_column(Time)
    closes: Mapped[time] = mapped_column(Time)


class OpeningException(Base):
    """Other hours on one date; a row without hours means closed that day."""

    __tablename__ = "opening_exceptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campus_id: Mapped[str] = mapped_column(ForeignKey("campuses.id"), index=True)
    day: Mapped[date] = mapped_column(Date)
    opens: Mapped[time | None] = mapped_column(Time)
    closes: Mapped[time | None] = mapped_column(Time)
    label: Mapped[str] = mapped_column(String(200), default="")


class Closure(Base):
    """The campus closed on whole days from ``start`` to ``end`` (included)."""

    __tablename__ = "closures"
    __table_args__ = (CheckConstraint('"end" >= start', name="dates"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campus_id: Mapped[str] = mapped_column(ForeignKey("campuses.id"), index=True)
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date] = mapped_column(Date)
    label: Mapped[str] = mapped_column(String(200), default="")


class SchoolHoliday(Base):
    """A school holiday period of a zone (A, B, C, Corse…), days included."""

    __tablename__ = "school_holidays"
    __table_args__ = (UniqueConstraint("zone", "start"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    zone: Mapped[str] = mapped_column(String(16))
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date] = mapped_column(Date)
    label: Mapped[str] = mapped_column(String(200), default="")


class Room(Base):
    __tablename__ = "rooms"
    __table_args__ = (UniqueConstraint("campus_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campus_id: Mapped[str] = mapped_column(ForeignKey("campuses.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    capacity: Mapped[int | None] = mapped_column(Integer)
    area_m2: Mapped[float | None] = mapped_column(Float)


class Reader(Base):
    __tablename__ = "readers"
    __table_args__ = (
        UniqueConstraint("campus_id", "reader_id"),
        CheckConstraint(_in("mode", READER_MODES), name="mode"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campus_id: Mapped[str] = mapped_column(ForeignKey("campuses.id"))
    reader_id: Mapped[str] = mapped_column(String(64))
    mode: Mapped[str] = mapped_column(String(8), default="toggle")
    room_id: Mapped[int | None] = mapped_column(ForeignKey("rooms.id"))


class Tutor(Base):
    __tablename__ = "tutors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")

    @property
    def label(self) -> str:
        """How people see the tutor: their name, else their account's display name (a
        tutor imported from a spreadsheet has only an e-mail until then), else the
        e-mail."""
        return self.name.strip() or (self.account_name or "").strip() or self.email


class Student(Base):
    __tablename__ = "students"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    student_id: Mapped[str] = mapped_column(String(64), unique=True)
    campus_id: Mapped[str] = mapped_column(ForeignKey("campuses.id"), index=True)
    last_name: Mapped[str] = mapped_column(String(200))
    first_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    programme: Mapped[str] = mapped_column(String(200), default="")
    institution: Mapped[str] = mapped_column(String(200), default="")
    institution_type: Mapped[str] = mapped_column(String(50), default="")
    tutor_id: Mapped[int | None] = mapped_column(ForeignKey("tutors.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    tutor: Mapped[Tutor | None] = relationship()
    contracts: Mapped[list[Contract]] = relationship(
        back_populates="student", order_by="Contract.id"
    )
    badges: Mapped[list[Badge]] = relationship(back_populates="student", order_by="Badge.id")


class Badge(Base):
    """A badge held by a student from ``active_from`` until ``revoked_at``. The same card
    may come back to another student later: the hash is not unique over time."""

    __tablename__ = "badges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    student_pk: Mapped[int] = mapped_column(ForeignKey("students.id"), index=True)
    badge_hash: Mapped[str] = mapped_column(String(64), index=True)
    active_from: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_reason: Mapped[str] = mapped_column(String(200), default="")

    student: Mapped[Student] = relationship(back_populates="badges")


class Contract(Base):
    """One version of a contrat d'engagement. A renewal ends the previous one
    (``valid_to``); a correction of the same contract marks it ``replaced_at`` and adds
    a new row: nothing is overwritten, the history stays."""

    __tablename__ = "contracts"
    __table_args__ = (CheckConstraint("weekly_minutes > 0", name="weekly_minutes"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    student_pk: Mapped[int] = mapped_column(ForeignKey("students.id"), index=True)
    weekly_minutes: Mapped[int] = mapped_column(Integer)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    replaced_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    student: Mapped[Student] = relationship(back_populates="contracts")
    slots: Mapped[list[ContractSlot]] = relationship(
        order_by="ContractSlot.id", cascade="all, delete-orphan"
    )


class ContractSlot(Base):
    __tablename__ = "contract_slots"
    __table_args__ = (CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    weekday: Mapped[int] = mapped_column(SmallInteger)
    start: Mapped[time] = mapped_column(Time)
    end: Mapped[time] = mapped_column(Time)


class ExcusedAbsence(Base):
    __tablename__ = "excused_absences"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    student_pk: Mapped[int] = mapped_column(ForeignKey("students.id"), index=True)
    start: Mapped[datetime] = mapped_column(UtcDateTime)
    end: Mapped[datetime] = mapped_column(UtcDateTime)
    category: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class PresenceCorrection(Base):
    """A tutor's correction of presence: who, when, why (see ``domain.sessions``)."""

    __tablename__ = "presence_corrections"
    __table_args__ = (CheckConstraint(_in("kind", CORRECTION_KINDS), name="kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    student_pk: Mapped[int] = mapped_column(ForeignKey("students.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    session_start: Mapped[datetime | None] = mapped_column(UtcDateTime)
    start: Mapped[datetime | None] = mapped_column(UtcDateTime)
    end: Mapped[datetime | None] = mapped_column(UtcDateTime)
    moment: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    reason: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class AuditEntry(Base):
    """Who changed what, when; ``before``/``after`` are JSON summaries without phone
    numbers (see ``server.registry.audit``)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(50))
    entity: Mapped[str] = mapped_column(String(50))
    entity_id: Mapped[str] = mapped_column(String(64))
    before: Mapped[str] = mapped_column(Text, default="")
    after: Mapped[str] = mapped_column(Text, default="")


class WeeklyRecord(Base):
    """A frozen week of one student: it survives the purge of the raw taps."""

    __tablename__ = "weekly_records"
    __table_args__ = (
        UniqueConstraint("student_pk", "week"),
        CheckConstraint(_in("status", WEEK_STATUSES), name="status"),
        Index("ix_weekly_records_week", "week"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    student_pk: Mapped[int] = mapped_column(ForeignKey("students.id"))
    week: Mapped[str] = mapped_column(String(8))
    expected_s: Mapped[int] = mapped_column(Integer)
    attended_s: Mapped[int] = mapped_column(Integer)
    unverified_s: Mapped[int] = mapped_column(Integer)
    missed_slots: Mapped[int] = mapped_column(Integer)
    late_arrivals: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10))
    frozen_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # How the week adds up (slot outcomes, sessions), JSON: it explains itself once its
    # raw taps are purged. None for weeks frozen before it was kept.
    breakdown: Mapped[str | None] = mapped_column(Text, nullable=True)


class UnknownBadge(Base):
    """A badge tapped at a reader that no student holds, kept so that an admin can
    attach it to a student. One open row per hash; ``attached_at`` closes it."""

    __tablename__ = "unknown_badges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    badge_hash: Mapped[str] = mapped_column(String(64), index=True)
    campus_id: Mapped[str] = mapped_column(String(64))
    reader_id: Mapped[str] = mapped_column(String(64))
    first_seen: Mapped[datetime] = mapped_column(UtcDateTime)
    last_seen: Mapped[datetime] = mapped_column(UtcDateTime)
    seen_count: Mapped[int] = mapped_column(Integer, default=1)
    attached_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    student_pk: Mapped[int | None] = mapped_column(ForeignKey("students.id"))


# Feature tables live in their own modules; importing them here registers them on Base.
from server.registry import account_models as account_models  # noqa: E402
from server.registry import alert_models as alert_models  # noqa: E402
from server.registry import occupancy_models as occupancy_models  # noqa: E402
from server.registry import outcome_models as outcome_models  # noqa: E402
from server.registry import shared_state_models as shared_state_models  # noqa: E402

# The display name of the tutor's most recent account with one (see ``Tutor.label``).
Tutor.account_name = column_property(  # type: ignore[attr-defined]
    select(account_models.Account.display_name)
    .where(
        account_models.Account.tutor_id == Tutor.id,
        account_models.Account.display_name != "",
    )
    .order_by(account_models.Account.id.desc())
    .limit(1)
    .correlate_except(account_models.Account)
    .scalar_subquery(),
    deferred=False,
)
