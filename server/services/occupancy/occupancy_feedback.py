"""The capacity refinement of the readers' feedback: an entry into a campus at its hard
(fire-safety) limit is still recorded, but the door's display says *Capacité atteinte*
so the person knows the place is full. Passed as ``refine`` to
``presence.feedback_listener``, registered after ``occupancy.occupancy_listener``."""

from __future__ import annotations

from dataclasses import replace

from server.i18n import _
from server.services.occupancy.occupancy import OccupancyService
from server.services.presence.presence import TapVerdict, Verdict

CAPACITY_REACHED = "Capacity reached"


def with_capacity(verdict: TapVerdict, occupancy: OccupancyService) -> TapVerdict:
    if verdict.result is Verdict.IN and occupancy.is_full(verdict.campus, verdict.reader):
        return replace(verdict, text=_(CAPACITY_REACHED)[:64])
    return verdict
