"""Accounts and what each role may see: pure rules, no I/O.

Four roles. An ``admin`` runs the deployment; a ``coordinator`` runs one campus (or every
campus when ``campus_id`` is empty); a ``tutor`` sees only their own students; a
``student`` sees only themself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

MIN_PASSWORD_CHARS = 12
MAX_PASSWORD_CHARS = 256


class Role(StrEnum):
    STUDENT = "student"
    TUTOR = "tutor"
    COORDINATOR = "coordinator"
    ADMIN = "admin"


STAFF = frozenset({Role.TUTOR, Role.COORDINATOR, Role.ADMIN})
MANAGERS = frozenset({Role.COORDINATOR, Role.ADMIN})


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is asking: a logged-in account or an API token. ``campus_id`` empty means
    every campus (admins, national coordinators, integration tokens)."""

    name: str
    role: Role
    campus_id: str = ""
    tutor_id: int | None = None
    student_pk: int | None = None
    account_id: int | None = None

    def sees_campus(self, campus_id: str) -> bool:
        return not self.campus_id or self.campus_id == campus_id

    def sees_student(self, *, campus_id: str, tutor_id: int | None, student_pk: int) -> bool:
        """A student sees themself, a tutor their own students, managers their campus."""
        if self.role is Role.STUDENT:
            return self.student_pk == student_pk
        if not self.sees_campus(campus_id):
            return False
        if self.role is Role.TUTOR:
            return self.tutor_id is not None and self.tutor_id == tutor_id
        return True


def password_problems(password: str, *, login: str) -> list[str]:
    """Why ``password`` cannot be used (English message ids, translated by the caller);
    empty when it is fine. Length matters most (NIST SP 800-63B, ANSSI)."""
    problems = []
    if len(password) < MIN_PASSWORD_CHARS:
        problems.append("A password needs at least 12 characters.")
    if len(password) > MAX_PASSWORD_CHARS:
        problems.append("A password has at most 256 characters.")
    if password.strip().lower() == login.strip().lower():
        problems.append("The password cannot be the login.")
    if password and len(set(password)) < 4:
        problems.append("The password repeats too few characters.")
    return problems


@dataclass(frozen=True, slots=True)
class Actor:
    """Who makes a change, and when (for the audit log)."""

    name: str
    at: datetime
