"""The national report's campuses computed in worker processes (issue 16).

A national report (every campus, one or many weeks) is one independent computation per
campus: :class:`CampusWorkers` hands groups of campuses to ``processes`` worker processes,
each with its own registry session factory and event store built from the settings, and
gathers their lines. The rule is the same code (``LedgerService``, ``domain.ledger``):
the lines are the ones one process computes, in the same order. Nothing is kept in a
worker between calls but its connections: every call reads the stored taps and the
registry afresh (a late tap counts at the next call, as in one process).

The workers start with the pool (a report does not pay their start: every one of them is
up, and warmed up on one campus-week when given a clock, before the pool is returned;
the first report had found one still importing) and use the ``spawn`` method (no copy
of the parent's threads, connections or locks). A worker that dies fails the report
under way with ``BrokenProcessPool`` (``LedgerService`` then computes it in its own
process) and new workers are started for the next one. ``cpu_s`` adds up the CPU time
the workers spent on reports, for the benchmark.
"""

from __future__ import annotations

import logging
import multiprocessing
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import fields
from datetime import UTC, datetime
from multiprocessing.synchronize import Barrier
from typing import TYPE_CHECKING

from server.domain.calendar import IsoWeek
from server.domain.ledger import WeekLine, WeekStatus
from server.process import keep_startup_objects

if TYPE_CHECKING:
    from server.config import Settings
    from server.services.presence.ledger import LedgerService

log = logging.getLogger(__name__)

_CHUNKS_PER_PROCESS = 8  # groups of campuses per worker: the slow ones even out (84: 5-6 each)

_READY_TIMEOUT_S = 300.0  # every worker started (imports, connections) and warmed

_worker: LedgerService | None = None  # the worker process's own service
_all_started: Barrier | None = None


def _start(
    build: Callable[[Settings], LedgerService], settings: Settings, started: Barrier
) -> None:
    """In a worker: its own service, registry sessions and event store, built by the
    composition root's ``build`` (the main process has already migrated the registry)."""
    global _worker, _all_started
    _worker = build(settings)
    _all_started = started


def _ready(now: datetime | None) -> int:
    """In a worker, once: waits until every worker has one of these (so each worker
    takes exactly one), then warms the worker up with one campus-week computed and
    dropped when ``now`` is given (imports, the ORM's mappers and statements, the
    calendar's caches: what a first report would pay)."""
    assert _worker is not None and _all_started is not None, "worker not started"
    _all_started.wait(_READY_TIMEOUT_S)
    if now is not None:
        first = _worker.campus_ids()[:1]
        _worker.campus_weeks(first, [IsoWeek.of(now.astimezone(UTC).date())], now)
    keep_startup_objects()
    return multiprocessing.current_process().pid or 0


# A line crosses the pipe as a tuple of plain values, the week and the status as indexes:
# 24,000 WeekLine objects (each with its IsoWeek and enum) took 0.17 s of a worker's CPU
# to pickle and 0.12 s of the parent's to load; as rows 0.04 s, and 0.09 s to load and
# build the lines again.
Row = tuple[str, int, int, int, int, int, int, int, int]
_STATUSES = tuple(WeekStatus)
_STATUS_INDEX = {status: index for index, status in enumerate(_STATUSES)}
_ROW_FIELDS = (
    "student_id",
    "week",
    "expected_s",
    "attended_s",
    "unverified_s",
    "missed_slots",
    "late_arrivals",
    "status",
    "reachable_s",
)
if tuple(field.name for field in fields(WeekLine)) != _ROW_FIELDS:  # pragma: no cover
    raise RuntimeError("WeekLine's fields changed: update ledger_workers' rows")


def line_rows(lines: Iterable[WeekLine], weeks: Sequence[IsoWeek]) -> list[Row]:
    """``lines`` as rows for the pipe (``weeks``: the report's weeks, in its order)."""
    week_index = {week: index for index, week in enumerate(weeks)}
    status_index = _STATUS_INDEX
    return [
        (
            line.student_id,
            week_index[line.week],
            line.expected_s,
            line.attended_s,
            line.unverified_s,
            line.missed_slots,
            line.late_arrivals,
            status_index[line.status],
            line.reachable_s,
        )
        for line in lines
    ]


