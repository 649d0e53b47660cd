"""Registry tables of the web application (issue 7): staff and student accounts, API
tokens for integrations, and tutors' notes on a student. Passwords are stored only as
slow salted hashes and API tokens only as SHA-256 digests. Migration:
``versions/0005_accounts.py`` (and ``0006_account_phone.py``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from server.registry.models import Base, UtcDateTime

ROLES = ("student", "tutor", "coordinator", "admin")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


class Account(Base):
    """A person who logs in. A tutor account points at its ``tutors`` row, a student
    account at its ``students`` row; ``campus_id`` empty means every campus."""

    __tablename__ = "accounts"
    __table_args__ = (CheckConstraint(_in("role", ROLES), name="role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    login: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    # E.164; a coordinator's is the number an escalated alert is texted to (SMS webhook).
    phone: Mapped[str] = mapped_column(String(20), default="")
    role: Mapped[str] = mapped_column(String(20))
    campus_id: Mapped[str] = mapped_column(String(64), default="")
    tutor_id: Mapped[int | None] = mapped_column(ForeignKey("tutors.id"))
    student_pk: Mapped[int | None] = mapped_column(ForeignKey("students.id"))
    password_hash: Mapped[str] = mapped_column(String(300))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Bumped on a password change: older sessions of this account stop working.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ApiToken(Base):
    """A bearer token for an integration, created and revoked by an admin."""

    __tablename__ = "api_tokens"
    __table_args__ = (CheckConstraint(_in("role", ROLES), name="role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    role: Mapped[str] = mapped_column(String(20))
    campus_id: Mapped[str] = mapped_column(String(64), default="")
    created_by: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class StudentNote(Base):
    """A tutor's note on a student's follow-up (interviews, difficulties, plans)."""

    __tablename__ = "student_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    student_pk: Mapped[int] = mapped_column(ForeignKey("students.id"), index=True)
    author: Mapped[str] = mapped_column(String(254))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
