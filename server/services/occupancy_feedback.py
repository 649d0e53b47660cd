"""The readers' feedback with the capacity hook: an entry into a campus at its hard
(fire-safety) limit is still recorded, but the door's display says *Capacité atteinte*
so the person knows the place is full. Use it instead of ``presence.feedback_listener``,
registered after ``occupancy.occupancy_listener``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime

from server.domain.events import StoredTap
from server.i18n import _
from server.services.occupancy import OccupancyService
from server.services.presence import PresenceService, TapVerdict, Verdict, to_feedback

CAPACITY_REACHED = "Capacity reached"


def with_capacity(verdict: TapVerdict, occupancy: OccupancyService) -> TapVerdict:
    if verdict.result is Verdict.IN and occupancy.is_full(verdict.campus, verdict.reader):
        return replace(verdict, text=_(CAPACITY_REACHED)[:64])
    return verdict


def feedback_with_capacity_listener(
    presence: PresenceService,
    occupancy: OccupancyService,
    publish: Callable[[str, bytes], None],
    clock: Callable[[], datetime],
) -> Callable[[Sequence[StoredTap]], None]:
    def listener(taps: Sequence[StoredTap]) -> None:
        for verdict in presence.taps_stored(taps, clock()):
            message = to_feedback(with_capacity(verdict, occupancy))
            if message is not None:
                publish(*message)

    return listener
