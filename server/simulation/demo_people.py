"""The demo's staff: the two tutors' names and phones, and one account per role, all
with one random password kept in the demo's folder and printed on the console."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import orm, select

from server.domain.accounts import Actor, Role
from server.registry.account_store import accounts_unit_of_work
from server.registry.models import Student, Tutor
from server.services.accounts.accounts import AccountService
from server.simulation.roster import TUTORS

# login, role, display name, tutor e-mail or student id
ACCOUNTS = (
    ("tutrice", Role.TUTOR, "Claire Moulin (tutrice)", TUTORS[0][0]),
    ("tuteur", Role.TUTOR, "Marc Lefèvre (tuteur)", TUTORS[1][0]),
    ("coordination", Role.COORDINATOR, "Sophie Girard (coordinatrice)", ""),
    ("admin", Role.ADMIN, "Administrateur", ""),
    ("etudiante", Role.STUDENT, "Inès Dubois (étudiante)", "D003"),
)


def furnish_people(
    registry: Callable[[], orm.Session], campus: str, password: str, now: datetime
) -> list[tuple[str, Role]]:
    """Names the tutors and creates the demo accounts (idempotent); returns the logins."""
    with registry() as session, session.begin():
        tutors = {row.email: row for row in session.scalars(select(Tutor))}
        for email, name, phone in TUTORS:
            if email in tutors:
                tutors[email].name, tutors[email].phone = name, phone
        links = {email: row.id for email, row in tutors.items()}
        students = {sid: pk for sid, pk in session.execute(select(Student.student_id, Student.id))}
    accounts = AccountService(accounts_unit_of_work(registry))
    existing = {account.login for account in accounts.accounts()}
    for login, role, name, link in ACCOUNTS:
        if login in existing:
            continue
        accounts.create(
            login=login,
            password=password,
            role=role,
            actor=Actor("demo", now),
            display_name=name,
            campus_id="" if role is Role.ADMIN else campus,
            tutor_id=links.get(link) if role is Role.TUTOR else None,
            student_pk=students.get(link) if role is Role.STUDENT else None,
        )
    return [(login, role) for login, role, _name, _link in ACCOUNTS]
