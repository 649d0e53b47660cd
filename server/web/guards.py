"""Who is asking, and what they may see. Every page and API route goes through here:
a view declares its roles with :func:`roles`, and checks a student or a campus with
:func:`check_student` / :func:`check_campus` (403 otherwise)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, g, redirect, request, url_for

from server.domain.accounts import Principal, Role

View = TypeVar("View", bound=Callable[..., Any])


def principal() -> Principal | None:
    return g.get("principal")


def current() -> Principal:
    """The principal of a view protected by :func:`roles`."""
    who = principal()
    if who is None:
        abort(401)
    return who


def roles(*allowed: Role) -> Callable[[View], View]:
    """Only these roles; anonymous visitors of a page are sent to the login page."""

    def decorate(view: View) -> View:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            who = principal()
            if who is None:
                if request.path.startswith("/api/"):
                    abort(401)
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            if who.role not in allowed:
                abort(403)
            return view(*args, **kwargs)

        guarded.allowed_roles = frozenset(allowed)  # type: ignore[attr-defined]
        return guarded  # type: ignore[return-value]

    return decorate


def check_campus(campus_id: str) -> None:
    if not current().sees_campus(campus_id):
        abort(403)


def check_student(*, campus_id: str, tutor_id: int | None, student_pk: int) -> None:
    if not current().sees_student(campus_id=campus_id, tutor_id=tutor_id, student_pk=student_pk):
        abort(403)