def row_lines(rows: Iterable[Row], weeks: Sequence[IsoWeek]) -> list[WeekLine]:
    """The lines :func:`line_rows` made the ``rows`` of."""
    statuses = _STATUSES
    return [
        WeekLine(
            student,
            weeks[week],
            expected,
            attended,
            unverified,
            missed,
            late,
            statuses[status],
            reachable,
        )
        for student, week, expected, attended, unverified, missed, late, status, reachable in rows
    ]


def _campus_lines(
    campus_ids: Sequence[str], weeks: tuple[IsoWeek, ...], now: datetime
) -> tuple[list[Row], float]:
    assert _worker is not None, "worker not started"
    started = time.process_time()
    found = _worker.campus_weeks(campus_ids, weeks, now)
    rows = line_rows((line for week_lines in found.values() for line in week_lines), weeks)
    return rows, time.process_time() - started


class CampusWorkers:
    """``processes`` worker processes computing campuses' weekly lines."""

    def __init__(
        self,
        settings: Settings,
        build: Callable[[Settings], LedgerService],
        *,
        processes: int = 2,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        """``build`` makes a worker's service from the settings, in the worker: a
        module-level function (``spawn`` pickles it by name). Every worker is started
        when this returns, and warmed up with one campus-week at ``clock()`` if given."""
        if processes < 1:
            raise ValueError("at least one worker process")
        self.processes = processes
        self.cpu_s = 0.0
        self.restarts = 0  # pools rebuilt after a worker died
        self._settings = settings
        self._build = build
        self._clock = clock
        self._pool, self.pids = self._start()

    def _start(self) -> tuple[ProcessPoolExecutor, set[int]]:
        context = multiprocessing.get_context("spawn")
        pool = ProcessPoolExecutor(
            self.processes,
            mp_context=context,
            initializer=_start,
            initargs=(self._build, self._settings, context.Barrier(self.processes)),
        )
        started = time.perf_counter()
        now = self._clock() if self._clock is not None else None
        pids = set(pool.map(_ready, [now] * self.processes))
        log.info(
            "%d ledger worker process(es) ready in %.1f s",
            len(pids),
            time.perf_counter() - started,
        )
        return pool, pids

    def weeks(
        self, campus_ids: Sequence[str], weeks: Sequence[IsoWeek], now: datetime
    ) -> dict[IsoWeek, list[WeekLine]]:
        """The lines of the campuses' students for ``weeks``, as
        ``LedgerService.campus_weeks`` gives them in one process (sorted by student)."""
        result: dict[IsoWeek, list[WeekLine]] = {week: [] for week in weeks}
        order = tuple(result)  # the weeks once each: a row's week is an index in it
        count = min(len(campus_ids), self.processes * _CHUNKS_PER_PROCESS)
        chunks = [list(campus_ids[index::count]) for index in range(count)]
        asked: list[Future[tuple[list[Row], float]]] = []
        try:
            # Each group's lines built here as it comes back, while the workers compute
            # the others (not all 200,000 of a national year after the last one).
            asked.extend(self._pool.submit(_campus_lines, chunk, order, now) for chunk in chunks)
            for done in as_completed(asked):
                rows, cpu_s = done.result()
                self.cpu_s += cpu_s
                for line in row_lines(rows, order):
                    result[line.week].append(line)
        except BrokenProcessPool:
            # A worker died (killed, out of memory): new workers for the next report;
            # this one is the caller's to compute otherwise.
            log.error("a ledger worker process died; starting new ones")
            self.restarts += 1
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool, self.pids = self._start()
            raise
        finally:
            for future in asked:  # after a failure: the groups not begun are not computed
                future.cancel()
        for lines in result.values():
            lines.sort(key=lambda line: line.student_id)
        return result

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> CampusWorkers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
