"""What the screens (``server.services.screens``) read from storage, as ports: the read
models of the tutor's, the student's and the admin's pages, in bulk (one call for many
students or alerts), and the one thing a screen writes itself (a tutor's note).

The registry's adapter is ``server.registry.screen_reads`` (SQLite and PostgreSQL); the
unit tests of the screens use in-memory fakes of these ports. Records are plain values."""

from __future__ import annotations

from dataclasses import dataclass

from server.domain.accounts import Principal, Role


@dataclass(frozen=True, slots=True)
class Scope:
    """``campus_id`` / ``tutor_id`` None: no restriction on it."""

    campus_id: str | None
    tutor_id: int | None

    @classmethod
    def of(cls, who: Principal) -> Scope:
        campus = who.campus_id or None
        if who.role is Role.TUTOR:
            # A tutor account without its tutor row sees nobody (-1 matches no tutor).
            return cls(campus, who.tutor_id if who.tutor_id is not None else -1)
        return cls(campus, None)


@dataclass(frozen=True, slots=True)
class StudentRef:
    """A student as the tutor pages name them, with what access checks need."""

    pk: int
    student_id: str
    campus_id: str
    tutor_id: int | None
    name: str
    phone: str
    tutor: str  # the tutor's name (``Tutor.label``), "" without a tutor
