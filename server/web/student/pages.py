"""``/me`` (my week) and ``/me/history`` (my weeks of the academic year)."""

from __future__ import annotations

from babel.dates import format_date
from flask import render_template

from server.domain.accounts import Role
from server.domain.ledger import WeekLine, WeekStatus
from server.i18n import current_language, ngettext
from server.web import formatting
from server.web.guards import roles
from server.web.student import blueprint
from server.web.student.chart import Bar, weekly_bars
from server.web.student.context import me, now, space


@blueprint.get("")
@roles(Role.STUDENT)
def week() -> str:
    mine = space().week(me().student_pk, now())
    return render_template("student/week.html", my=mine, now=now())


@blueprint.get("/history")
@roles(Role.STUDENT)
def history() -> str:
    year = space().year(me().student_pk, now())
    return render_template(
        "student/history.html",
        year=year,
        lines=list(reversed(year.lines)),  # the latest week first in the table
        chart=_chart(year.lines),
    )


def _chart(lines: list[WeekLine]) -> str:
    """The SVG of the weeks (oldest first), described in words for screen readers."""
    bars = [
        Bar(
            format_date(line.week.monday, "dd/MM", locale=current_language()),
            line.attended_s / 3600,
            line.expected_s / 3600,
        )
        for line in lines
    ]
    met = sum(1 for line in lines if line.status is WeekStatus.MET)
    label = ngettext(
        "Hours attended each week (bars) against the hours expected (marks): "
        "{met} of {count} week met the commitment. The table below gives every figure.",
        "Hours attended each week (bars) against the hours expected (marks): "
        "{met} of {count} weeks met the commitment. The table below gives every figure.",
        len(lines),
        met=met,
    )
    return weekly_bars(bars, label=label, unit=formatting.hours)
