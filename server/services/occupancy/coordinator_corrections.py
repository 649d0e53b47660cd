"""Counts set by hand on the coordinator's occupancy page: the correction itself goes
through ``OccupancyService.correct`` (audited, kept until closing); the day's corrections
of a campus, with their reasons, are read back by the occupancy repository."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from server.domain.calendar import local_midnight
from server.domain.occupancy import ZoneCount
from server.ports.occupancy import CountCorrection
from server.services.occupancy.occupancy import OccupancyService

MAX_COUNT = 999
REASON_CHARS = (3, 500)


def correct_count(
    occupancy: OccupancyService,
    campus: str,
    room: str | None,
    count: int,
    *,
    reason: str,
    actor: str,
    now: datetime,
) -> ZoneCount:
    """Set the count people see for the campus (``room`` None) or one of its rooms."""
    return occupancy.correct(campus, room, count, reason=reason, actor=actor, now=now)


def corrections_today(
    occupancy: OccupancyService, campus: str, now: datetime, tz: ZoneInfo
) -> list[CountCorrection]:
    """The campus's corrections since local midnight, newest first."""
    since = local_midnight(now.astimezone(tz).date(), tz)
    return occupancy.corrections(campus, since, now)
