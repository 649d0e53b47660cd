"""Words for slot outcomes and the "why this week" explanation, in the current language
(web pages, the ``report week`` command and API error messages)."""

from __future__ import annotations

from server.domain.week_story import Problem
from server.i18n import _


def slot_state(state: str) -> str:
    """A ``domain.slots.SlotState`` value in words."""
    texts = {
        "not_due": _("Not due"),
        "upcoming": _("To come"),
        "waiting": _("Expected (grace time)"),
        "present": _("Present"),
        "late": _("Late"),
        "absent": _("Not arrived"),
        "missed": _("Missed"),
    }
    return texts.get(state, state)


def slot_reason(reason: str) -> str:
    """A ``domain.slots.NotDue`` value in words."""
    texts = {
        "outside_contract": _("outside the contract's validity"),
        "public_holiday": _("public holiday"),
        "closure": _("campus closed"),
        "school_holiday": _("school holidays"),
        "outside_opening_hours": _("outside opening hours"),
        "excused": _("excused absence"),
    }
    return texts.get(reason, reason)


def day_kind(kind: str) -> str:
    texts = {
        "public_holiday": _("Public holiday"),
        "closure": _("Campus closed"),
        "school_holiday": _("School holidays, campus closed"),
        "exceptional_hours": _("Exceptional opening hours"),
    }
    return texts.get(kind, kind)


def source_text(source: str) -> str:
    texts = {
        "live": _("Computed now from the door taps and corrections."),
        "frozen": _("Frozen week: the figures and their breakdown as stored when it closed."),
        "frozen_recomputed": _(
            "Frozen week stored without its breakdown: the slots are recomputed from the "
            "taps still kept and may differ from the stored figures."
        ),
        "frozen_unexplained": _(
            "Frozen week stored without its breakdown, and its taps are purged: only its "
            "figures remain."
        ),
    }
    return texts.get(source, source)


def problem_text(problem: Problem) -> str:
    texts = {
        Problem.BAD_WEEK: _("There is no such week: write an ISO week like 2026-W46."),
        Problem.UNKNOWN_STUDENT: _("There is no such student."),
        Problem.FORBIDDEN: _("You cannot see this student's weeks."),
        Problem.FUTURE_WEEK: _("This week has not begun yet: there is nothing to explain."),
    }
    return texts[problem]


def week_status(status: str) -> str:
    """A ``domain.ledger.WeekStatus`` value in words."""
    texts = {
        "met": _("Met"),
        "on_track": _("On track"),
        "at_risk": _("At risk"),
        "short": _("Short"),
        "excused": _("Nothing expected"),
    }
    return texts.get(status, status)


def session_state(state: str) -> str:
    """A ``domain.sessions.SessionState`` value in words."""
    texts = {
        "closed": _("badged in and out"),
        "open": _("still inside"),
        "unverified": _("closed by the system, to verify"),
        "confirmed": _("confirmed by a tutor"),
        "manual": _("entered or amended by a tutor"),
    }
    return texts.get(state, state)


def tap_effect(effect: str) -> str:
    """A ``domain.sessions.TapEffect`` value in words."""
    texts = {
        "entered": _("came in"),
        "left": _("went out"),
        "room": _("room reader"),
        "repeated": _("repeated tap, ignored"),
        "already_in": _("already inside"),
        "not_in": _("was not inside"),
    }
    return texts.get(effect, effect)
