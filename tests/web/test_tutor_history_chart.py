"""The student page's chart of the last ten weeks (the student area's bar chart): one
bar per week of the table, oldest first, the hours expected marked, described in words,
with the table as its alternative."""

from __future__ import annotations

import re
from datetime import datetime

from server.domain.ledger import WeekStatus
from server.services.screens.tutor_students import LedgerRow
from server.web.student.chart import HEIGHT
from server.web.tutor.charts import history_chart
from tests.web.conftest import PARIS
from tests.web.test_tutor_now import at, page

BAR = re.compile(r'<rect x="\d+" y="(\d+)" width="\d+" height="(\d+)" fill="(#[0-9a-f]+)"/>')


def _svg(text: str) -> str:
    found = re.search(r"<svg.*?</svg>", text, re.DOTALL)
    assert found, "no chart"
    return found[0]


def test_the_chart_draws_the_ten_weeks_of_the_table(world, client_as) -> None:
    world.clock.set(at(11, 0))
    world.tap("E001", at(9, 0))
    world.tap("E001", at(10, 30))
    text = page(client_as("alice"), "/tutor/students/E001")
    history = text.split('id="history-title"')[1]
    svg = _svg(history)
    assert history.index("<svg") < history.index("<table")  # above its table
    opening = svg.split(">")[0]
    assert 'role="img"' in opening
    label = re.search(r'aria-label="([^"]+)"', opening)
    assert label and "les 10 dernières semaines : engagement tenu 0 fois" in label[1]
    # Ten weeks (W39 to W48) of 12 h expected: the axis goes to 12 h (168 px of plot).
    bars = BAR.findall(svg)
    assert len(bars) == 10 and svg.count('stroke-width="3"') == 10
    assert [int(height) for _y, height, _fill in bars] == [0] * 9 + [21]  # 1,5 h of 12 h
    assert re.findall(r'text-anchor="middle"[^>]*>([^<]+)<', svg)[::9] == ["21/09", "23/11"]
    assert ">12 h</text>" in svg and ">6 h</text>" in svg
    rows = re.findall(r'<th scope="row" data-label="Semaine"><a [^>]*>([^<]+)</a></th>', history)
    assert len(rows) == 10 and rows[0] == "2026-W48" and rows[-1] == "2026-W39"


def test_no_chart_without_a_week_under_contract(world, client_as) -> None:
    world.clock.set(datetime(2026, 8, 20, 10, 0, tzinfo=PARIS))  # the contract starts 1/9
    text = page(client_as("alice"), "/tutor/students/E001")
    assert "Aucune semaine sous contrat pour le moment." in text and "<svg" not in text


def test_the_chart_counts_the_weeks_met_oldest_first(world) -> None:
    def row(week: str, attended: float, status: WeekStatus) -> LedgerRow:
        return LedgerRow(week, 12.0, attended, 0.0, max(0.0, 12 - attended), 0, 0, status)

    history = [  # newest first, as the page
        row("2026-W48", 3.0, WeekStatus.ON_TRACK),
        row("2026-W47", 12.5, WeekStatus.MET),
        row("2026-W46", 6.0, WeekStatus.SHORT),
    ]
    with world.app.test_request_context("/tutor/students/E001"):
        svg = str(history_chart(history))
    label = re.search(r'aria-label="([^"]+)"', svg)
    assert label and "les 3 dernières semaines : engagement tenu 1 fois" in label[1]
    assert re.findall(r'text-anchor="middle"[^>]*>([^<]+)<', svg) == ["09/11", "16/11", "23/11"]
    # The axis tops at 16 h; a met week is drawn green, the others blue.
    plot = HEIGHT - 16 - 36
    bars = [(int(height), fill) for _y, height, fill in BAR.findall(svg)]
    assert bars == [
        (round(plot * 6 / 16), "#000091"),
        (round(plot * 12.5 / 16), "#18753c"),
        (round(plot * 3 / 16), "#000091"),
    ]
