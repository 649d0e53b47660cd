"""Use case: keep the registry's campuses and readers in line with the configuration.

The configuration lists campuses and their reader ids (the ingest refuses other
readers); the registry holds what the admin adds to them (reader modes, rooms, opening
hours, closures). New campuses and readers get sensible defaults; nothing is removed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import or_, orm, select

from server.config import Settings
from server.registry.models import Campus, Reader

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CampusRef:
    id: str
    name: str


def campus_list(registry: Callable[[], orm.Session]) -> list[CampusRef]:
    """Every campus of the registry (named as configured), by id."""
    with registry() as session:
        rows = session.execute(select(Campus.id, Campus.name).order_by(Campus.id))
        return [CampusRef(campus_id, name or campus_id) for campus_id, name in rows]


def sync_campuses(registry: Callable[[], orm.Session], settings: Settings) -> int:
    """Add the configured campuses and readers missing from the registry; returns how
    many rows were added. New readers are ``toggle`` doors until an admin says otherwise.

    Every campus row's ``timezone`` and ``school_zone`` are set to the configuration's
    (``[presence]``, their one source, see docs/campus-settings.md), so that a changed
    configuration never leaves an old copy behind: the code reads the settings, the
    columns are there for whoever queries the registry directly."""
    added = 0
    presence = settings.presence
    with registry() as session, session.begin():
        for campus in settings.campuses:
            if session.get(Campus, campus.id) is None:
                session.add(
                    Campus(
                        id=campus.id,
                        name=campus.name,
                        timezone=presence.timezone,
                        school_zone=presence.school_zone,
                    )
                )
                session.flush()
                added += 1
            known = set(
                session.scalars(select(Reader.reader_id).where(Reader.campus_id == campus.id))
            )
            for reader in campus.readers:
                if reader not in known:
                    session.add(Reader(campus_id=campus.id, reader_id=reader, mode="toggle"))
                    added += 1
        stale = session.scalars(
            select(Campus).where(
                or_(
                    Campus.timezone != presence.timezone,
                    Campus.school_zone.is_(None),
                    Campus.school_zone != presence.school_zone,
                )
            )
        ).all()
        for row in stale:
            log.info(
                "registry: campus %s set to the configured time zone %s and school zone %s "
                "(was %s, %s)",
                row.id,
                presence.timezone,
                presence.school_zone,
                row.timezone,
                row.school_zone,
            )
            row.timezone, row.school_zone = presence.timezone, presence.school_zone
    if added:
        log.info("registry: %d campus/reader rows added from the configuration", added)
    return added
