"""REFERENCE ONLY, for bench/absences.py: the absence watcher as it was before issue 16
(main at 68375c0, server/services/alerts/absence_watcher.py, unchanged below this docstring),
polled every 15 s by a PeriodicJob: it checks the campuses one after another, one
transaction per evaluated slot, then the notification bookkeeping of each alert step in
its own transactions (AlertService.announce). Not used by the product."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import orm, select
from sqlalchemy.exc import IntegrityError

from server.adapters.event_store import EventStore
from server.config import PresenceSettings
from server.domain.absences import ExpectedSlot, Verdict, expected_slots, judge, reader_back
from server.domain.alerts import AbsenceHeld, AbsenceNoticed, AlertKind, Resolution, incident_over
from server.domain.calendar import Schedule
from server.domain.events import ReaderStatusRecord
from server.domain.notices import NoticeKind
from server.domain.reader_health import Health, ReaderHealth, health_at
from server.domain.sessions import ReaderMode, Session
from server.registry.alert_models import AbsenceEvaluation, WatcherMark
from server.registry.alert_repository import AlertRepository, apply_state, state_of
from server.registry.presence_repository import PresenceRepository, StudentPlan, repository
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


@dataclass
class _Campus:
    """What one run knows of one campus."""

    id: str
    doors: list[str]
    statuses: dict[str, ReaderStatusRecord]
    now: datetime
    reliable: dict[tuple[str, datetime, datetime], bool] = field(default_factory=dict)

    def health(self, reader: str) -> ReaderHealth:
        return health_at(self.id, reader, self.statuses.get(reader), self.now, stamped=True)


class AbsenceWatcher:
    def __init__(
        self,
        registry: Callable[[], orm.Session],
        events: EventStore,
        health: ReaderHealthService,
        alerts: AlertService,
        settings: PresenceSettings,
        *,
        catch_up: timedelta = timedelta(days=4),
    ) -> None:
        self.registry = registry
        self.events = events
        self.health = health
        self.alerts = alerts
        self.settings = settings
        self.rules = session_rules(settings)
        self.grace = timedelta(minutes=settings.grace_minutes)
        self.catch_up = catch_up

    def run(self, now: datetime) -> WatchReport:
        """The periodic job: slots since the watcher's first run on each campus."""
        return self.check(now, respect_mark=True)

    def check(self, now: datetime, *, respect_mark: bool = False) -> WatchReport:
        """Check every slot whose check instant is in the last ``catch_up`` (after the
        first run's mark when ``respect_mark``), and send what must be sent."""
        report = WatchReport()
        with self.registry() as session:
            campuses = repository(session, self.settings).campus_ids()
        for campus in campuses:
            since = now - self.catch_up
            if respect_mark:
                since = max(since, self._mark(campus, now))
            self._check_campus(campus, since, now, report)
        self.alerts.announce(report.steps, now)
        if report.noticed or report.held:
            log.info(
                "absence check: %d evaluated, %d noticed, %d held",
                report.evaluated,
                len(report.noticed),
                len(report.held),
            )
        return report

    def _mark(self, campus: str, now: datetime) -> datetime:
        with self.registry() as session, session.begin():
            mark = session.get(WatcherMark, campus)
            if mark is None:
                mark = WatcherMark(campus_id=campus, started_at=now - FIRST_RUN_MARGIN)
                session.add(mark)
            return mark.started_at

    def _check_campus(
        self, campus: str, since: datetime, now: datetime, report: WatchReport
    ) -> None:
        with self.registry() as session:
            repo = repository(session, self.settings)
            calendar = repo.calendar(campus)
            tz = calendar.tz
            first, last = since.astimezone(tz).date(), now.astimezone(tz).date()
            plans = repo.plans(campus, first, last)
            schedule = calendar.schedule(first - timedelta(days=1), last + timedelta(days=1))
            excuses = repo.excuses([p.student_pk for p in plans], since - timedelta(days=1), now)
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
                if since < item.check_at <= now
            ]
            done = self._evaluations(session, campus, since, now)
            todo = [item for item in due if done.get(_key(item)) in (None, Verdict.INDETERMINATE)]
            modes = repo.reader_modes()
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
            self._evaluate(place, item, sessions.get(item.student_pk, []), held, report)
        self._readers_back(place, report)

    def _evaluations(
        self, session: orm.Session, campus: str, since: datetime, now: datetime
    ) -> dict[tuple[int, datetime], Verdict]:
        rows = session.execute(
            select(
                AbsenceEvaluation.student_pk,
                AbsenceEvaluation.slot_start,
                AbsenceEvaluation.verdict,
            ).where(
                AbsenceEvaluation.campus_id == campus,
                AbsenceEvaluation.check_at > since,
                AbsenceEvaluation.check_at <= now,
            )
        )
        return {(pk, start): Verdict(verdict) for pk, start, verdict in rows}

    def _sessions(
        self,
        repo: PresenceRepository,
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

    def _evaluate(
        self,
        place: _Campus,
        item: ExpectedSlot,
        sessions: list[Session],
        held: bool,
        report: WatchReport,
    ) -> None:
        down = self._doors_down(place, item, held)
        verdict = judge(item, sessions, doors_reliable=not down)
        if held and verdict is Verdict.INDETERMINATE:
            return  # still held: nothing new to store

        def write() -> None:
            with self.registry() as session, session.begin():
                self._store(session, place.id, item, verdict, place.now)
                if verdict is Verdict.ABSENT:
                    self._raise(session, place, item, found)
                elif verdict is Verdict.INDETERMINATE:
                    for reader in down:
                        self._reader_down(session, place, reader, found)

        found = WatchReport()
        try:
            write()
        except IntegrityError:
            log.info("slot already evaluated by another worker")
            return
        if verdict is Verdict.INDETERMINATE:
            report.held.append(AbsenceHeld(place.id, item.student_id, item.start, tuple(down)))
        report.noticed.extend(found.noticed)
        report.steps.extend(found.steps)
        report.evaluated += 1

    @staticmethod
    def _store(
        session: orm.Session, campus: str, item: ExpectedSlot, verdict: Verdict, now: datetime
    ) -> None:
        row = session.scalar(
            select(AbsenceEvaluation).where(
                AbsenceEvaluation.student_pk == item.student_pk,
                AbsenceEvaluation.slot_start == item.start,
            )
        )
        if row is None:
            row = AbsenceEvaluation(
                student_pk=item.student_pk, campus_id=campus, slot_start=item.start
            )
            session.add(row)
        row.slot_end, row.check_at = item.end, item.check_at
        row.verdict, row.evaluated_at = verdict.value, now
        session.flush()

    def _raise(
        self, session: orm.Session, place: _Campus, item: ExpectedSlot, report: WatchReport
    ) -> None:
        repo = AlertRepository(session, timezone=self.settings.timezone)
        row = repo.add(
            AlertKind.ABSENCE,
            f"absence:{item.student_pk}:{item.start.isoformat()}",
            place.id,
            place.now,
            student_pk=item.student_pk,
            tutor_id=repo.tutor_of(item.student_pk),
            slot_start=item.start,
            slot_end=item.end,
        )
        report.noticed.append(
            AbsenceNoticed(
                row.public_id, place.id, item.student_id, item.start, item.end, place.now
            )
        )
        report.steps.append(Step(row.id, NoticeKind.RAISED))

    def _reader_down(
        self, session: orm.Session, place: _Campus, reader: str, report: WatchReport
    ) -> None:
        repo = AlertRepository(session, timezone=self.settings.timezone)
        if repo.open_reader_down(place.id, reader) is not None:
            return
        health = place.health(reader)
        row = repo.add(
            AlertKind.READER_DOWN,
            f"reader_down:{place.id}:{reader}:{place.now.isoformat()}",
            place.id,
            place.now,
            reader_id=reader,
            reader_state=_reader_state(health, place.statuses.get(reader)),
            reader_last_seen=health.last_seen,
        )
        report.steps.append(Step(row.id, NoticeKind.RAISED))

    def _readers_back(self, place: _Campus, report: WatchReport) -> None:
        """Close the campus's reader_down alerts whose reader is back, queue empty."""
        with self.registry() as session, session.begin():
            repo = AlertRepository(session, timezone=self.settings.timezone)
            for reader in place.doors:
                row = repo.open_reader_down(place.id, reader)
                if row is None or not reader_back(place.health(reader), row.noticed_at):
                    continue
                apply_state(row, incident_over(state_of(row), Resolution.READER_BACK, place.now))
                report.steps.append(Step(row.id, NoticeKind.RESOLVED))


def _key(item: ExpectedSlot) -> tuple[int, datetime]:
    return item.student_pk, item.start


def _reader_state(health: ReaderHealth, last: ReaderStatusRecord | None) -> str:
    if health.health is Health.DEGRADED:
        return "degraded"
    if last is not None and last.state == "offline":
        return "offline"
    return "silent"
