"""Use case: the weekly ledger of students, from the registry and the stored taps.

A week is computed from raw taps until it is *frozen*: once it is over plus the
correction window, the periodic job (:meth:`LedgerService.freeze_due`, and nothing else:
a read never freezes) stores its lines as weekly records, which survive the purge of the
raw taps. It waits while a reader of the campus still holds unconfirmed taps older than
the week's end. A later correction (``services.corrections``), contract change or tap
stored for the week (:meth:`LedgerService.reopen_for_taps`) re-opens it, audited, and the
job freezes it again.

Reading (issue 16): one query of plain tap rows per campus and period
(``EventStore.tap_rows``: no object per stored tap), grouped by student from the rows;
the registry inputs (plans, calendar, holdings, corrections, excuses) once per campus and
call. Nothing computed is kept between calls: every call reads the stored taps and the
registry afresh, so a late tap, a correction or another server process's write counts at
the next call. The memos of ``domain.slots`` (the open parts of slots, on the schedule; what
each slot occurrence is for every student, on the week's opening) live on objects built
for the call; the registry keeps only its prepared statements and ``Contract`` values
keyed by every column they are built from.
"""

from __future__ import annotations

import bisect
import contextlib
import gc
import logging
from collections import defaultdict
from collections.abc import Iterator, Sequence
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from server.adapters.event_store import EventStore, TapReadAhead, TapRow, TapRowReader
from server.adapters.event_times import to_us
from server.config import PresenceSettings
from server.domain.accounts import Actor
from server.domain.calendar import CampusCalendar, IsoWeek, Schedule, from_us, us_of
from server.domain.contracts import Contract
from server.domain.events import StoredTap
from server.domain.ledger import (
    WeekFrame,
    WeekLine,
    account,
    freeze_candidates,
    late_tap_week,
    oldest_unconfirmed,
    weeks_to_freeze,
)
from server.domain.sessions import (
    DoorTap,
    ReaderMode,
    Session,
    SessionRules,
    SessionSpan,
    TapSpan,
    build_session_spans,
    correct_spans,
    session_of,
)
from server.domain.slots import closures, excuse_span
from server.domain.week_story import breakdown, week_sessions
from server.ports.presence import (
    AlreadyFrozen,
    BadgeHolding,
    FrozenLine,
    PresenceStore,
    PresenceUnits,
    StudentPlan,
)

if TYPE_CHECKING:
    from server.services.presence.ledger_workers import CampusWorkers

log = logging.getLogger(__name__)


@contextlib.contextmanager
def cycle_collection_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused while a report is computed, as it was
    after. The computation makes millions of small objects without cycles (tuples of
    integers, lists, lines), all freed by reference counting; the collector's passes over
    them cost ~25 % of a national year (bench/README.md, "Ledger"). Other threads of
    the process keep reference counting; their cycles, if any, wait for the end."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def session_rules(settings: PresenceSettings) -> SessionRules:
    return SessionRules(
        debounce=timedelta(seconds=settings.debounce_s),
        max_duration=timedelta(hours=settings.max_session_hours),
    )


def holder_of(
    holdings: dict[str, list[BadgeHolding]], badge: str, moment: datetime
) -> BadgeHolding | None:
    """Who held ``badge`` at ``moment``, if anyone."""
    for holding in holdings.get(badge, ()):
        if holding.holds_at(moment):
            return holding
    return None


def index_holdings(holdings: Sequence[BadgeHolding]) -> dict[str, list[BadgeHolding]]:
    by_hash: dict[str, list[BadgeHolding]] = defaultdict(list)
    for holding in holdings:
        by_hash[holding.badge_hash].append(holding)
    return by_hash


def utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is UTC else moment.astimezone(UTC)


