"""The rows a national report's worker sends its lines as (``ledger_workers``): the
same lines come out, whatever the week, status and figures."""

from __future__ import annotations

import random

from server.domain.calendar import IsoWeek
from server.domain.ledger import WeekLine, WeekStatus
from server.services.presence.ledger_workers import line_rows, row_lines


def test_lines_cross_the_pipe_unchanged() -> None:
    rng = random.Random(16)
    statuses = list(WeekStatus)
    weeks = [IsoWeek(2026, 52), IsoWeek(2027, 1), IsoWeek(2026, 37)]  # the report's order
    lines = [
        WeekLine(
            f"E{index:03d}",
            rng.choice(weeks),
            rng.randrange(0, 20 * 3600),
            rng.randrange(0, 30 * 3600),
            rng.randrange(0, 3600),
            rng.randrange(0, 5),
            rng.randrange(0, 5),
            statuses[index % len(statuses)],
            rng.randrange(0, 10 * 3600),
        )
        for index in range(200)
    ]
    assert {line.status for line in lines} == set(WeekStatus)
    rows = line_rows(lines, weeks)
    assert all(type(value) in (str, int) for row in rows for value in row)  # no objects
    back = row_lines(rows, weeks)
    assert back == lines
    assert [line.remaining_s for line in back] == [line.remaining_s for line in lines]
