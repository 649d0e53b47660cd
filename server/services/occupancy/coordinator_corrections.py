"""Counts set by hand on the coordinator's occupancy page: the correction itself goes
through ``OccupancyService.correct`` (audited, kept until closing); this module reads the
day's corrections of a campus back from the audit log, with their reasons."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from server.domain.calendar import local_midnight
from server.domain.occupancy import ZoneCount
from server.registry.models import AuditEntry
from server.registry.occupancy_repository import CORRECTION_ACTION, CORRECTION_ENTITY
from server.services.occupancy.occupancy import OccupancyService

MAX_COUNT = 999
REASON_CHARS = (3, 500)


@dataclass(frozen=True, slots=True)
class CountCorrection:
    at: datetime
    room: str | None  # None: the whole campus
    computed: int  # what the readers counted then
    count: int  # what was set by hand
    reason: str
    actor: str


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
    query = (
        select(AuditEntry)
        .where(
            AuditEntry.action == CORRECTION_ACTION,
            AuditEntry.entity == CORRECTION_ENTITY,
            AuditEntry.entity_id.startswith(f"{campus}/", autoescape=True),
            AuditEntry.at >= since,
            AuditEntry.at <= now,
        )
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    )
    with occupancy.registry() as session:
        return [_correction(row) for row in session.scalars(query)]


def _correction(row: AuditEntry) -> CountCorrection:
    before = json.loads(row.before or "{}")
    after = json.loads(row.after or "{}")
    return CountCorrection(
        at=row.at,
        room=row.entity_id.split("/", 1)[1] or None,
        computed=int(before.get("count", 0)),
        count=int(after.get("count", 0)),
        reason=str(after.get("reason", "")),
        actor=row.actor,
    )