class LedgerService:
    def __init__(
        self,
        units: PresenceUnits,
        events: EventStore,
        settings: PresenceSettings,
        *,
        retention_days: int = 400,
        workers: CampusWorkers | None = None,
    ) -> None:
        """``units``: the presence store's units of work (``server.ports.presence``);
        ``workers``: worker processes for national reports (``services.ledger_workers``);
        the caller that built them closes them."""
        self.units = units
        self.workers = workers
        self.events = events
        self.settings = settings
        self.rules = session_rules(settings)
        self.window = timedelta(days=settings.correction_window_days)
        self.retention = timedelta(days=retention_days)

    def campus_ids(self) -> list[str]:
        with self.units(reads_only=True) as uow:
            return uow.presence.campus_ids()

    def calendar(self, campus_id: str) -> CampusCalendar:
        """The campus's calendar as the ledger reads it (opening hours, closures,
        holidays)."""
        with self.units() as uow:
            return uow.presence.calendar(campus_id)

    def campus_timezone(self, campus_id: str | None) -> ZoneInfo:
        """The time zone in which a campus's local days and weeks are read: the settings'
        ``[presence] timezone``, the one source for every campus of a server
        (docs/campus-settings.md); ``campus_id`` is kept for the callers' sake."""
        del campus_id
        return ZoneInfo(self.settings.timezone)

    def weekly(self, week: IsoWeek, now: datetime, *, campus: str | None = None) -> list[WeekLine]:
        return self.weeks([week], now, campus=campus)[week]

    def weeks(
        self, weeks: Sequence[IsoWeek], now: datetime, *, campus: str | None = None
    ) -> dict[IsoWeek, list[WeekLine]]:
        """Lines of every student with a contract in each week: frozen ones as stored,
        the others computed from the raw taps (never frozen here: that is the job's).
        A national report (no ``campus``) is computed by the worker processes when the
        service has them (``services.ledger_workers``): the same lines."""
        if campus is None and self.workers is not None:
            try:
                return self.workers.weeks(self.campus_ids(), weeks, now)
            except BrokenProcessPool:
                log.error("national report computed in this process: a worker died")
        return self.campus_weeks([campus] if campus else None, weeks, now)

    def campus_weeks(
        self, campus_ids: Sequence[str] | None, weeks: Sequence[IsoWeek], now: datetime
    ) -> dict[IsoWeek, list[WeekLine]]:
        """:meth:`weeks` for the campuses given (every campus when None), in this
        process."""
        result: dict[IsoWeek, list[WeekLine]] = {week: [] for week in weeks}
        if not result:
            return result
        # The taps of the next campus are asked ahead while one is computed (a store
        # answered by another process: TapReadAhead), over the span _compute reads.
        # Reads only: no registry write lock (SQLite's BEGIN IMMEDIATE), which the
        # national report's worker processes would take in turn, computing one after
        # the other, and which would hold the ingest's writes for the whole report.
        tz = self.campus_timezone(None)
        span = (
            min(weeks).bounds(tz)[0] - self.rules.lookback,
            min(max(weeks).bounds(tz)[1], now + timedelta(microseconds=1)),
        )
        with (
            self.units(reads_only=True) as uow,
            cycle_collection_paused(),
            TapReadAhead(self.events) as reads,
        ):
            repo = uow.presence
            frozen = repo.frozen(result, None) if campus_ids is None else {}
            ids = repo.campus_ids() if campus_ids is None else list(campus_ids)
            if len(ids) > 1:
                reads.ask(ids[0], *span)
            for index, campus_id in enumerate(ids):
                if index + 1 < len(ids):
                    reads.ask(ids[index + 1], *span)
                if campus_ids is not None:
                    frozen = repo.frozen(result, campus_id)
                for _, line, _ in self._campus_lines(
                    repo, campus_id, tuple(result), frozen, now, reads=reads
                ):
                    result[line.week].append(line)
        for lines in result.values():
            lines.sort(key=lambda line: line.student_id)
        return result

    def freeze_due(self, now: datetime, *, weeks_back: int | None = None) -> int:
        """The periodic job: store the lines of the weeks that may be frozen at ``now``
        (``domain.ledger.weeks_to_freeze``) and are not yet; returns how many. ``weeks_back``
        limits the look to the last weeks (default: every week whose taps are kept)."""
        return sum(self._freeze_campus(campus, now, weeks_back) for campus in self.campus_ids())

    def _freeze_campus(self, campus: str, now: datetime, weeks_back: int | None) -> int:
        statuses = self.events.latest_statuses(campus=campus)
        held = oldest_unconfirmed((status.queued, status.oldest) for status in statuses)
        with self.units() as uow:
            repo = uow.presence
            tz = repo.calendar(campus).tz
            candidates = freeze_candidates(now, tz, self.window, self.retention)
            if weeks_back is not None:
                candidates = candidates[-weeks_back:] if weeks_back > 0 else []
            weeks = weeks_to_freeze(
                candidates,
                tz=tz,
                now=now,
                window=self.window,
                unconfirmed_since=held,
                retention=self.retention,
            )
            if len(weeks) < len(candidates):
                log.info(
                    "%s: %d week(s) not frozen: a reader still holds taps from %s",
                    campus,
                    len(candidates) - len(weeks),
                    held,
                )
            if not weeks:
                return 0
            # Taps the lines are computed from (sessions may start before Monday).
            span = (weeks[0].bounds(tz)[0] - self.rules.lookback, weeks[-1].bounds(tz)[1])
            taps_before = self.events.count_taps(*span, campus=campus)
            frozen = repo.frozen(weeks, campus)
            lines = [
                (pk, line, kept)
                for pk, line, kept in self._campus_lines(
                    repo, campus, tuple(weeks), frozen, now, breakdowns=True
                )
                if kept is not None  # computed now, not read frozen
            ]
        count = self._freeze(lines, now) if lines else 0
        if count and self.events.count_taps(*span, campus=campus) != taps_before:
            # A tap for these weeks was stored while they were computed: its ingest found
            # nothing frozen to re-open. Undo; the next turn freezes them with it.
            with self.units() as uow:
                uow.presence.unfreeze(lines, now)
                uow.commit()
            log.info("%s: taps stored while freezing; weeks frozen again next turn", campus)
            return 0
        return count

    def _freeze(self, lines: list[FrozenLine], now: datetime) -> int:
        try:
            with self.units() as uow:
                count = uow.presence.freeze(lines, now)
                uow.commit()
            log.info("froze %d weekly records", count)
            return count
        except AlreadyFrozen:
            log.info("weekly records were frozen by another worker meanwhile")
            return 0

    def reopen_for_taps(self, taps: Sequence[StoredTap], now: datetime) -> list[tuple[str, str]]:
        """Re-open the frozen weeks the taps just written belong to (called by the ingest
        after each write, before acknowledging): audited ``week_reopened`` entries with
        the cause ``late_tap``; the freeze job closes them again. Taps of unknown badges
        and of room readers re-open nothing. Returns ``(student_id, week)`` re-opened.

        Cheap on the usual batch: only taps older than the correction window may belong
        to a frozen week; those cost one registry transaction per batch."""
        old = [tap for tap in taps if tap.ts + self.window <= now]
        if not old:
            return []
        with self.units() as uow:
            repo = uow.presence
            modes = repo.reader_modes()
            old = [t for t in old if modes.get((t.campus, t.reader)) is not ReaderMode.ROOM]
            holdings = index_holdings(repo.holdings_for_hashes({tap.badge for tap in old}))
            tz = repo.zone  # the settings' (docs/campus-settings.md)
            wanted: set[tuple[int, str, str]] = set()
            for tap in old:
                holder = holder_of(holdings, tap.badge, tap.ts)
                week = late_tap_week(tap.ts, tz, now, self.window)
                if holder is not None and week is not None:
                    wanted.add((holder.student_pk, tap.campus, str(week)))
            if not wanted:
                return []
            found = repo.frozen_weeks_of(wanted)
            actor = Actor("ingest", now)
            reopened = []
            for student, weeks in found.items():
                for week in uow.students.reopen_weeks(student, weeks, actor, cause="late_tap"):
                    reopened.append((student.student_id, str(week)))
            uow.commit()
        if reopened:
            log.info("late taps re-opened %d frozen week(s)", len(reopened))
        return reopened

    def _campus_lines(
        self,
        repo: PresenceStore,
        campus_id: str,
        weeks: tuple[IsoWeek, ...],
        frozen: dict[tuple[int, str], WeekLine],
        now: datetime,
        *,
        breakdowns: bool = False,
        reads: TapRowReader | None = None,
    ) -> list[tuple[int, WeekLine, str | None]]:
        """(student, line, its breakdown) for the campus's students and weeks; the
        breakdown (``domain.week_story``) only for lines computed from the raw taps and
        only when asked (``breakdowns``: the freeze job keeps it with the record)."""
        plans = repo.plans(campus_id, min(weeks).monday, _sunday(max(weeks)))
        lines: list[tuple[int, WeekLine, str | None]] = []
        pending: list[tuple[IsoWeek, StudentPlan, list[Contract]]] = []
        for week in weeks:
            label, monday, sunday = str(week), week.monday, _sunday(week)
            for plan in plans:
                stored = frozen.get((plan.student_pk, label))
                if stored is not None:
                    lines.append((plan.student_pk, stored, None))
                    continue
                contracts = [c for c in plan.contracts if c.overlaps(monday, sunday)]
                if contracts:
                    pending.append((week, plan, contracts))
        if pending:
            source = reads or self.events
            lines.extend(self._compute(repo, campus_id, pending, plans, now, breakdowns, source))
        return lines

    def _compute(
        self,
        repo: PresenceStore,
        campus_id: str,
        pending: list[tuple[IsoWeek, StudentPlan, list[Contract]]],
        plans: Sequence[StudentPlan],
        now: datetime,
        breakdowns: bool,
        reads: TapRowReader,
    ) -> list[tuple[int, WeekLine, str | None]]:
        """Lines computed from the raw taps (read with ``reads``), for the weeks that are
        not frozen; with their breakdown (``domain.week_story``) when ``breakdowns``."""
        weeks = sorted({week for week, _, _ in pending})
        calendar = repo.calendar(campus_id)
        tz = calendar.tz
        start = weeks[0].bounds(tz)[0] - self.rules.lookback
        end = min(weeks[-1].bounds(tz)[1], now + timedelta(microseconds=1))
        schedule = calendar.schedule(start.astimezone(tz).date(), _sunday(weeks[-1]))
        sessions = self._sessions(repo, campus_id, (start, end), schedule, plans, now, reads)
        # Excuses up to the week's end, not now: a slot excused ahead is not due.
        week_end = weeks[-1].bounds(tz)[1]
        excuses = repo.excuses([plan.student_pk for plan in plans], start, week_end)
        frames = {
            week: WeekFrame.build(
                week, tz, schedule, closures(calendar, week.monday, _sunday(week))
            )
            for week in weeks
        }
        grace = us_of(timedelta(minutes=self.settings.grace_minutes))
        now_us, margin = to_us(now), us_of(self.rules.lookback)
        excused = {pk: [excuse_span(e) for e in found] for pk, found in excuses.items()}
        lines = []
        for week, plan, contracts in pending:
            frame = frames[week]
            near = sessions[plan.student_pk].near(frame, margin)
            line, outcomes = account(
                plan.student_id,
                frame,
                contracts=contracts,
                sessions=near,
                excuses=excused.get(plan.student_pk, ()),
                grace=grace,
                now=now_us,
                outcomes=breakdowns,
            )
            kept = None
            if breakdowns:
                objects = [session_of(item) for item in near]
                kept = breakdown(outcomes, week_sessions(objects, frame.start, frame.end))
            lines.append((plan.student_pk, line, kept))
        return lines

    def _sessions(
        self,
        repo: PresenceStore,
        campus_id: str,
        span: tuple[datetime, datetime],
        schedule: Schedule,
        plans: Sequence[StudentPlan],
        now: datetime,
        reads: TapRowReader,
    ) -> dict[int, _Sessions]:
        """Each student's sessions over the span, corrections applied."""
        pks = [plan.student_pk for plan in plans]
        found = corrected_spans(reads, repo, self.rules, campus_id, pks, span, schedule, now)
        return {pk: _Sessions(sessions) for pk, sessions in found.items()}


