"""Which students a member of staff follows: a tutor their own students (on their
campus), a coordinator every student of their campus, an admin every student
(:class:`Scope`, read by ``server.ports.screens.ScreenReads.students``)."""

from __future__ import annotations

from server.ports.screens import Scope, StudentRef

__all__ = ["Scope", "StudentRef"]
