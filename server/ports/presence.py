"""What the presence use cases need from storage, as ports: plain records shared by the
services (``server.services.presence``) and the registry's adapter
(``server.registry.presence_repository``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from server.domain.contracts import Contract


@dataclass(frozen=True, slots=True)
class BadgeHolding:
    """A student holding a badge (by its hash) from ``active_from`` to ``revoked_at``."""

    badge_hash: str
    student_pk: int
    active_from: datetime
    revoked_at: datetime | None

    def holds_at(self, moment: datetime) -> bool:
        return self.active_from <= moment and (self.revoked_at is None or moment < self.revoked_at)


@dataclass(frozen=True, slots=True)
class StudentPlan:
    """A student and the contracts that matter for a span of days."""

    student_pk: int
    student_id: str
    campus_id: str
    contracts: tuple[Contract, ...]


@dataclass(frozen=True, slots=True)
class Sighting:
    badge_hash: str
    campus_id: str
    reader_id: str
    ts: datetime


@dataclass(frozen=True, slots=True)
class ExcuseRecord:
    """An excused absence as recorded (the tutor's page, the student's data export)."""

    start: datetime
    end: datetime
    category: str
    note: str
    created_by: str
    created_at: datetime
