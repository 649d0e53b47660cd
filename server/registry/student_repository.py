"""Students, tutors, contracts and badges: the writes of imports and enrolment, each
one audited (who, what, when, before/after without phone numbers)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from server.domain.accounts import Actor
from server.domain.calendar import IsoWeek
from server.domain.contracts import Contract, Slot, plan_contract_change
from server.domain.errors import DomainError
from server.registry import audit
from server.registry.models import (
    Badge,
    Campus,
    ContractSlot,
    Student,
    Tutor,
    UnknownBadge,
    WeeklyRecord,
)
from server.registry.models import Contract as ContractRow


def as_contract(row: ContractRow) -> Contract:
    slots = tuple(Slot(slot.weekday, slot.start, slot.end) for slot in row.slots)
    return Contract(row.weekly_minutes, slots, row.valid_from, row.valid_to)


class StudentRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def contracts_of(self, student_pk: int, *, current: bool = False) -> list[ContractRow]:
        """A student's contracts in the order they were recorded; ``current``: only those
        not replaced by a correction, by start day."""
        query = select(ContractRow).where(ContractRow.student_pk == student_pk)
        if current:
            query = query.where(ContractRow.replaced_at.is_(None)).order_by(ContractRow.valid_from)
        else:
            query = query.order_by(ContractRow.id)
        return list(self.session.scalars(query))

    def campus_exists(self, campus_id: str) -> bool:
        return self.session.get(Campus, campus_id) is not None

    def student(self, student_id: str) -> Student | None:
        return self.session.scalar(select(Student).where(Student.student_id == student_id))

    def tutor(self, email: str, actor: Actor) -> Tutor:
        """The tutor with this e-mail, created if new."""
        email = email.strip().lower()
        tutor = self.session.scalar(select(Tutor).where(Tutor.email == email))
        if tutor is None:
            tutor = Tutor(email=email, name="", phone="")
            self.session.add(tutor)
            self.session.flush()
            self._audit(actor, "tutor_created", "tutor", tutor.id, None, {"email": email})
        return tutor

    def save_student(
        self, student_id: str, values: Mapping[str, Any], actor: Actor
    ) -> tuple[Student, str]:
        """Create or update a student; returns it and ``created``/``updated``/``unchanged``."""
        student = self.student(student_id)
        if student is None:
            student = Student(student_id=student_id, created_at=actor.at, updated_at=actor.at)
            for name, value in values.items():
                setattr(student, name, value)
            self.session.add(student)
            self.session.flush()
            self._audit(actor, "student_created", "student", student_id, None, dict(values))
            return student, "created"
        before = {name: getattr(student, name) for name in values}
        changed = {name: value for name, value in values.items() if before[name] != value}
        if not changed:
            return student, "unchanged"
        for name, value in changed.items():
            setattr(student, name, value)
        student.updated_at = actor.at
        self._audit(
            actor,
            "student_updated",
            "student",
            student_id,
            {name: before[name] for name in changed},
            changed,
        )
        return student, "updated"

    def apply_contract(self, student: Student, contract: Contract, actor: Actor) -> bool:
        """Record ``contract`` as the student's contract, keeping history; False if it was
        already in force as it is."""
        current = {row.id: row for row in student.contracts if row.replaced_at is None}
        change = plan_contract_change(
            {key: as_contract(row) for key, row in current.items()}, contract
        )
        if change.unchanged:
            return False
        for key in change.replaced:
            current[key].replaced_at = actor.at
            self._audit(actor, "contract_replaced", "contract", key, _terms(current[key]), None)
        for key, last_day in change.ended:
            before = _terms(current[key])
            current[key].valid_to = last_day
            self._audit(actor, "contract_ended", "contract", key, before, _terms(current[key]))
        row = ContractRow(
            student_pk=student.id,
            weekly_minutes=contract.weekly_minutes,
            valid_from=contract.valid_from,
            valid_to=contract.valid_to,
            created_at=actor.at,
            slots=[
                ContractSlot(weekday=s.weekday, start=s.start, end=s.end) for s in contract.slots
            ],
        )
        student.contracts.append(row)
        self.session.flush()
        self._audit(actor, "contract_created", "contract", row.id, None, _terms(row))
        return True

    def give_badge(
        self, student: Student, badge_hash: str, active_from: datetime, actor: Actor
    ) -> bool:
        """Attach a badge (by its hash) to a student from ``active_from``; False if they
        already hold it. Raises :class:`DomainError` if someone else holds it."""
        holdings = list(self.session.scalars(select(Badge).where(Badge.badge_hash == badge_hash)))
        for holding in holdings:
            if holding.revoked_at is None and holding.student_pk == student.id:
                return False
            if holding.revoked_at is None:
                raise DomainError("this badge already belongs to another student")
            active_from = max(active_from, holding.revoked_at)
        badge = Badge(student_pk=student.id, badge_hash=badge_hash, active_from=active_from)
        self.session.add(badge)
        self.session.flush()
        for sighting in self.session.scalars(
            select(UnknownBadge).where(
                UnknownBadge.badge_hash == badge_hash, UnknownBadge.attached_at.is_(None)
            )
        ):
            sighting.attached_at, sighting.student_pk = actor.at, student.id
        after = {"student_id": student.student_id, "active_from": active_from}
        self._audit(actor, "badge_attached", "badge", badge.id, None, after)
        return True

    def revoke_badge(self, badge: Badge, reason: str, actor: Actor) -> None:
        badge.revoked_at, badge.revoked_reason = actor.at, reason[:200]
        after = {"revoked_at": actor.at, "reason": reason[:200]}
        self._audit(actor, "badge_revoked", "badge", badge.id, None, after)

    def reopen_weeks(
        self, student: Student, weeks: Iterable[IsoWeek], actor: Actor, *, cause: str
    ) -> list[IsoWeek]:
        """Drop the frozen records of ``weeks`` so the next report recomputes them from the
        taps; each one dropped leaves an audit entry with what it said. Returns those."""
        labels = {str(week): week for week in weeks}
        if not labels:
            return []
        records = self.session.scalars(
            select(WeeklyRecord)
            .where(WeeklyRecord.student_pk == student.id, WeeklyRecord.week.in_(list(labels)))
            .order_by(WeeklyRecord.week)
        ).all()
        for record in records:
            before = {
                "student_id": student.student_id,
                "week": record.week,
                "status": record.status,
                "attended_s": record.attended_s,
                "expected_s": record.expected_s,
            }
            entity_id = f"{student.student_id}/{record.week}"
            after = {"cause": cause}
            self._audit(actor, "week_reopened", "weekly_record", entity_id, before, after)
        if records:
            self.session.execute(
                delete(WeeklyRecord).where(WeeklyRecord.id.in_([r.id for r in records]))
            )
        return [labels[record.week] for record in records]

    def _audit(
        self,
        actor: Actor,
        action: str,
        entity: str,
        entity_id: str | int,
        before: Mapping[str, Any] | None,
        after: Mapping[str, Any] | None,
    ) -> None:
        audit.record(
            self.session,
            at=actor.at,
            actor=actor.name,
            action=action,
            entity=entity,
            entity_id=entity_id,
            before=before,
            after=after,
        )


def _terms(row: ContractRow) -> dict[str, Any]:
    return {
        "weekly_minutes": row.weekly_minutes,
        "slots": [str(Slot(slot.weekday, slot.start, slot.end)) for slot in row.slots],
        "valid_from": row.valid_from,
        "valid_to": row.valid_to,
    }
