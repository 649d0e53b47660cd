"""Use case: live occupancy of each campus and room, its history, and capacity alerts.

The ingest calls :meth:`OccupancyService.taps_stored` after each stored batch (through
:func:`occupancy_listener`); a periodic job calls :meth:`OccupancyService.tick` every
minute (closing time, the 5-minute re-publication).

The counts are derived from the stored events, never from what one process happened to
receive: with several ingest workers each one stores a share of the taps, so each tick
and read first feeds the day's taps stored by every worker, and each batch those of the
last minutes (the whole day again at least once a minute) (``_sync``; taps already fed
are skipped by id, ``domain.occupancy`` puts late ones back in order). Two workers
thus publish and store the same counts. The state kept in memory is a cache of that
derivation for the current local day of each campus (rebuilt on a new day or a restart,
with the day's audited corrections).

Only counts leave this module: each change is written to the event store as an
:class:`OccupancySample` and published, retained, on ``campus/{campus}/events/occupancy``.
Which person is in which room is never stored (see ``domain.occupancy``).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Protocol

from edge.protocol import events_topic, format_timestamp
from server.adapters.event_store import EventStore
from server.config import PresenceSettings
from server.domain.calendar import CampusCalendar, local_midnight
from server.domain.capacity import CapacityChanged, CapacityLevel, Limits, next_level, raw_level
from server.domain.events import OccupancySample, StoredTap
from server.domain.occupancy import CampusOccupancy, Zone, ZoneCount
from server.domain.sessions import DoorTap, ReaderMode
from server.ports.occupancy import CountCorrection, Holding, OccupancyUnitOfWork, Place
from server.services.presence.ledger import holder_of, index_holdings, session_rules, utc

log = logging.getLogger(__name__)

Publish = Callable[[str, bytes], None]
REPUBLISH = timedelta(minutes=5)  # docs/protocol.md: "at least every 5 minutes"
SYNC_AHEAD = timedelta(seconds=1)  # taps stamped up to this far past ``now`` count
# A stored batch reads back the taps of the last minutes only (other workers' recent
# taps); the whole day is read again at least every ``refresh`` (a backlog stored late by
# another worker), at each tick and each read.
SYNC_OVERLAP = timedelta(minutes=2)


class CapacityNotifier(Protocol):
    """Where capacity alerts go (the coordinator); the composition root adapts the
    alerts' notification channels to it."""

    def capacity_changed(self, event: CapacityChanged) -> None: ...


class LoggingCapacityNotifier:
    """The default notifier: a WARNING line per level change."""

    def capacity_changed(self, event: CapacityChanged) -> None:
        log.warning(
            "capacity %s in %s/%s: %d people (limit %s, was %s)",
            event.level,
            event.campus,
            event.room or "campus",
            event.count,
            event.limit,
            event.previous,
        )


@dataclass(frozen=True, slots=True)
class ZoneReading:
    """What the API shows for one zone now."""

    campus: str
    room: Zone
    count: ZoneCount
    limits: Limits
    level: CapacityLevel

    @property
    def ratio(self) -> float | None:
        capacity = self.limits.capacity or self.limits.hard_limit
        return round(self.count.count / capacity, 3) if capacity else None


@dataclass
class _Live:
    day: date
    calendar: CampusCalendar
    place: Place
    occupancy: CampusOccupancy
    seen: set[str] = field(default_factory=set)  # tap ids fed (a day's worth)
    levels: dict[Zone, CapacityLevel] = field(default_factory=dict)
    published: dict[Zone, tuple[int, datetime]] = field(default_factory=dict)
    synced_at: datetime | None = None
    day_synced_at: datetime | None = None  # the last time the whole day was read


