"""The presence use cases (ledger, doors' verdicts, corrections, the week's story) on
in-memory fakes of their registry ports (``tests/unit/presence/fakes.py``); the taps in
a real SQLite event store in a temporary folder. No registry database."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from server.adapters.sqlite_events import SqliteEventStore
from server.config import PresenceSettings
from server.domain.accounts import Actor
from server.domain.calendar import IsoWeek
from server.domain.contracts import Contract, ExcuseCategory, Slot
from server.domain.errors import DomainError
from server.domain.events import StoredTap
from server.domain.ledger import WeekStatus
from server.domain.sessions import Correction, CorrectionKind, ReaderMode
from server.domain.week_story import Problem, WeekStoryError
from server.ports.presence import BadgeHolding
from server.services.presence.corrections import CorrectionService
from server.services.presence.ledger import LedgerService
from server.services.presence.presence import PresenceService, Verdict
from server.services.presence.week_story import Source, WeekStories
from tests.unit.presence.fakes import Stored, units

PARIS = ZoneInfo("Europe/Paris")
CAMPUS = "campus-a"
W48 = IsoWeek(2026, 48)  # Monday 23 November 2026
BADGE, OTHER = "b1" * 32, "b2" * 32
NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)  # W48 over, still in the correction window
LATER = datetime(2026, 12, 16, 12, tzinfo=UTC)  # W48 past its correction window
TUTOR = Actor("tutrice@campus.fr", NOW)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """W48's ``day`` (0 = Monday) at a local time."""
    return datetime.combine(W48.monday + timedelta(days=day), time(hour, minute), tzinfo=PARIS)


@pytest.fixture
def stored() -> Stored:
    stored = Stored()
    stored.student(1, "E001", CAMPUS, name="Émilie Durand")
    stored.student(2, "E002", CAMPUS, name="Bruno Petit")
    slots = (Slot(0, time(9), time(12)), Slot(1, time(9), time(12)))
    for pk in (1, 2):
        stored.contracts[pk] = [Contract(360, slots, date(2026, 9, 1))]
    stored.holdings = [
        BadgeHolding(BADGE, 1, datetime(2026, 9, 1, tzinfo=UTC), None),
        BadgeHolding(OTHER, 2, datetime(2026, 9, 1, tzinfo=UTC), None),
    ]
    stored.modes = {(CAMPUS, "door"): ReaderMode.TOGGLE, (CAMPUS, "room"): ReaderMode.ROOM}
    return stored


@pytest.fixture
def events(tmp_path):
    store = SqliteEventStore(tmp_path / "events.sqlite3")
    store.setup()
    yield store
    store.close()


_SEQ = iter(range(1, 10_000))


def tap(events, moment: datetime, *, badge: str = BADGE, reader: str = "door") -> StoredTap:
    seq = next(_SEQ)
    stored_tap = StoredTap(f"t{seq}", CAMPUS, reader, badge, moment, seq, moment)
    events.write_taps([stored_tap])
    return stored_tap


def line_of(ledger: LedgerService, student_id: str, now: datetime = NOW):
    (line,) = [line for line in ledger.weekly(W48, now) if line.student_id == student_id]
    return line


def test_a_week_is_computed_from_the_taps_and_the_plans_of_the_store(stored, events) -> None:
    tap(events, at(0, 9))
    tap(events, at(0, 12))
    ledger = LedgerService(units(stored), events, PresenceSettings())
    lines = ledger.weekly(W48, NOW, campus=CAMPUS)
    assert [line.student_id for line in lines] == ["E001", "E002"]
    first, second = lines
    assert (first.expected_s, first.attended_s, first.missed_slots) == (6 * 3600, 3 * 3600, 1)
    assert (second.attended_s, second.missed_slots) == (0, 2)
    assert first.status is WeekStatus.SHORT
    assert stored.commits == 0  # a read writes nothing


def test_an_excuse_is_recorded_audited_and_counts_at_the_next_read(stored, events) -> None:
    tap(events, at(0, 9))
    tap(events, at(0, 12))
    ledger = LedgerService(units(stored), events, PresenceSettings())
    before = line_of(ledger, "E001")
    corrections = CorrectionService(units(stored), PresenceSettings(), retention_days=400)
    corrections.excuse(
        "E001", at(1, 0), at(1, 23), ExcuseCategory.EXAM, note="partiels", actor=TUTOR
    )
    after = line_of(ledger, "E001")
    assert (before.missed_slots, after.missed_slots) == (1, 0)
    assert after != before
    (entry,) = stored.audit
    assert (entry["action"], entry["entity"]) == ("absence_excused", "excused_absences")
    assert entry["after"]["student_id"] == "E001" and entry["after"]["category"] == "exam"
    (excuse,) = stored.excuses[1]
    assert (excuse.note, excuse.created_by) == ("partiels", TUTOR.name)


