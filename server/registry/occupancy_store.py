"""The registry's implementation of the occupancy ports (``server.ports.occupancy``): one
SQLAlchemy session per unit of work; the places are read and written by
:class:`~server.registry.occupancy_repository.OccupancyRepository`, the reader modes,
badge holders and calendars by the presence repository (the same queries as the
ledger's), the reader outages by :class:`SqlReaderOutages`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

from sqlalchemy import delete, orm, select
from sqlalchemy.exc import IntegrityError

from server.config import PresenceSettings
from server.domain.calendar import CampusCalendar
from server.domain.contracts import Contract
from server.domain.sessions import ReaderMode
from server.ports.occupancy import Outage
from server.registry.account_store import SqlAuditTrail
from server.registry.occupancy_repository import OccupancyRepository
from server.registry.presence_repository import BadgeHolding, PresenceRepository
from server.registry.shared_state_models import ReaderOutage
from server.registry.unit_of_work import SessionUnitOfWork

Registry = Callable[[], orm.Session]


def _presence(session: orm.Session, settings: PresenceSettings) -> PresenceRepository:
    return PresenceRepository(session, school_zone=settings.school_zone, timezone=settings.timezone)


class SqlOccupancyRecords(OccupancyRepository):
    """The places, and what the live counts read of the presence tables."""

    def __init__(self, session: orm.Session, settings: PresenceSettings) -> None:
        super().__init__(session)
        self._presence = _presence(session, settings)

    def reader_modes(self) -> dict[tuple[str, str], ReaderMode]:
        return self._presence.reader_modes()

    def campus_ids(self) -> list[str]:
        return self._presence.campus_ids()

    def holdings_for_campus(self, campus: str) -> list[BadgeHolding]:
        return self._presence.holdings_for_campus(campus)

    def calendar(self, campus: str) -> CampusCalendar:
        return self._presence.calendar(campus)

    def contracts(self, campus: str, first: date, last: date) -> list[tuple[Contract, ...]]:
        return [plan.contracts for plan in self._presence.plans(campus, first, last)]


class SqlOccupancyUnitOfWork(SessionUnitOfWork):
    """``server.ports.occupancy.OccupancyUnitOfWork`` on one registry session."""

    def __init__(self, registry: Registry, settings: PresenceSettings) -> None:
        super().__init__(registry)
        self._settings = settings

    def _bind(self, session: orm.Session) -> None:
        self.places = SqlOccupancyRecords(session, self._settings)
        self.audit = SqlAuditTrail(session)


def occupancy_unit_of_work(
    registry: Registry, settings: PresenceSettings
) -> Callable[[], SqlOccupancyUnitOfWork]:
    """What the occupancy use cases are built with."""
    return lambda: SqlOccupancyUnitOfWork(registry, settings)


def _outage(row: ReaderOutage) -> Outage:
    return Outage(row.campus_id, row.reader_id, row.noticed_at, row.last_seen, row.reader_state)


class SqlReaderOutages:
    """``server.ports.occupancy.ReaderOutages``: each method one transaction."""

    def __init__(self, registry: Registry, settings: PresenceSettings) -> None:
        self._registry = registry
        self._settings = settings

    def all(self) -> list[Outage]:
        with self._registry() as session:
            rows = session.scalars(select(ReaderOutage)).all()
            return [_outage(row) for row in rows]

    def notice(self, outage: Outage) -> bool:
        try:
            with self._registry() as session, session.begin():
                session.add(
                    ReaderOutage(
                        campus_id=outage.campus,
                        reader_id=outage.reader,
                        noticed_at=outage.noticed_at,
                        last_seen=outage.last_seen,
                        reader_state=outage.reader_state,
                    )
                )
        except IntegrityError:
            return False  # noticed by another process meanwhile
        return True

    def resolve(self, campus: str, reader: str) -> bool:
        with self._registry() as session, session.begin():
            gone = session.execute(
                delete(ReaderOutage).where(
                    ReaderOutage.campus_id == campus, ReaderOutage.reader_id == reader
                )
            ).rowcount
        return bool(gone)

    def calendars(self, campuses: Sequence[str]) -> dict[str, CampusCalendar]:
        with self._registry() as session:
            repo = _presence(session, self._settings)
            return {campus: repo.calendar(campus) for campus in campuses}
