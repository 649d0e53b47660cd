"""Use case: notice absences. Run at each slot's check instant by the
``absence-watcher`` job of ``serve`` (``services.absence_schedule``, with a safety sweep
every few minutes) and on demand (``campus-presence check-absences --at``).

Each check looks at the slot occurrences whose check instant (slot start + grace, see
``domain.absences``) has passed since the last ones checked, and stores one evaluation
per occurrence: a restart catches up on what it missed and never checks a slot twice
(a unique constraint says so). An absence raises one alert for the tutor (another
unique constraint); an occurrence the door readers cannot vouch for is held as
*indeterminate*, the coordinator is told the reader is down, and it is checked again
once the reader is back with its queued taps delivered. Everything one check finds, on
every campus, is recorded in one transaction with the deliveries of its alerts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from server.adapters.event_store import EventStore
from server.config import PresenceSettings
from server.domain.absences import (
    ExpectedSlot,
    Verdict,
    check_instants,
    expected_slots,
    judge,
    reader_back,
)
from server.domain.alerts import (
    AbsenceHeld,
    AbsenceNoticed,
    AlertKind,
    Resolution,
    incident_over,
)
from server.domain.calendar import Schedule
from server.domain.events import ReaderStatusRecord
from server.domain.notices import Channel, NoticeKind
from server.domain.reader_health import Health, ReaderHealth, health_at
from server.domain.sessions import ReaderMode, Session
from server.domain.slots import Excuse
from server.ports.alerts import (
    AbsenceUnitOfWork,
    AlertRecord,
    DuplicateAlert,
    DuplicateEvaluation,
    EvaluationRecord,
    apply_state,
    new_alert,
    state_of,
)
from server.ports.presence import PresenceStore, StudentPlan
from server.services.alerts.alerts import AlertService, Step
from server.services.occupancy.reader_health import ReaderHealthService
from server.services.presence.ledger import corrected_sessions, session_rules

log = logging.getLogger(__name__)

FIRST_RUN_MARGIN = timedelta(minutes=5)  # a server started at 09:15:30 still checks 09:15


@dataclass
class WatchReport:
    evaluated: int = 0
    noticed: list[AbsenceNoticed] = field(default_factory=list)
    held: list[AbsenceHeld] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Due:
    """A campus's due slot occurrences in a window, and what they were derived from."""

    slots: list[ExpectedSlot]
    schedule: Schedule
    plans: list[StudentPlan]
    excuses: dict[int, list[Excuse]]


@dataclass
class Prepared:
    """The due slots of the campuses checked at the coming instants, read ahead."""

    since: datetime
    until: datetime
    campuses: dict[str, Due] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Found:
    """What the check of one slot occurrence found, before it is recorded."""

    item: ExpectedSlot
    verdict: Verdict
    down: tuple[str, ...]  # the door readers that could not vouch for it
    held: bool  # checked before and held (its evaluation row exists)

    @property
    def absent(self) -> bool:
        return self.verdict is Verdict.ABSENT


@dataclass
class _Campus:
    """What one run knows of one campus."""

    id: str
    doors: list[str]
    statuses: dict[str, ReaderStatusRecord]
    now: datetime
    reliable: dict[tuple[str, datetime, datetime], bool] = field(default_factory=dict)
    found: list[_Found] = field(default_factory=list)

    def health(self, reader: str) -> ReaderHealth:
        return health_at(self.id, reader, self.statuses.get(reader), self.now, stamped=True)


