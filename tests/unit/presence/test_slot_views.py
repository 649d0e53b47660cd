"""Every view of a slot tells the same story: the weekly ledger, the absence check, the
tutor's roster and the student's page all read ``domain.slots``.

The two cases reproduced in issue 13 are examples; a property test (hypothesis) holds the
views together over generated calendars, contracts, taps, corrections and excuses."""

from __future__ import annotations

from collections import Counter
from datetime import date, time, timedelta
from fractions import Fraction

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from server.domain.absences import Verdict, expected_slots, judge
from server.domain.calendar import CampusCalendar, Hours, IsoWeek, Period
from server.domain.contracts import Contract, ExcuseCategory, Slot
from server.domain.ledger import WeekLine, week_account
from server.domain.sessions import (
    Correction,
    CorrectionKind,
    DoorTap,
    ReaderMode,
    Session,
    SessionRules,
    apply_corrections,
    build_sessions,
)
from server.domain.slots import Excuse, SlotOutcome, SlotState, contract_outcomes
from server.domain.student_progress import SlotState as Shown
from server.domain.student_progress import SlotVisit, week_slots
from server.domain.tutor_roster import RosterState, roster_state
from tests.unit.presence.helpers import at, calendar, frame

GRACE = timedelta(minutes=15)
MONDAY = date(2026, 11, 23)
WEEK = IsoWeek.of(MONDAY)


class Views:
    """The four views of one student's week at ``now``."""

    def __init__(self, cal, contracts, sessions, excuses, now, week=WEEK):
        self.week, self.now, self.sessions = week, now, sessions
        wf = self.frame = frame(str(week), cal)
        self.line, self.outcomes = week_account(
            "s", wf, contracts=contracts, sessions=sessions, excuses=excuses, grace=GRACE, now=now
        )
        self.checks = expected_slots(
            1,
            "s",
            contracts,
            days=week.days(),
            schedule=wf.schedule,
            tz=cal.tz,
            excuses=excuses,
            grace=GRACE,
        )
        self.visits = week_slots(
            week, cal, contracts, sessions=sessions, excuses=excuses, grace=GRACE, now=now
        )

    def only(self) -> tuple[WeekLine, SlotOutcome, SlotVisit]:
        (outcome,) = self.outcomes
        (visit,) = self.visits
        return self.line, outcome, visit


def test_case_a_campus_opening_after_the_slot_start_is_the_same_answer_everywhere() -> None:
    cal = calendar(weekly={day: (Hours(time(8, 30), time(19)),) for day in range(5)})
    contract = Contract(4 * 60, (Slot(0, time(8), time(12)),), date(2026, 9, 1))
    sessions = [Session(at(MONDAY, 8, 35), at(MONDAY, 12))]
    views = Views(cal, [contract], sessions, (), now=at(MONDAY, 13))
    line, outcome, visit = views.only()
    assert outcome.expected_from == at(MONDAY, 8, 30) and outcome.state is SlotState.PRESENT
    assert outcome.late_by == timedelta(minutes=5)
    assert (line.late_arrivals, line.missed_slots) == (0, 0)  # within the grace: not late
    (check,) = views.checks
    assert (check.due_from, check.check_at) == (at(MONDAY, 8, 30), at(MONDAY, 8, 45))
    assert judge(check, sessions, doors_reliable=True) is Verdict.PRESENT
    assert roster_state(check, sessions, at(MONDAY, 9)) == (RosterState.PRESENT, at(MONDAY, 8, 35))
    assert visit.state is Shown.ATTENDED
    # 16 minutes after the opening is late, everywhere.
    later = [Session(at(MONDAY, 8, 46), at(MONDAY, 12))]
    views = Views(cal, [contract], later, (), now=at(MONDAY, 13))
    line, outcome, visit = views.only()
    assert outcome.state is SlotState.LATE and line.late_arrivals == 1
    assert judge(views.checks[0], later, doors_reliable=True) is Verdict.LATE
    assert roster_state(views.checks[0], later, at(MONDAY, 9))[0] is RosterState.LATE
    assert visit.state is Shown.LATE


def test_case_b_exceptional_hours_leaving_the_slot_out_make_it_not_due_everywhere() -> None:
    cal = calendar(exceptions={MONDAY: (Hours(time(14), time(18)),)})
    contract = Contract(3 * 60, (Slot(0, time(9), time(12)),), date(2026, 9, 1))
    views = Views(cal, [contract], [], (), now=at(MONDAY, 13))
    line, outcome, visit = views.only()
    assert not outcome.is_due and outcome.reason.value == "outside_opening_hours"
    assert (line.expected_s, line.missed_slots, line.status.value) == (0, 0, "excused")
    assert views.checks == []  # no absence check, no alert, no roster line
    assert visit.state is Shown.CLOSED  # the student's page never says "Missed"


