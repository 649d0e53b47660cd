"""Use cases of the admin's student pages: the list of a campus's students, one
student's contract as it stands, a new version of that contract, and the tutor who
follows them. Every write goes through :class:`StudentRepository` (audited)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, orm, select

from server.domain.accounts import Actor
from server.domain.calendar import IsoWeek
from server.domain.contracts import Contract, Slot
from server.domain.errors import DomainError
from server.registry.models import Badge, Student, Tutor, UnknownBadge
from server.registry.models import Contract as ContractRow
from server.registry.student_repository import StudentRepository, as_contract
from server.services.people.contract_changes import record_contract
from server.services.people.student_import import StudentRow, save_row
from server.services.privacy.erasure import is_erased

Registry = Callable[[], orm.Session]
MAX_LISTED = 500


@dataclass(frozen=True, slots=True)
class TutorRef:
    id: int
    email: str
    name: str

    @property
    def label(self) -> str:
        return f"{self.name} ({self.email})" if self.name else self.email


@dataclass(frozen=True, slots=True)
class StudentLine:
    """A row of the list: no phone number (the admin does not call students)."""

    pk: int
    student_id: str
    last_name: str
    first_name: str
    campus_id: str
    programme: str
    tutor: str  # e-mail, '' if nobody follows the student
    badges: int  # held now


@dataclass(frozen=True, slots=True)
class StudentFile:
    """One student as the contract editor shows them."""

    pk: int
    student_id: str
    last_name: str
    first_name: str
    email: str
    campus_id: str
    programme: str
    institution: str
    tutor_id: int | None
    contract: Contract | None  # the version in force (or the latest one)
    history: tuple[Contract, ...]  # every version not replaced, oldest first
    badges: int
    institution_type: str = ""
    has_phone: bool = False  # the number itself is not shown to the admin
    erased: bool = False


def tutors(registry: Registry) -> list[TutorRef]:
    with registry() as session:
        rows = session.scalars(select(Tutor).order_by(Tutor.name, Tutor.email))
        return [TutorRef(row.id, row.email, row.name) for row in rows]


def student_count(registry: Registry, campus_ids: list[str]) -> int:
    with registry() as session:
        query = select(func.count(Student.id)).where(Student.campus_id.in_(campus_ids))
        return session.scalar(query) or 0


def list_students(registry: Registry, campus_ids: list[str], search: str = "") -> list[StudentLine]:
    """Students of these campuses whose id or name contains ``search``, by name."""
    held = (
        select(Badge.student_pk, func.count(Badge.id).label("held"))
        .where(Badge.revoked_at.is_(None))
        .group_by(Badge.student_pk)
        .subquery()
    )
    query = (
        select(Student, Tutor.email, held.c.held)
        .outerjoin(Tutor, Tutor.id == Student.tutor_id)
        .outerjoin(held, held.c.student_pk == Student.id)
        .where(Student.campus_id.in_(campus_ids))
    )
    words = search.strip()
    if words:
        pattern = f"%{words}%"
        query = query.where(
            or_(
                Student.student_id.ilike(pattern),
                Student.last_name.ilike(pattern),
                Student.first_name.ilike(pattern),
                (Student.first_name + " " + Student.last_name).ilike(pattern),
            )
        )
    query = query.order_by(Student.last_name, Student.first_name).limit(MAX_LISTED)
    with registry() as session:
        return [
            StudentLine(
                row.id,
                row.student_id,
                row.last_name,
                row.first_name,
                row.campus_id,
                row.programme,
                email or "",
                count or 0,
            )
            for row, email, count in session.execute(query)
        ]


def student_file(registry: Registry, student_id: str, today: date) -> StudentFile | None:
    with registry() as session:
        row = StudentRepository(session).student(student_id)
        if row is None:
            return None
        versions = [version for version in row.contracts if version.replaced_at is None]
        history = tuple(as_contract(version) for version in versions)
        held = sum(1 for badge in row.badges if badge.revoked_at is None)
        return StudentFile(
            row.id,
            row.student_id,
            row.last_name,
            row.first_name,
            row.email,
            row.campus_id,
            row.programme,
            row.institution,
            row.tutor_id,
            _in_force(versions, today),
            history,
            held,
            row.institution_type,
            bool(row.phone),
            is_erased(row),
        )


def _in_force(versions: list[ContractRow], today: date) -> Contract | None:
    """The version covering ``today``, else the one starting last."""
    contracts = [as_contract(version) for version in versions]
    covering = [contract for contract in contracts if contract.covers(today)]
    if covering:
        return covering[-1]
    return max(contracts, key=lambda contract: contract.valid_from, default=None)


def change_contract(
    registry: Registry,
    student_id: str,
    *,
    weekly_minutes: int,
    slots: tuple[Slot, ...],
    valid_from: date,
    valid_to: date | None,
    actor: Actor,
    timezone: str,
    retention_days: int,
) -> tuple[IsoWeek, ...] | None:
    """Record a new version of the contract (history kept, audited); returns the frozen
    weeks it re-opened, or None when it is already in force as it is. Raises
    :class:`DomainError` on broken terms."""
    contract = Contract(weekly_minutes, slots, valid_from, valid_to)
    with registry() as session, session.begin():
        students = StudentRepository(session)
        student = students.student(student_id)
        if student is None:
            raise DomainError("unknown student {student_id}", student_id=student_id)
        return record_contract(
            students,
            student,
            contract,
            actor,
            timezone=ZoneInfo(timezone),
            retention=timedelta(days=retention_days),
        )


def assign_tutor(registry: Registry, student_id: str, tutor_id: int | None, actor: Actor) -> bool:
    """Who follows the student (None: nobody); False if unchanged. Audited."""
    with registry() as session, session.begin():
        students = StudentRepository(session)
        student = students.student(student_id)
        if student is None:
            raise DomainError("unknown student {student_id}", student_id=student_id)
        if tutor_id is not None and session.get(Tutor, tutor_id) is None:
            raise DomainError("There is no such tutor.")
        _row, outcome = students.save_student(student_id, {"tutor_id": tutor_id}, actor)
        return outcome == "updated"


IDENTITY_FIELDS = (
    "last_name",
    "first_name",
    "email",
    "phone",
    "programme",
    "institution",
    "institution_type",
)


def change_identity(
    registry: Registry, student_id: str, values: Mapping[str, str], actor: Actor
) -> bool:
    """Save the student's identity and contact fields in ``values`` (checked by the
    caller); False if unchanged. Audited, the phone left out of the summary. An erased
    student cannot be given a name again."""
    unknown = set(values) - set(IDENTITY_FIELDS)
    if unknown:
        raise ValueError(f"not identity fields: {sorted(unknown)}")
    with registry() as session, session.begin():
        students = StudentRepository(session)
        student = students.student(student_id)
        if student is None:
            raise DomainError("unknown student {student_id}", student_id=student_id)
        if is_erased(student):
            raise DomainError("This student was erased: their identity cannot be set again.")
        _row, outcome = students.save_student(student_id, dict(values), actor)
        return outcome == "updated"


def create_student(
    registry: Registry,
    row: StudentRow,
    *,
    campus_id: str,
    actor: Actor,
    timezone: str,
    retention_days: int,
) -> None:
    """Add one student typed in the admin's form (identity, tutor, contract, badge hash),
    saved and audited as an imported row is. Raises :class:`DomainError` if the id is
    taken or the badge belongs to someone else; nothing is saved then."""
    with registry() as session, session.begin():
        students = StudentRepository(session)
        if students.student(row.student_id) is not None:
            raise DomainError(
                "A student with the id {student_id} already exists.", student_id=row.student_id
            )
        if not students.campus_exists(campus_id):
            raise DomainError("unknown campus {campus}", campus=campus_id)
        save_row(
            students,
            row,
            campus_id=campus_id,
            timezone=ZoneInfo(timezone),
            retention=timedelta(days=retention_days),
            actor=actor,
        )


def give_badge(
    registry: Callable[[], orm.Session], student_id: str, badge_hash: str, actor: Actor
) -> bool:
    """Give a badge (by its keyed hash) to a student from now, audited; False if they
    already hold it. Raises :class:`DomainError` if someone else holds it, or if the
    badge was already seen at a reader: that one is attached from the page of badges
    seen, which asks whether its earlier taps count."""
    with registry() as session, session.begin():
        students = StudentRepository(session)
        student = students.student(student_id)
        if student is None:
            raise DomainError("unknown student {student_id}", student_id=student_id)
        seen = session.scalar(
            select(UnknownBadge.id).where(
                UnknownBadge.badge_hash == badge_hash, UnknownBadge.attached_at.is_(None)
            )
        )
        if seen is not None:
            raise DomainError(
                "This badge was already seen at a reader: attach it from the page of badges "
                "seen, which asks whether its earlier taps count."
            )
        return students.give_badge(student, badge_hash, actor.at, actor)