class AbsenceWatcher:
    def __init__(
        self,
        unit_of_work: Callable[[], AbsenceUnitOfWork],
        events: EventStore,
        health: ReaderHealthService,
        alerts: AlertService,
        settings: PresenceSettings,
        *,
        catch_up: timedelta = timedelta(days=4),
    ) -> None:
        self.unit_of_work = unit_of_work
        self.events = events
        self.health = health
        self.alerts = alerts
        self.settings = settings
        self.rules = session_rules(settings)
        self.grace = timedelta(minutes=settings.grace_minutes)
        self.catch_up = catch_up

    def run(self, now: datetime) -> WatchReport:
        """The safety sweep: slots since the watcher's first run on each campus."""
        return self.check(now, respect_mark=True)

    def check(
        self,
        now: datetime,
        *,
        respect_mark: bool = False,
        since: datetime | None = None,
        campuses: Collection[str] | None = None,
        prepared: Prepared | None = None,
    ) -> WatchReport:
        """Check every slot whose check instant is in the last ``catch_up`` (after the
        first run's mark when ``respect_mark``, after ``since`` when given; on
        ``campuses`` only when given), and record what it finds in ONE transaction:
        evaluations, alerts and their deliveries; then wake the delivery lanes. The due
        slots ``prepared`` shortly before (:meth:`prepare`) are used when they cover the
        window and no excuse changed since; the taps are always read now."""
        try:
            report = self._check(now, respect_mark, since, campuses, prepared)
        except (DuplicateEvaluation, DuplicateAlert):  # another worker was there meanwhile
            log.info("slots already evaluated by another worker; checking the rest again")
            report = self._check(now, respect_mark, since, campuses, prepared)
        if report.noticed or report.held:
            log.info(
                "absence check: %d evaluated, %d noticed, %d held",
                report.evaluated,
                len(report.noticed),
                len(report.held),
            )
        return report

    def upcoming(self, now: datetime, until: datetime) -> dict[datetime, set[str]]:
        """The check instants in ``(now, until]`` (``domain.absences.check_instants``),
        each with the campuses that have a slot checked then: when to wake."""
        found: dict[datetime, set[str]] = {}
        with self.unit_of_work() as uow:
            repo = uow.presence
            for campus in repo.campus_ids():
                due = self._due(repo, campus, now, until)
                for instant in check_instants(due.slots, now, until):
                    found.setdefault(instant, set()).add(campus)
        return dict(sorted(found.items()))

    def prepare(self, since: datetime, until: datetime, campuses: Collection[str]) -> Prepared:
        """Read ahead what the check of the instants up to ``until`` needs from the
        contracts, the calendar and the excuses (the slots due in ``(since, until]``),
        so that the check at the instant reads only taps, readers and evaluations."""
        found = Prepared(since, until)
        with self.unit_of_work() as uow:
            for campus in sorted(campuses):
                found.campuses[campus] = self._due(uow.presence, campus, since, until)
        return found

    def _check(
        self,
        now: datetime,
        respect_mark: bool,
        since: datetime | None,
        only: Collection[str] | None,
        prepared: Prepared | None,
    ) -> WatchReport:
        with self.unit_of_work() as uow:
            campuses = uow.presence.campus_ids()
            modes = uow.presence.reader_modes()
        if only is not None:
            campuses = [campus for campus in campuses if campus in only]
        marks = self._marks(campuses, now) if respect_mark else {}
        start = now - self.catch_up if since is None else max(now - self.catch_up, since)
        windows = {campus: max(start, marks.get(campus, start)) for campus in campuses}
        ready = self._still_valid(prepared, windows, now) if prepared is not None else {}
        places = [
            self._look(campus, windows[campus], now, modes, ready.get(campus))
            for campus in campuses
        ]
        return self._record(places, now)

    def _still_valid(
        self, prepared: Prepared, windows: dict[str, datetime], now: datetime
    ) -> dict[str, Due]:
        """The campuses whose prepared slots cover their window and whose excuses are
        the same now (one query for all of them)."""
        if now > prepared.until:
            return {}
        usable = {
            campus: due
            for campus, due in prepared.campuses.items()
            if campus in windows and windows[campus] >= prepared.since
        }
        students = sorted({plan.student_pk for due in usable.values() for plan in due.plans})
        with self.unit_of_work() as uow:
            excuses = uow.presence.excuses(
                students, prepared.since - timedelta(days=1), prepared.until
            )
        return {
            campus: due
            for campus, due in usable.items()
            if all(
                list(excuses.get(plan.student_pk, ())) == list(due.excuses.get(plan.student_pk, ()))
                for plan in due.plans
            )
        }

    def _marks(self, campuses: Sequence[str], now: datetime) -> dict[str, datetime]:
        """Each campus's mark: when the watcher first ran there (made now if new)."""
        if not campuses:
            return {}
        with self.unit_of_work() as uow:
            marks = uow.checks.marks(campuses)
        missing = [campus for campus in campuses if campus not in marks]
        if missing:
            with self.unit_of_work() as uow:
                for campus in missing:
                    marks[campus] = uow.checks.mark(campus, now - FIRST_RUN_MARGIN)
                uow.commit()
        return marks

    def _due(self, repo: PresenceStore, campus: str, since: datetime, until: datetime) -> Due:
        """The campus's due slot occurrences checked in ``(since, until]``."""
        calendar = repo.calendar(campus)
        tz = calendar.tz
        first, last = since.astimezone(tz).date(), until.astimezone(tz).date()
        plans = repo.plans(campus, first, last)
        schedule = calendar.schedule(first - timedelta(days=1), last + timedelta(days=1))
        excuses = repo.excuses([p.student_pk for p in plans], since - timedelta(days=1), until)
        days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
        due = [
            item
            for plan in plans
            for item in expected_slots(
                plan.student_pk,
                plan.student_id,
                plan.contracts,
                days=days,
                schedule=schedule,
                tz=tz,
                excuses=excuses.get(plan.student_pk, ()),
                grace=self.grace,
            )
            if since < item.check_at <= until
        ]
        return Due(due, schedule, plans, excuses)

    def _look(
        self,
        campus: str,
        since: datetime,
        now: datetime,
        modes: dict[tuple[str, str], ReaderMode],
        ready: Due | None = None,
    ) -> _Campus:
        """What the campus's slots checked in ``(since, now]`` and not final yet find
        (their due slots ``ready`` when prepared): read everything, write nothing."""
        with self.unit_of_work() as uow:
            repo = uow.presence
            found = ready or self._due(repo, campus, since, now)
            schedule, plans = found.schedule, found.plans
            due = [item for item in found.slots if since < item.check_at <= now]
            done = uow.checks.verdicts(campus, since, now) if due else {}
            todo = [item for item in due if done.get(_key(item)) in (None, Verdict.INDETERMINATE)]
            doors = sorted(
                r for (c, r), mode in modes.items() if c == campus and mode is not ReaderMode.ROOM
            )
            sessions = self._sessions(repo, campus, schedule, plans, todo, now) if todo else {}
        # Each reader's status stored for ``now`` (a replay may be in the past: the history
        # the readers stamped then, even if it reached the server later).
        statuses = {status.reader: status for status in self.events.reader_status_at(campus, now)}
        place = _Campus(campus, doors, statuses, now)
        for item in todo:
            held = done.get(_key(item)) is Verdict.INDETERMINATE
            down = self._doors_down(place, item, held)
            verdict = judge(item, sessions.get(item.student_pk, []), doors_reliable=not down)
            if held and verdict is Verdict.INDETERMINATE:
                continue  # still held: nothing new to store
            place.found.append(_Found(item, verdict, tuple(down), held))
        return place

    def _sessions(
        self,
        repo: PresenceStore,
        campus: str,
        schedule: Schedule,
        plans: Sequence[StudentPlan],
        todo: Sequence[ExpectedSlot],
        now: datetime,
    ) -> dict[int, list[Session]]:
        start = min(item.start for item in todo) - self.rules.lookback
        end = now + timedelta(microseconds=1)
        wanted = sorted({item.student_pk for item in todo} & {p.student_pk for p in plans})
        return corrected_sessions(
            self.events, repo, self.rules, campus, wanted, (start, end), schedule, now
        )

    def _doors_down(self, place: _Campus, item: ExpectedSlot, held: bool) -> list[str]:
        """The door readers that cannot vouch for the occurrence's check."""
        if held:  # checked again only once every door is back with its queue empty
            return [r for r in place.doors if not reader_back(place.health(r), item.check_at)]
        down = []
        for reader in place.doors:
            key = (reader, item.start, item.check_at)
            if key not in place.reliable:
                place.reliable[key] = self.health.reliable_throughout(
                    place.id, reader, item.start, item.check_at
                )
            if not place.reliable[key]:
                down.append(reader)
        return down

    def _record(self, places: Sequence[_Campus], now: datetime) -> WatchReport:
        """Everything the campuses' checks found, in one transaction: the evaluations,
        the absence and reader-down alerts, the readers back, and the deliveries of
        every step (the channels read before, the lanes woken after)."""
        report = WatchReport()
        notifications = self.alerts.notifications
        with self.unit_of_work() as uow:
            downs = uow.alerts.open_readers_down([p.id for p in places])
        telling = {p.id for p in places if p.found} | {campus for campus, _r in downs}
        channels = {campus: notifications.channels(campus) for campus in sorted(telling)}
        if not telling:
            return report  # nothing found, no reader down: nothing to write
        # Steps in order; the new alerts get their ids when stored (at once, at the end).
        pending: list[tuple[AlertRecord, NoticeKind]] = []
        evaluations: list[EvaluationRecord] = []
        raised: list[AlertRecord] = []
        with self.unit_of_work() as uow:
            downs = uow.alerts.open_readers_down([p.id for p in places])
            absent = [f.item.student_pk for p in places for f in p.found if f.absent]
            tutors = uow.people.tutors_of(absent) if absent else {}
            for place in places:
                for found in place.found:
                    evaluation = _evaluation(place.id, found, now)
                    if found.held:  # its row exists
                        uow.checks.recheck(evaluation)
                    else:
                        evaluations.append(evaluation)
                    if found.verdict is Verdict.ABSENT:
                        alert = _absence(place, found.item, tutors)
                        report.noticed.append(
                            AbsenceNoticed(
                                alert.public_id,
                                place.id,
                                found.item.student_id,
                                found.item.start,
                                found.item.end,
                                place.now,
                            )
                        )
                        pending.append((alert, NoticeKind.RAISED))
                        raised.append(alert)
                    elif found.verdict is Verdict.INDETERMINATE:
                        for reader in found.down:
                            if (place.id, reader) not in downs:
                                alert = _reader_down(place, reader)
                                downs[(place.id, reader)] = alert
                                pending.append((alert, NoticeKind.RAISED))
                                raised.append(alert)
                        report.held.append(
                            AbsenceHeld(
                                place.id, found.item.student_id, found.item.start, found.down
                            )
                        )
                    report.evaluated += 1
                for reader in place.doors:  # readers back, their queue empty
                    alert = downs.get((place.id, reader))
                    if alert is None or not reader_back(place.health(reader), alert.noticed_at):
                        continue
                    apply_state(
                        alert, incident_over(state_of(alert), Resolution.READER_BACK, place.now)
                    )
                    if alert.id is not None:  # stored before (a new one is stored closed)
                        uow.alerts.save(alert)
                    pending.append((alert, NoticeKind.RESOLVED))
            uow.checks.add(evaluations)
            uow.alerts.add_many(raised)
            report.steps = [Step(_id(alert), notice) for alert, notice in pending]
            lanes = self._deliveries(uow, report.steps, now, channels)
            uow.commit()
        notifications.wake_lanes(lanes)
        return report

    def _deliveries(
        self,
        uow: AbsenceUnitOfWork,
        steps: Sequence[Step],
        now: datetime,
        channels: dict[str, Mapping[str, Channel]],
    ) -> set[tuple[str, str]]:
        """The steps' deliveries, in the transaction; a failure there is logged and
        leaves the alerts recorded (the admin sees them in the web list's absence)."""
        try:
            with uow.savepoint():
                return self.alerts.notifications.record(
                    uow, [(step.alert_pk, step.notice) for step in steps], now, channels
                )
        except Exception:
            log.exception("the deliveries of %d alert steps could not be recorded", len(steps))
            return set()


