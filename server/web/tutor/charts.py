"""The student page's chart of the last weeks: the student area's bar chart (attended
against expected), fed with the tutor page's rows and described in words."""

from __future__ import annotations

from collections.abc import Sequence

from babel.dates import format_date
from markupsafe import Markup

from server.domain.calendar import IsoWeek
from server.domain.ledger import WeekStatus
from server.i18n import current_language, ngettext
from server.services.screens.tutor_students import LedgerRow
from server.web import formatting
from server.web.student.chart import Bar, weekly_bars


def history_chart(history: Sequence[LedgerRow]) -> Markup:
    """The SVG of ``history`` (newest first, as the table), drawn oldest first."""
    weeks = list(reversed(history))
    bars = [
        Bar(
            format_date(IsoWeek.parse(row.week).monday, "dd/MM", locale=current_language()),
            row.attended,
            row.expected,
        )
        for row in weeks
    ]
    met = sum(1 for row in weeks if row.status is WeekStatus.MET)
    label = ngettext(
        "Hours attended each week (bars) against the hours expected (marks), the last "
        "{count} week: {met} met the commitment. The table below gives every figure.",
        "Hours attended each week (bars) against the hours expected (marks), the last "
        "{count} weeks: {met} met the commitment. The table below gives every figure.",
        len(weeks),
        met=met,
    )
    return weekly_bars(bars, label=label, unit=formatting.hours)