# --------------------------------------------------------------------- properties

WEEKS = [IsoWeek(2026, 46), IsoWeek(2026, 48), IsoWeek(2026, 52), IsoWeek(2027, 13)]


def _clock(minutes: int) -> time:
    return time(minutes // 60, minutes % 60)


@st.composite
def hours_of_day(draw) -> tuple[Hours, ...]:
    opens = draw(st.integers(6 * 4, 12 * 4)) * 15
    closes = draw(st.integers(opens // 15 + 1, 23 * 4)) * 15
    return (Hours(_clock(opens), _clock(closes)),)


@st.composite
def calendars(draw, week: IsoWeek) -> CampusCalendar:
    days = week.days()
    weekly = None
    if draw(st.integers(0, 3)):
        weekly = {day: draw(hours_of_day()) for day in draw(st.sets(st.integers(0, 6), min_size=4))}
    picked = st.sampled_from(days)
    exceptions = {
        draw(picked): draw(st.one_of(st.just(()), hours_of_day()))
        for _ in range(draw(st.integers(0, 1)))
    }
    closures = tuple(Period(day, day, "Travaux") for day in draw(st.sets(picked, max_size=1)))
    school = tuple(Period(day, day, "Vacances") for day in draw(st.sets(picked, max_size=1)))
    return CampusCalendar(
        weekly=weekly,
        exceptions=exceptions,
        closures=closures,
        school_holidays=school,
        closes_on_school_holidays=draw(st.booleans()),
        closes_on_public_holidays=draw(st.booleans()),
    )


@st.composite
def contracts(draw, week: IsoWeek) -> list[Contract]:
    found = []
    for _ in range(draw(st.integers(1, 2))):
        slots = []
        for _ in range(draw(st.integers(0, 4))):
            start = draw(st.integers(6 * 4, 20 * 4)) * 15
            end = draw(st.integers(start // 15 + 1, 23 * 4)) * 15
            slots.append(Slot(draw(st.integers(0, 6)), _clock(start), _clock(end)))
        first = week.monday + timedelta(days=draw(st.integers(-10, 2)))
        length = draw(st.one_of(st.none(), st.integers(2, 10)))
        last = None if length is None else first + timedelta(days=length)
        found.append(Contract(draw(st.integers(1, 40)) * 60, tuple(slots), first, last))
    return found


@st.composite
def week_cases(draw):
    week = draw(st.sampled_from(WEEKS))
    cal = draw(calendars(week))
    start = week.bounds(cal.tz)[0]
    moment = st.integers(0, 7 * 24 * 60 - 1).map(lambda m: start + timedelta(minutes=m))
    now = start + timedelta(
        minutes=draw(st.one_of(st.integers(0, 8 * 24 * 60), st.just(8 * 24 * 60)))
    )
    contracts_ = draw(contracts(week))
    taps = draw(st.lists(moment, max_size=6))
    for contract in contracts_:  # most taps near the slots, where the rules have edges
        for slot in contract.slots:
            if draw(st.booleans()):
                day = week.days()[slot.weekday]
                arrive = draw(st.integers(-60, 90))
                leave = draw(st.integers(-90, 60))
                taps.append(at(day, slot.start.hour, slot.start.minute) + timedelta(minutes=arrive))
                taps.append(at(day, slot.end.hour, slot.end.minute) + timedelta(minutes=leave))
    taps.sort()
    door = [DoorTap(ts, ReaderMode.TOGGLE, f"t{n}") for n, ts in enumerate(taps) if ts <= now]
    schedule = cal.schedule(week.monday - timedelta(days=3), week.days()[-1])
    built, _ = build_sessions(door, rules=SessionRules(), schedule=schedule, now=now)
    fixes = []
    for session in built:
        kind = draw(st.sampled_from([None, *CorrectionKind]))
        if kind in (CorrectionKind.CONFIRM, CorrectionKind.REMOVE):
            fixes.append(Correction(kind, session.start))
        elif kind is CorrectionKind.AMEND and session.end > session.start:
            fixes.append(Correction(kind, session.start, session.start, session.end))
    for _ in range(draw(st.integers(0, 2))):
        added = draw(moment)
        if added < now:
            end = min(now, added + timedelta(minutes=draw(st.integers(1, 300))))
            fixes.append(Correction(CorrectionKind.ADD, start=added, end=end))
    sessions = _disjoint(apply_corrections(built, fixes))
    excuses = []
    for _ in range(draw(st.integers(0, 2))):
        begin = draw(moment)
        length = timedelta(minutes=draw(st.integers(15, 24 * 60)))
        excuses.append(Excuse(begin, begin + length, draw(st.sampled_from(list(ExcuseCategory)))))
    return week, cal, contracts_, sessions, excuses, now


def _disjoint(sessions: list[Session]) -> list[Session]:
    """Tutors' additions may overlap door sessions; keep what a student's history can be."""
    kept: list[Session] = []
    for session in sessions:
        if not kept or session.start >= kept[-1].end:
            kept.append(session)
    return kept


_VERDICTS = {
    SlotState.PRESENT: Verdict.PRESENT,
    SlotState.LATE: Verdict.LATE,
    SlotState.ABSENT: Verdict.ABSENT,
    SlotState.MISSED: Verdict.ABSENT,
}
_ROSTER = {
    SlotState.UPCOMING: RosterState.EXPECTED,
    SlotState.WAITING: RosterState.EXPECTED,
    SlotState.PRESENT: RosterState.PRESENT,
    SlotState.LATE: RosterState.LATE,
    SlotState.ABSENT: RosterState.ABSENT,
    SlotState.MISSED: RosterState.ABSENT,
}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(week_cases())
def test_every_view_agrees_with_the_slot_outcomes(case) -> None:
    week, cal, contracts_, sessions, excuses, now = case
    views = Views(cal, contracts_, sessions, excuses, now, week)
    due = [outcome for outcome in views.outcomes if outcome.is_due]
    presence = [(s.start, s.end) for s in sessions]

    # The ledger's figures are the sum over the slot outcomes.
    states = Counter(outcome.state for outcome in due)
    for outcome in views.outcomes:
        event(outcome.reason.value if outcome.reason else outcome.state.value)
    assert views.line.missed_slots == states[SlotState.MISSED]
    assert views.line.late_arrivals == states[SlotState.LATE]
    per_contract = contract_outcomes(
        views.frame.days,
        views.frame.opening,
        contracts_,
        sessions=sessions,
        excuses=excuses,
        grace=GRACE,
        now=now,
    )
    assert sorted(o.start for _, o in per_contract) == [o.start for o in views.outcomes]
    if all(contract.slots for contract in contracts_):  # no slots: pro rata on open days
        share = sum(
            Fraction(contract.weekly_minutes * 60 * o.expected_s, contract.slot_minutes * 60)
            for index, contract in enumerate(contracts_)
            for at_, o in per_contract
            if at_ == index
        )
        assert abs(views.line.expected_s - share) <= 30  # rounded to the minute
    for outcome in due:
        assert outcome.expected_s > 0 and outcome.check_at is not None
        assert outcome.attended_s <= outcome.expected_s
        touched = any(s < e2 and e > s2 for s, e in presence for s2, e2 in outcome.due)
        if outcome.state is SlotState.MISSED:
            assert not touched and outcome.attended_s == 0
        if touched and outcome.due[0][0] < now:
            assert outcome.state in (SlotState.PRESENT, SlotState.LATE)

    # The absence check checks exactly the due slots, and finds what the outcome says.
    assert sorted((c.start, c.due_from, c.check_at) for c in views.checks) == sorted(
        (o.start, o.expected_from, o.check_at) for o in due
    )
    by_start = Counter((o.start, o.state) for o in due)
    for check in views.checks:
        at_check = [o for o in due if o.start == check.start and o.due == check.due]
        assert at_check
        outcome = at_check[0]
        if check.check_at <= now:
            verdict = judge(check, sessions, doors_reliable=True)
            assert verdict is _VERDICTS[outcome.state], (outcome, verdict)
            assert judge(check, sessions, doors_reliable=False) in (verdict, Verdict.INDETERMINATE)
        state, came = roster_state(check, sessions, now)
        assert state is _ROSTER[outcome.state]
        assert came == outcome.arrived_at
    assert sum(by_start.values()) == len(due)

    # The student's page shows the same slots: closed or excused exactly when not due.
    listed = [o for o in views.outcomes if o.reason is None or o.reason.value != "outside_contract"]
    assert len(views.visits) == len(listed)
    for visit, outcome in zip(views.visits, listed, strict=True):
        assert visit.outcome == outcome
        assert visit.due == outcome.is_due
        assert (visit.state is Shown.MISSED) == (outcome.state is SlotState.MISSED)
        if outcome.state is SlotState.LATE and not outcome.under_way:
            assert visit.state is Shown.LATE
        if visit.state is Shown.NOW:
            assert outcome.under_way
