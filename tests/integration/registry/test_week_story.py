"""Why this week: the explanation of one student's week on a real registry and event
store (SQLite), live, frozen, and frozen with its taps purged; and the command line."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from server.domain.accounts import Actor
from server.domain.contracts import ExcuseCategory
from server.domain.sessions import Correction, CorrectionKind
from server.domain.slots import NotDue, SlotState
from server.domain.week_story import Problem, WeekStoryError
from server.registry.models import OpeningHours, WeeklyRecord
from server.registry.presence_store import presence_unit_of_work
from server.services.presence.corrections import CorrectionService
from server.services.presence.ledger import LedgerService
from server.services.presence.week_story import Source, WeekStories
from tests.integration.registry.conftest import ROW_E001, ROW_E002, UID_E001, csv_bytes, run_import
from tests.integration.registry.test_report_cli_and_api import (  # noqa: F401 (fixtures)
    NOW,
    _run,
    config,
    imported,
)

PARIS = ZoneInfo("Europe/Paris")
MON, TUE, WED, THU, FRI = (date(2026, 11, 23) + timedelta(days=n) for n in range(5))
DURING = datetime(2026, 11, 27, 18, tzinfo=UTC)  # Friday evening of 2026-W48
AFTER_WINDOW = datetime(2026, 12, 20, tzinfo=UTC)  # W48 frozen by then
PURGED = datetime(2028, 1, 10, tzinfo=UTC)  # W48's taps are past the 400-day retention


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=PARIS)


@pytest.fixture
def stories(registry, events, settings, writer) -> WeekStories:
    run_import(registry, csv_bytes(ROW_E001, ROW_E002))
    with registry() as session, session.begin():
        for weekday in range(5):
            opens = time(9, 30) if weekday == 0 else time(8)
            session.add(
                OpeningHours(campus_id="campus-a", weekday=weekday, opens=opens, closes=time(19))
            )
    # E001: Mon 09:00-12:00 (the campus opens 09:30), Tue 14-18, Thu 9-13, Fri 9-10.
    writer.tap(UID_E001, at(MON, 9, 40))
    writer.tap(UID_E001, at(MON, 12))
    writer.tap(UID_E001, at(TUE, 14, 30))  # late, and forgets to badge out
    corrections = CorrectionService(
        presence_unit_of_work(registry, settings.presence), settings.presence, retention_days=400
    )
    actor = Actor("tutrice@campus.fr", datetime(2026, 11, 26, 8, tzinfo=UTC))
    corrections.excuse(
        "E001", at(THU, 0), at(THU, 23), ExcuseCategory.EXAM, note="partiel", actor=actor
    )
    amend = Correction(CorrectionKind.AMEND, at(TUE, 14, 30), at(TUE, 14, 30), at(TUE, 18))
    corrections.correct("E001", amend, reason="left at six, forgot to badge", actor=actor)
    ledger = LedgerService(
        presence_unit_of_work(registry, settings.presence), events, settings.presence
    )
    return WeekStories(
        presence_unit_of_work(registry, settings.presence),
        events,
        ledger,
        settings.presence,
        retention_days=400,
    )


def test_a_live_week_explains_every_slot_session_correction_and_excuse(stories) -> None:
    story = stories.story("E001", "2026-W48", DURING)
    assert story.source is Source.LIVE and story.frozen_at is None
    monday, tuesday, thursday, friday = story.slots
    assert (monday.state, monday.expected_from, monday.late_minutes) == (
        SlotState.PRESENT,
        at(MON, 9, 30),
        10,
    )  # expected from the opening: 10 min after it, within the grace time
    assert monday.expected_minutes == 150
    assert (tuesday.state, tuesday.late_minutes) == (SlotState.LATE, 30)
    assert (thursday.state, thursday.reason, thursday.detail) == (
        SlotState.NOT_DUE,
        NotDue.EXCUSED,
        "exam",
    )
    assert friday.state is SlotState.MISSED
    line = story.line
    assert (line.late_arrivals, line.missed_slots) == (1, 1)
    assert story.totals.due_minutes == 150 + 240 + 60
    # expected = 12 h x due slot time / slot time (12 h of slots)
    assert line.expected_s == story.totals.weekly_minutes * story.totals.due_minutes * 60 // (
        story.totals.slot_minutes
    )
    first, second = story.sessions
    assert [tap.effect for tap in first.taps] == ["entered", "left"]
    assert (second.state, second.end) == ("manual", at(TUE, 18))
    (fix,) = second.corrections
    assert (fix.kind, fix.author, fix.reason) == (
        "amend",
        "tutrice@campus.fr",
        "left at six, forgot to badge",
    )
    assert [tap.effect for tap in second.taps] == ["entered"]
    (excuse,) = story.excuses
    assert (excuse.category, excuse.note, excuse.created_by) == (
        "exam",
        "partiel",
        "tutrice@campus.fr",
    )
    assert story.following is None  # next week has not begun
    assert str(story.previous) == "2026-W47"


def test_a_frozen_week_explains_itself_from_its_breakdown_once_its_taps_are_purged(
    stories, registry
) -> None:
    live = stories.story("E001", "2026-W48", AFTER_WINDOW)
    assert stories.ledger.freeze_due(AFTER_WINDOW) > 0  # the freeze job, never a read
    with registry() as session:
        record = session.scalars(
            select(WeeklyRecord).where(WeeklyRecord.week == "2026-W48")
        ).first()
        assert record is not None and record.breakdown  # frozen with its breakdown
    frozen = stories.story("E001", "2026-W48", PURGED)
    assert (frozen.source, frozen.taps_purged) == (Source.FROZEN, True)
    assert frozen.slots == live.slots and frozen.line == live.line
    assert [(s.start, s.end, s.state) for s in frozen.sessions] == [
        (s.start, s.end, s.state) for s in live.sessions
    ]
    assert all(not session.taps for session in frozen.sessions)  # raw taps are gone
    assert frozen.sessions[1].corrections == live.sessions[1].corrections  # kept in registry


def test_a_week_frozen_before_breakdowns_were_kept_says_so(stories, registry) -> None:
    assert stories.ledger.freeze_due(AFTER_WINDOW) > 0
    with registry() as session, session.begin():
        for record in session.scalars(select(WeeklyRecord)):
            record.breakdown = None
    assert stories.story("E001", "2026-W48", AFTER_WINDOW).source is Source.FROZEN_RECOMPUTED
    unexplained = stories.story("E001", "2026-W48", PURGED)
    assert unexplained.source is Source.FROZEN_UNEXPLAINED and unexplained.slots == []
    assert unexplained.line.expected_s > 0  # the stored figures stay


@pytest.mark.parametrize(
    ("student", "week", "problem"),
    [
        ("E001", "2026-W60", Problem.BAD_WEEK),
        ("E001", "last week", Problem.BAD_WEEK),
        ("E999", "2026-W48", Problem.UNKNOWN_STUDENT),
        ("E001", "2026-W49", Problem.FUTURE_WEEK),
    ],
)
def test_bad_requests_are_named(stories, student, week, problem) -> None:
    with pytest.raises(WeekStoryError) as refused:
        stories.story(student, week, DURING)
    assert refused.value.problem is problem


def test_a_student_the_viewer_may_not_see_is_refused(stories) -> None:
    with pytest.raises(WeekStoryError) as refused:
        stories.story("E001", "2026-W48", DURING, may_see=lambda ref: ref.campus_id == "other")
    assert refused.value.problem is Problem.FORBIDDEN


def test_the_report_week_command(imported, capsys) -> None:  # noqa: F811
    argv = ("report", "week", "--student", "E001", "--week", "2026-W48", "--now", NOW)
    assert _run(imported, *argv, "--format", "json") == 0
    story = json.loads(capsys.readouterr().out)
    assert story["figures"]["expected_hours"] == 12.0 and story["source"] == "live"
    assert [slot["state"] for slot in story["slots"]] == ["present", "missed", "missed", "missed"]
    assert [tap["effect"] for tap in story["sessions"][0]["taps"]] == ["entered", "left"]
    assert _run(imported, *argv) == 0
    text = capsys.readouterr().out
    assert "Semaine 2026-W48 de E001" in text and "4 créneaux" in text and "Manqué" in text
    assert _run(imported, "report", "week", "--student", "E001", "--week", "2026-W99") == 2
    assert "Cette semaine n'existe pas" in capsys.readouterr().err
    assert _run(imported, *argv[:3], "E404", *argv[4:]) == 1
    assert "Aucun·e étudiant·e" in capsys.readouterr().err
