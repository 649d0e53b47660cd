"""Use cases of the admin's student pages: the list of a campus's students, one
student's contract as it stands, a new version of that contract, and the tutor who
follows them. Every write goes through the people ports (``server.ports.people``),
which audit it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from server.domain.accounts import Actor
from server.domain.calendar import IsoWeek
from server.domain.contracts import Contract, Slot
from server.domain.errors import DomainError
from server.ports.people import PeopleUnitOfWork, StudentLine, StudentRecord, TutorRef
from server.services.people.contract_changes import record_contract
from server.services.people.student_import import StudentRow, save_row
from server.services.privacy.erasure import is_erased  # reads student_id and first_name

UnitOfWork = Callable[[], PeopleUnitOfWork]
MAX_LISTED = 500


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


def tutors(unit_of_work: UnitOfWork) -> list[TutorRef]:
    with unit_of_work() as uow:
        return uow.tutors.listing()


def student_count(unit_of_work: UnitOfWork, campus_ids: list[str]) -> int:
    with unit_of_work() as uow:
        return uow.students.count(campus_ids)


def list_students(
    unit_of_work: UnitOfWork, campus_ids: list[str], search: str = ""
) -> list[StudentLine]:
    """Students of these campuses whose id or name contains ``search``, by name."""
    with unit_of_work() as uow:
        return uow.students.listing(campus_ids, search, MAX_LISTED)


def student_ref(unit_of_work: UnitOfWork, student_id: str) -> StudentRecord | None:
    with unit_of_work() as uow:
        return uow.students.by_student_id(student_id)


def student_file(unit_of_work: UnitOfWork, student_id: str, today: date) -> StudentFile | None:
    with unit_of_work() as uow:
        row = uow.students.by_student_id(student_id)
        if row is None:
            return None
        versions = uow.contracts.in_force(row.pk)
        held = uow.badges.held(row.pk)
    return StudentFile(
        row.pk,
        row.student_id,
        row.last_name,
        row.first_name,
        row.email,
        row.campus_id,
        row.programme,
        row.institution,
        row.tutor_id,
        _in_force(versions, today),
        tuple(versions),
        held,
        row.institution_type,
        bool(row.phone),
        is_erased(row),
    )


def _in_force(contracts: list[Contract], today: date) -> Contract | None:
    """The version covering ``today``, else the one starting last."""
    covering = [contract for contract in contracts if contract.covers(today)]
    if covering:
        return covering[-1]
    return max(contracts, key=lambda contract: contract.valid_from, default=None)


def change_contract(
    unit_of_work: UnitOfWork,
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
    with unit_of_work() as uow:
        student = uow.students.by_student_id(student_id)
        if student is None:
            raise DomainError("unknown student {student_id}", student_id=student_id)
        reopened = record_contract(
            uow,
            student.pk,
            contract,
            actor,
            timezone=ZoneInfo(timezone),
            retention=timedelta(days=retention_days),
        )
        uow.commit()
        return reopened


def assign_tutor(
    unit_of_work: UnitOfWork, student_id: str, tutor_id: int | None, actor: Actor
) -> bool:
    """Who follows the student (None: nobody); False if unchanged. Audited."""
    with unit_of_work() as uow:
        if uow.students.by_student_id(student_id) is None:
            raise DomainError("unknown student {student_id}", student_id=student_id)
        if tutor_id is not None and not uow.tutors.exists(tutor_id):
            raise DomainError("There is no such tutor.")
        _row, outcome = uow.students.save(student_id, {"tutor_id": tutor_id}, actor)
        uow.commit()
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
    unit_of_work: UnitOfWork, student_id: str, values: Mapping[str, str], actor: Actor
) -> bool:
    """Save the student's identity and contact fields in ``values`` (checked by the
    caller); False if unchanged. Audited, the phone left out of the summary. An erased
    student cannot be given a name again."""
    unknown = set(values) - set(IDENTITY_FIELDS)
    if unknown:
        raise ValueError(f"not identity fields: {sorted(unknown)}")
    with unit_of_work() as uow:
        student = uow.students.by_student_id(student_id)
        if student is None:
            raise DomainError("unknown student {student_id}", student_id=student_id)
        if is_erased(student):
            raise DomainError("This student was erased: their identity cannot be set again.")
        _row, outcome = uow.students.save(student_id, dict(values), actor)
        uow.commit()
        return outcome == "updated"


def create_student(
    unit_of_work: UnitOfWork,
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
    with unit_of_work() as uow:
        if uow.students.by_student_id(row.student_id) is not None:
            raise DomainError(
                "A student with the id {student_id} already exists.", student_id=row.student_id
            )
        if not uow.students.campus_exists(campus_id):
            raise DomainError("unknown campus {campus}", campus=campus_id)
        save_row(
            uow,
            row,
            campus_id=campus_id,
            timezone=ZoneInfo(timezone),
            retention=timedelta(days=retention_days),
            actor=actor,
        )
        uow.commit()


def give_badge(unit_of_work: UnitOfWork, student_id: str, badge_hash: str, actor: Actor) -> bool:
    """Give a badge (by its keyed hash) to a student from now, audited; False if they
    already hold it. Raises :class:`DomainError` if someone else holds it, or if the
    badge was already seen at a reader: that one is attached from the page of badges
    seen, which asks whether its earlier taps count."""
    with unit_of_work() as uow:
        student = uow.students.by_student_id(student_id)
        if student is None:
            raise DomainError("unknown student {student_id}", student_id=student_id)
        if uow.badges.seen_unattached(badge_hash):
            raise DomainError(
                "This badge was already seen at a reader: attach it from the page of badges "
                "seen, which asks whether its earlier taps count."
            )
        given = uow.badges.give(student.pk, badge_hash, actor.at, actor)
        uow.commit()
        return given