def corrected_sessions(
    events: EventStore,
    repo: PresenceStore,
    rules: SessionRules,
    campus_id: str,
    student_pks: Sequence[int],
    span: tuple[datetime, datetime],
    schedule: Schedule,
    now: datetime,
) -> dict[int, list[Session]]:
    """Each student's sessions from the door taps stored in ``span``, as known at
    ``now``, corrections applied: the one way the ledger, the tutors' and the students'
    pages see presence. The taps are read as plain rows (``EventStore.tap_rows``)."""
    found = corrected_spans(events, repo, rules, campus_id, student_pks, span, schedule, now)
    return {pk: [session_of(item) for item in spans] for pk, spans in found.items()}


def corrected_spans(
    events: TapRowReader,
    repo: PresenceStore,
    rules: SessionRules,
    campus_id: str,
    student_pks: Sequence[int],
    span: tuple[datetime, datetime],
    schedule: Schedule,
    now: datetime,
) -> dict[int, list[SessionSpan]]:
    """:func:`corrected_sessions` in integer form (``domain.sessions.SessionSpan``: no
    datetime per tap or session), what the ledger computes on."""
    start, end = span
    rows = events.tap_rows(start, end, campus=campus_id) if start < end else []
    door = door_spans_by_student(
        campus_id, rows, index_holdings(repo.holdings_for_campus(campus_id)), repo.reader_modes()
    )
    corrections = repo.corrections(student_pks, start, end)
    now_us = to_us(now)
    result = {}
    for pk in student_pks:
        built, _ = build_session_spans(door.get(pk, ()), rules=rules, schedule=schedule, now=now_us)
        fixes = corrections.get(pk)
        result[pk] = correct_spans(built, fixes) if fixes else built
    return result


