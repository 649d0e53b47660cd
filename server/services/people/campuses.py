"""Use case: keep the registry's campuses and readers in line with the configuration.

The configuration lists campuses and their reader ids (the ingest refuses other
readers); the registry holds what the admin adds to them (reader modes, rooms, opening
hours, closures). New campuses and readers get sensible defaults; nothing is removed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from server.config import Settings
from server.ports.people import CampusRef, PeopleUnitOfWork

log = logging.getLogger(__name__)
UnitOfWork = Callable[[], PeopleUnitOfWork]


def campus_list(unit_of_work: UnitOfWork) -> list[CampusRef]:
    """Every campus of the registry (named as configured), by id."""
    with unit_of_work() as uow:
        rows = uow.campuses.listing()
    return [CampusRef(row.id, row.name or row.id) for row in rows]


def sync_campuses(unit_of_work: UnitOfWork, settings: Settings) -> int:
    """Add the configured campuses and readers missing from the registry; returns how
    many rows were added. New readers are ``toggle`` doors until an admin says otherwise.

    Every campus row's ``timezone`` and ``school_zone`` are set to the configuration's
    (``[presence]``, their one source, see docs/campus-settings.md), so that a changed
    configuration never leaves an old copy behind: the code reads the settings, the
    columns are there for whoever queries the registry directly."""
    added = 0
    presence = settings.presence
    with unit_of_work() as uow:
        campuses = uow.campuses
        for campus in settings.campuses:
            if not campuses.exists(campus.id):
                campuses.add(campus.id, campus.name, presence.timezone, presence.school_zone)
                added += 1
            known = set(campuses.readers(campus.id))
            for reader in campus.readers:
                if reader not in known:
                    campuses.add_reader(campus.id, reader, "toggle")
                    added += 1
        for row in campuses.zones():
            if (
                row.timezone == presence.timezone
                and row.school_zone is not None
                and row.school_zone == presence.school_zone
            ):
                continue
            log.info(
                "registry: campus %s set to the configured time zone %s and school zone %s "
                "(was %s, %s)",
                row.id,
                presence.timezone,
                presence.school_zone,
                row.timezone,
                row.school_zone,
            )
            campuses.set_zones(row.id, presence.timezone, presence.school_zone)
        uow.commit()
    if added:
        log.info("registry: %d campus/reader rows added from the configuration", added)
    return added