def _reader_down(place: _Campus, reader: str) -> AlertRecord:
    health = place.health(reader)
    return new_alert(
        AlertKind.READER_DOWN,
        f"reader_down:{place.id}:{reader}:{place.now.isoformat()}",
        place.id,
        place.now,
        reader_id=reader,
        reader_state=_reader_state(health, place.statuses.get(reader)),
        reader_last_seen=health.last_seen,
    )


def _evaluation(campus: str, found: _Found, now: datetime) -> EvaluationRecord:
    item = found.item
    return EvaluationRecord(
        student_pk=item.student_pk,
        campus_id=campus,
        slot_start=item.start,
        slot_end=item.end,
        check_at=item.check_at,
        verdict=found.verdict,
        evaluated_at=now,
    )


def _absence(place: _Campus, item: ExpectedSlot, tutors: Mapping[int, int | None]) -> AlertRecord:
    """A new absence alert."""
    return new_alert(
        AlertKind.ABSENCE,
        f"absence:{item.student_pk}:{item.start.isoformat()}",
        place.id,
        place.now,
        student_pk=item.student_pk,
        tutor_id=tutors.get(item.student_pk),
        slot_start=item.start,
        slot_end=item.end,
    )


def _id(alert: AlertRecord) -> int:
    assert alert.id is not None  # stored
    return alert.id


def _key(item: ExpectedSlot) -> tuple[int, datetime]:
    return item.student_pk, item.start


def _reader_state(health: ReaderHealth, last: ReaderStatusRecord | None) -> str:
    if health.health is Health.DEGRADED:
        return "degraded"
    if last is not None and last.state == "offline":
        return "offline"
    return "silent"