def door_taps_by_student(
    taps: Sequence[StoredTap],
    holdings: dict[str, list[BadgeHolding]],
    modes: dict[tuple[str, str], ReaderMode],
) -> dict[int, list[DoorTap]]:
    """Door taps of known badges grouped by student, from ``taps`` in time order (as
    :meth:`EventStore.taps` gives them): each student's taps keep that order. Readers
    missing from the registry count as ``toggle`` doors; room readers make no presence
    (the same choices as :func:`door_spans_by_student`, with each tap's id kept)."""
    holders = BadgeHolders(holdings)
    grouped: dict[int, list[DoorTap]] = defaultdict(list)
    for tap in taps:
        mode = modes.get((tap.campus, tap.reader), ReaderMode.TOGGLE)
        if mode is ReaderMode.ROOM:
            continue
        pk = holders.student_at(tap.badge, to_us(tap.ts))
        if pk is not None:
            grouped[pk].append(DoorTap(utc(tap.ts), mode, tap.tap_id))
    return grouped


class BadgeHolders:
    """Which student held a badge at an instant (``holder_of``), with a shortcut for
    the badges held by one student only and never revoked (most of them)."""

    __slots__ = ("holdings", "sole")

    def __init__(self, holdings: dict[str, list[BadgeHolding]]) -> None:
        self.holdings = holdings
        # badge -> (student, held from, µs): no search for these
        self.sole = {
            badge: (held[0].student_pk, to_us(held[0].active_from))
            for badge, held in holdings.items()
            if len(held) == 1 and held[0].revoked_at is None
        }

    def student_at(self, badge: str, ts_us: int) -> int | None:
        holder = self.sole.get(badge)
        if holder is not None and ts_us >= holder[1]:
            return holder[0]
        found = holder_of(self.holdings, badge, from_us(ts_us))
        return None if found is None else found.student_pk