class OccupancyService:
    def __init__(
        self,
        unit_of_work: Callable[[], OccupancyUnitOfWork],
        events: EventStore,
        settings: PresenceSettings,
        *,
        publish: Publish | None = None,
        notifier: CapacityNotifier | None = None,
        refresh: timedelta = timedelta(minutes=1),
    ) -> None:
        self.unit_of_work = unit_of_work
        self.events = events
        self.settings = settings
        self.rules = session_rules(settings)
        self.publish = publish
        self.notifier = notifier or LoggingCapacityNotifier()
        self.refresh = refresh  # how long reader links and badge holders are cached
        self._lock = threading.RLock()
        self._live: dict[str, _Live] = {}
        self._modes: dict[tuple[str, str], ReaderMode] = {}
        self._rooms: dict[tuple[str, str], str] = {}
        self._holdings: dict[str, dict[str, list[Holding]]] = {}
        self._loaded_at: datetime | None = None

    # -- inputs ------------------------------------------------------------------------

    def taps_stored(self, taps: Sequence[StoredTap], now: datetime) -> None:
        with self._lock:
            self._load(now)
            for campus in sorted({tap.campus for tap in taps}):
                fresh = not self._is_current(campus, now)
                live = self._ensure(campus, now)
                # A state rebuilt now already holds these taps (they are stored): compare
                # with the empty room, so the day's first tap leaves a history sample.
                before = {} if fresh else live.occupancy.values()
                for tap in taps:
                    if tap.campus == campus:
                        self._feed(live, tap, now)
                self._sync(live, now, recent=True)  # and those other workers stored meanwhile
                live.occupancy.tick(now)
                self._after(live, before, now)

    def tick(self, now: datetime) -> None:
        """Periodic: read other workers' taps, apply closing time, re-publish."""
        with self._lock:
            self._load(now)
            for campus in sorted(self._places_known(now)):
                live = self._ensure(campus, now)
                before = live.occupancy.values()
                self._sync(live, now)
                live.occupancy.tick(now)
                self._after(live, before, now, force=True)

    def correct(
        self, campus: str, room: Zone, count: int, *, reason: str, actor: str, now: datetime
    ) -> ZoneCount:
        """A coordinator sets a count by hand (audited); kept until closing."""
        with self._lock:
            self._load(now)
            live = self._ensure(campus, now)
            if room is not None and live.place.room(room) is None:
                raise LookupError(room)
            before = live.occupancy.values()
            computed = live.occupancy.count(room).computed
            with self.unit_of_work() as uow:
                uow.places.record_correction(
                    campus, room, count=count, computed=computed, reason=reason, actor=actor, at=now
                )
                uow.commit()
            result = live.occupancy.correct(room, count)
            self._after(live, before, now)
            return result

    # -- outputs -----------------------------------------------------------------------

    def current(self, now: datetime, *, campus: str | None = None) -> list[ZoneReading]:
        with self._lock:
            self._load(now)
            readings = []
            for campus_id in sorted(self._places_known(now)):
                if campus not in (None, campus_id):
                    continue
                live = self._ensure(campus_id, now)
                self._sync(live, now)
                live.occupancy.tick(now)
                for zone, count in live.occupancy.counts().items():
                    limits = live.place.limits_of(zone)
                    level = live.levels.get(zone, CapacityLevel.NORMAL)
                    readings.append(ZoneReading(campus_id, zone, count, limits, level))
            return readings

    def corrections(self, campus: str, since: datetime, until: datetime) -> list[CountCorrection]:
        """The campus's counts set by hand between ``since`` and ``until``, newest first."""
        with self.unit_of_work() as uow:
            return uow.places.corrections_between(campus, since, until)

    def places(self, now: datetime) -> dict[str, Place]:
        with self._lock:
            self._load(now)
            return {campus: self._ensure(campus, now).place for campus in self._places_known(now)}

    def is_full(self, campus: str, reader: str) -> bool:
        """Is the zone a tap at this reader enters at its hard limit? (feedback hook)"""
        with self._lock:
            live = self._live.get(campus)
            if live is None:
                return False
            zone = self._rooms.get((campus, reader))
            return live.levels.get(zone) is CapacityLevel.FULL

    # -- internals ---------------------------------------------------------------------

    def _load(self, now: datetime) -> None:
        """Reader modes, room links and badge holders, cached for ``refresh``."""
        if self._loaded_at is not None and now - self._loaded_at <= self.refresh:
            return
        with self.unit_of_work() as uow:
            places = uow.places
            self._modes = places.reader_modes()
            self._rooms = places.room_readers()
            self._holdings = {
                campus: index_holdings(places.holdings_for_campus(campus))  # type: ignore[arg-type]
                for campus in places.campus_ids()
            }
        self._loaded_at = now

    def _places_known(self, now: datetime) -> set[str]:
        return set(self._holdings) | set(self._live)

    def _is_current(self, campus: str, now: datetime) -> bool:
        live = self._live.get(campus)
        return live is not None and now.astimezone(live.calendar.tz).date() == live.day

    def _ensure(self, campus: str, now: datetime) -> _Live:
        live = self._live.get(campus)
        if live is not None and self._is_current(campus, now):
            return live
        live = self._rebuild(campus, now)
        self._live[campus] = live
        return live

    def _rebuild(self, campus: str, now: datetime) -> _Live:
        """A campus's counts for today, from the day's taps and corrections."""
        with self.unit_of_work() as uow:
            calendar = uow.places.calendar(campus)
            place = uow.places.places().get(campus, Place(campus, Limits(), ()))
            day = now.astimezone(calendar.tz).date()
            midnight = local_midnight(day, calendar.tz)
            corrections = uow.places.corrections_since(campus, midnight)
        schedule = calendar.schedule(day - timedelta(days=1), day + timedelta(days=1))
        occupancy = CampusOccupancy(
            rules=self.rules, schedule=schedule, rooms=[room.code for room in place.rooms]
        )
        live = _Live(day, calendar, place, occupancy)
        for tap in self.events.taps(midnight, now + timedelta(seconds=1), campus=campus):
            self._feed(live, tap, now)
        occupancy.tick(now)
        for room, adjustment in corrections:
            occupancy.restore_adjustment(room, adjustment)
        for zone, count in occupancy.values().items():  # quietly: no alert on a restart
            live.levels[zone] = raw_level(count, place.limits_of(zone))
        live.synced_at = live.day_synced_at = now
        log.info("occupancy of %s rebuilt from today's taps: %s", campus, occupancy)
        return live

    def _sync(self, live: _Live, now: datetime, *, recent: bool = False) -> None:
        """Feed the day's taps stored by any worker (by tap time: a late backlog stored
        by another worker counts too; those already fed are skipped by id) and put back
        the day's corrections recorded by any process (the caller's ``tick`` then
        applies closing time). ``recent`` (a stored batch): only the taps of the last
        minutes, unless the whole day was last read more than ``refresh`` ago, so the
        cost of a batch does not grow with the day's taps."""
        campus = live.place.campus
        midnight = local_midnight(live.day, live.calendar.tz)
        start = midnight
        whole_day = live.day_synced_at
        if recent and whole_day is not None and now - whole_day <= self.refresh:
            assert live.synced_at is not None
            start = max(midnight, min(live.synced_at, now) - SYNC_OVERLAP)
        else:
            live.day_synced_at = now
        for tap in self.events.taps(start, now + SYNC_AHEAD, campus=campus):
            self._feed(live, tap, now)
        # And the day's corrections, whichever process's page recorded them.
        with self.unit_of_work() as uow:
            corrections = uow.places.corrections_since(campus, midnight)
        for room, adjustment in corrections:
            live.occupancy.restore_adjustment(room, adjustment)
        live.synced_at = now

    def _feed(self, live: _Live, tap: StoredTap, now: datetime) -> None:
        if tap.tap_id in live.seen or tap.ts < local_midnight(live.day, live.calendar.tz):
            return
        live.seen.add(tap.tap_id)
        holder = holder_of(self._holdings.get(tap.campus, {}), tap.badge, tap.ts)
        if holder is None:
            return  # unknown badge: no presence, not counted
        person = str(holder.student_pk)
        mode = self._modes.get((tap.campus, tap.reader), ReaderMode.TOGGLE)
        if mode is ReaderMode.ROOM:
            room = self._rooms.get((tap.campus, tap.reader))
            if room is not None:
                live.occupancy.room_tap(person, room, utc(tap.ts))
        else:
            live.occupancy.door_tap(person, DoorTap(utc(tap.ts), mode, tap.tap_id), now)

    def _after(
        self, live: _Live, before: dict[Zone, int], now: datetime, *, force: bool = False
    ) -> None:
        """Record, publish and judge the zones whose count changed: since ``before``, or
        since the count last published (or never published) — a page's read (``current``)
        may have fed the stored taps, even rebuilt the day, between the store write and
        this call, leaving ``before`` equal."""
        after = live.occupancy.values()
        changed = [
            zone
            for zone, count in after.items()
            if before.get(zone) != count or live.published.get(zone, (None,))[0] != count
        ]
        samples = [self._sample(live, zone, after[zone], now) for zone in changed]
        if samples:
            try:
                self.events.write_occupancy(samples)
            except Exception:
                log.exception("occupancy history not written (%d samples)", len(samples))
        for zone, count in after.items():
            published = live.published.get(zone)
            if zone in changed or published is None or (force and now - published[1] >= REPUBLISH):
                self._publish(live, zone, count, now)
            self._judge(live, zone, count, now)

    def _sample(self, live: _Live, zone: Zone, count: int, now: datetime) -> OccupancySample:
        limits = live.place.limits_of(zone)
        return OccupancySample(live.place.campus, zone, now, count, capacity_of(limits))

    def _publish(self, live: _Live, zone: Zone, count: int, now: datetime) -> None:
        live.published[zone] = (count, now)
        if self.publish is None:
            return
        topic, payload = occupancy_message(self._sample(live, zone, count, now), live.calendar)
        try:
            self.publish(topic, payload)
        except Exception:
            log.exception("occupancy event not published")

    def _judge(self, live: _Live, zone: Zone, count: int, now: datetime) -> None:
        limits = live.place.limits_of(zone)
        previous = live.levels.get(zone, CapacityLevel.NORMAL)
        level = next_level(previous, count, limits)
        if level is previous:
            return
        live.levels[zone] = level
        limit = limits.hard_limit if level is CapacityLevel.FULL else limits.soft_limit
        event = CapacityChanged(live.place.campus, zone, now, level, previous, count, limit)
        try:
            self.notifier.capacity_changed(event)
        except Exception:
            log.exception("capacity notifier failed")


def capacity_of(limits: Limits) -> int | None:
    """The capacity counts are compared with: the capacité d'accueil, else the hard limit."""
    return limits.capacity if limits.capacity is not None else limits.hard_limit


def occupancy_message(
    sample: OccupancySample, calendar: CampusCalendar | None = None
) -> tuple[str, bytes]:
    """The retained ``events/occupancy`` message of a sample (docs/protocol.md)."""
    moment = sample.at.astimezone(calendar.tz) if calendar is not None else sample.at
    body = {
        "v": 1,
        "ts": format_timestamp(moment),
        "campus": sample.campus,
        "room": sample.room,
        "count": sample.count,
        "capacity": sample.capacity,
    }
    payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    return events_topic(sample.campus, "occupancy"), payload


def occupancy_listener(
    occupancy: OccupancyService, clock: Callable[[], datetime]
) -> Callable[[Sequence[StoredTap]], None]:
    """What the composition root hands to ``IngestService.on_taps_stored`` (before the
    readers' feedback listener, so that a full room is known when the feedback goes)."""

    def listener(taps: Sequence[StoredTap]) -> None:
        occupancy.taps_stored(taps, clock())

    return listener