def test_a_correction_reopens_the_frozen_week_it_touches(stored, events) -> None:
    tap(events, at(0, 9))
    tap(events, at(0, 12))
    ledger = LedgerService(units(stored), events, PresenceSettings())
    assert ledger.freeze_due(LATER, weeks_back=1) == 2
    assert set(stored.weekly) == {(1, "2026-W48"), (2, "2026-W48")}
    assert stored.weekly[(1, "2026-W48")].breakdown  # the week explains itself
    corrections = CorrectionService(units(stored), PresenceSettings(), retention_days=400)
    added = Correction(CorrectionKind.ADD, start=at(1, 9), end=at(1, 12))
    corrections.correct("E001", added, reason="forgot her badge", actor=Actor("t", LATER))
    assert set(stored.weekly) == {(2, "2026-W48")}  # E002's week stays frozen
    actions = [(entry["action"], entry["entity_id"]) for entry in stored.audit]
    assert actions[0][0] == "presence_corrected"
    assert actions[1] == ("week_reopened", "E001/2026-W48")
    assert stored.audit[1]["after"] == {"cause": "presence_corrected"}
    assert stored.audit[1]["before"]["attended_s"] == 3 * 3600
    assert line_of(ledger, "E001", LATER).attended_s == 6 * 3600
    assert ledger.freeze_due(LATER, weeks_back=1) == 1  # frozen again by the next turn


def test_refused_corrections_store_nothing(stored) -> None:
    corrections = CorrectionService(units(stored), PresenceSettings(), retention_days=30)
    added = Correction(CorrectionKind.ADD, start=at(1, 9), end=at(1, 12))
    with pytest.raises(DomainError, match="unknown student"):
        corrections.correct("E999", added, reason="why", actor=TUTOR)
    with pytest.raises(DomainError, match="reason"):
        corrections.correct("E001", added, reason="  ", actor=TUTOR)
    too_long = Correction(CorrectionKind.ADD, start=at(1, 9), end=at(2, 10))
    with pytest.raises(DomainError, match="24 hours"):
        corrections.correct("E001", too_long, reason="why", actor=TUTOR)
    purged = Actor("t", datetime(2027, 3, 1, tzinfo=UTC))  # W48's taps purged after 30 days
    with pytest.raises(DomainError, match="purged"):
        corrections.correct("E001", added, reason="why", actor=purged)
    with pytest.raises(DomainError, match="end before"):
        corrections.excuse("E001", at(1, 12), at(1, 9), ExcuseCategory.ILLNESS, actor=TUTOR)
    assert (stored.corrections, stored.excuses, stored.audit, stored.commits) == ({}, {}, [], 0)


def test_a_late_door_tap_reopens_its_frozen_week_a_room_pass_does_not(stored, events) -> None:
    tap(events, at(0, 9))
    tap(events, at(0, 12))
    ledger = LedgerService(units(stored), events, PresenceSettings())
    ledger.freeze_due(LATER, weeks_back=1)
    room = tap(events, at(1, 10), reader="room")
    assert ledger.reopen_for_taps([room], LATER) == []
    late = tap(events, at(1, 9))
    unknown = tap(events, at(1, 9), badge="ff" * 32)
    assert ledger.reopen_for_taps([late, unknown], LATER) == [("E001", "2026-W48")]
    assert set(stored.weekly) == {(2, "2026-W48")}
    (entry,) = stored.audit
    assert entry["after"] == {"cause": "late_tap"} and entry["actor"] == "ingest"
    fresh = tap(events, LATER - timedelta(hours=1), badge=OTHER)  # within the window
    assert ledger.reopen_for_taps([fresh], LATER) == []


def test_the_doors_verdicts_and_unknown_badges_kept(stored, events) -> None:
    presence = PresenceService(units(stored), events, PresenceSettings())
    enter = tap(events, at(0, 9))
    assert [v.result for v in presence.taps_stored([enter], at(0, 9))] == [Verdict.IN]
    leave = tap(events, at(0, 12))
    assert [v.result for v in presence.taps_stored([leave], at(0, 12))] == [Verdict.OUT]
    stranger = [tap(events, at(0, 13), badge="ee" * 32), tap(events, at(0, 14), badge="ee" * 32)]
    verdicts = presence.taps_stored(stranger, at(0, 14))
    assert [v.result for v in verdicts] == [Verdict.UNKNOWN_BADGE] * 2
    seen = stored.unknown["ee" * 32]
    assert (seen.seen_count, seen.first_seen, seen.last_seen) == (2, at(0, 13), at(0, 14))


def test_the_week_story_names_the_student_and_refuses_unknown_ones(stored, events) -> None:
    tap(events, at(0, 9))
    tap(events, at(0, 12))
    corrections = CorrectionService(units(stored), PresenceSettings(), retention_days=400)
    added = Correction(CorrectionKind.ADD, start=at(1, 9), end=at(1, 11))
    corrections.correct("E001", added, reason="forgot her badge", actor=TUTOR)
    ledger = LedgerService(units(stored), events, PresenceSettings())
    stories = WeekStories(units(stored), events, ledger, PresenceSettings(), retention_days=400)
    story = stories.story("E001", "2026-W48", NOW)
    assert (story.student.pk, story.student.name, story.source) == (1, "Émilie Durand", Source.LIVE)
    assert story.line.attended_s == 5 * 3600
    assert len(story.slots) == 2 and len(story.sessions) == 2
    fixed = [s for s in story.sessions if s.corrections]
    assert [note.reason for s in fixed for note in s.corrections] == ["forgot her badge"]
    for problem, student, week in [
        (Problem.UNKNOWN_STUDENT, "E999", "2026-W48"),
        (Problem.BAD_WEEK, "E001", "2026-48"),
        (Problem.FUTURE_WEEK, "E001", "2027-W10"),
    ]:
        with pytest.raises(WeekStoryError) as refused:
            stories.story(student, week, NOW)
        assert refused.value.problem is problem
    with pytest.raises(WeekStoryError) as refused:
        stories.story("E001", "2026-W48", NOW, may_see=lambda ref: ref.student_id != "E001")
    assert refused.value.problem is Problem.FORBIDDEN