def door_spans_by_student(
    campus: str,
    rows: Sequence[TapRow],
    holdings: dict[str, list[BadgeHolding]],
    modes: dict[tuple[str, str], ReaderMode],
) -> dict[int, list[TapSpan]]:
    """:func:`door_taps_by_student` for one campus's taps read as rows (time order), in
    integer form: ``(ts_us, mode)`` per door tap of a known badge, grouped by student."""
    grouped: dict[int, list[TapSpan]] = defaultdict(list)
    holders = BadgeHolders(holdings)
    sole = holders.sole  # the shortcut inlined: called once per tap by the million
    reader_mode: dict[str, ReaderMode] = {}
    room = ReaderMode.ROOM
    for badge, ts_us, reader in rows:
        mode = reader_mode.get(reader)
        if mode is None:
            mode = reader_mode[reader] = modes.get((campus, reader), ReaderMode.TOGGLE)
        if mode is room:
            continue
        holder = sole.get(badge)
        if holder is not None and ts_us >= holder[1]:
            grouped[holder[0]].append((ts_us, mode))
            continue
        pk = holders.student_at(badge, ts_us)  # several holders, or before the sole one's
        if pk is not None:
            grouped[pk].append((ts_us, mode))
    return grouped


def _sunday(week: IsoWeek) -> date:
    return week.monday + timedelta(days=6)


class _Sessions:
    """One student's sessions (integer form) sorted by start, sliced by week with a
    binary search."""

    __slots__ = ("sessions", "starts")

    def __init__(self, sessions: list[SessionSpan]) -> None:
        self.sessions = sessions
        self.starts = [session[0] for session in sessions]

    def near(self, frame: WeekFrame, margin: int) -> list[SessionSpan]:
        """The sessions that may overlap the week."""
        low = bisect.bisect_left(self.starts, frame.start_us - margin)
        high = bisect.bisect_left(self.starts, frame.end_us)
        return self.sessions[low:high]
