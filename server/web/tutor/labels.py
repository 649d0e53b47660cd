"""Translated labels of the values the tutor pages show (states, outcomes, reasons),
and the CSS class of each state's pill: given to the tutor templates."""

from __future__ import annotations

from typing import Any

from babel.dates import get_day_names

from server.domain.alerts import CallOutcome, ReasonCategory, Stage
from server.domain.contracts import ExcuseCategory
from server.domain.ledger import WeekStatus
from server.domain.sessions import SessionState
from server.domain.tutor_roster import RosterState
from server.i18n import _, current_language
from server.texts.alert_texts import tel_uri


def outcomes() -> list[tuple[str, str]]:
    return [
        (CallOutcome.REACHED.value, _("Reached")),
        (CallOutcome.VOICEMAIL.value, _("Voicemail")),
        (CallOutcome.NO_ANSWER.value, _("No answer")),
        (CallOutcome.WRONG_NUMBER.value, _("Wrong number")),
    ]


def reasons() -> list[tuple[str, str]]:
    return [
        (ReasonCategory.ILLNESS.value, _("Illness")),
        (ReasonCategory.TRANSPORT.value, _("Transport")),
        (ReasonCategory.FAMILY.value, _("Family")),
        (ReasonCategory.WORK.value, _("Work")),
        (ReasonCategory.EXAM.value, _("Exam")),
        (ReasonCategory.OTHER.value, _("Other")),
    ]


def excuses() -> list[tuple[str, str]]:
    return [
        (ExcuseCategory.ILLNESS.value, _("Illness")),
        (ExcuseCategory.EXAM.value, _("Exam")),
        (ExcuseCategory.SPORT.value, _("Sports competition")),
        (ExcuseCategory.JOB_INTERVIEW.value, _("Job interview")),
        (ExcuseCategory.FAMILY.value, _("Family")),
        (ExcuseCategory.OTHER.value, _("Other")),
    ]


def roster_states() -> dict[str, tuple[str, str]]:
    """State -> (label, pill class)."""
    return {
        RosterState.EXPECTED: (_("Expected"), "status-expected"),
        RosterState.PRESENT: (_("Present"), "status-present"),
        RosterState.LATE: (_("Late"), "status-late"),
        RosterState.ABSENT: (_("Absent"), "status-absent"),
        RosterState.UNCHECKED: (_("Not checked: door reader down"), "status-neutral"),
    }


def week_statuses() -> dict[str, tuple[str, str]]:
    return {
        WeekStatus.MET: (_("Met"), "status-ok"),
        WeekStatus.ON_TRACK: (_("On track"), "status-neutral"),
        WeekStatus.AT_RISK: (_("At risk"), "status-warning"),
        WeekStatus.SHORT: (_("Short"), "status-danger"),
        WeekStatus.EXCUSED: (_("Excused"), "status-neutral"),
    }


def session_states() -> dict[str, tuple[str, str]]:
    return {
        SessionState.CLOSED: (_("Badged in and out"), "status-ok"),
        SessionState.OPEN: (_("Inside now"), "status-present"),
        SessionState.UNVERIFIED: (_("Unverified"), "status-warning"),
        SessionState.CONFIRMED: (_("Confirmed"), "status-ok"),
        SessionState.MANUAL: (_("Entered by hand"), "status-neutral"),
    }


def alert_statuses() -> dict[str, tuple[str, str]]:
    return {
        "open": (_("Open"), "status-open"),
        "acknowledged": (_("Acknowledged"), "status-acknowledged"),
        "closed": (_("Closed"), "status-closed"),
    }


def alert_stages() -> dict[str, tuple[str, str]]:
    """Stage of an alert's life (domain.alerts.Stage) -> (label, pill class)."""
    return {
        Stage.NEW: (_("To call"), "status-open"),
        Stage.SEEN: (_("Seen, to call"), "status-acknowledged"),
        Stage.NO_ANSWER: (_("No answer: call again"), "status-warning"),
        Stage.CALL_DUE: (_("Call again now"), "status-danger"),
        Stage.ESCALATED: (_("Escalated to the coordinator"), "status-danger"),
        Stage.CLOSED: (_("Closed"), "status-closed"),
    }


def alert_kinds() -> dict[str, str]:
    return {
        "absence": _("Absence"),
        "shortfall": _("Weekly hours short"),
        "early_warning": _("Early warning"),
        "reader_down": _("Door reader down"),
        "capacity": _("Capacity reached"),
    }


def resolutions() -> dict[str, str]:
    return {
        "called": _("after a call"),
        "arrived": _("the student arrived"),
        "reader_back": _("the reader is back"),
        "under_limit": _("back under the limit"),
    }


def weekday(index: int) -> str:
    return str(get_day_names("wide", locale=current_language())[index])


def template_values() -> dict[str, Any]:
    """The blueprint's context processor."""
    return {
        "outcome_labels": dict(outcomes()),
        "reason_labels": dict(reasons()),
        "excuse_labels": dict(excuses()),
        "roster_states": roster_states(),
        "week_statuses": week_statuses(),
        "session_states": session_states(),
        "alert_statuses": alert_statuses(),
        "alert_stages": alert_stages(),
        "alert_kinds": alert_kinds(),
        "resolutions": resolutions(),
        "weekday": weekday,
        "tel": tel_uri,
    }
