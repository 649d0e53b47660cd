"""The integer core of the presence rules against their object API (hypothesis).

``domain.sessions``, ``domain.slots`` and ``domain.ledger`` decide on integer instants
(microseconds since the epoch, UTC: ``build_session_spans``, ``account``); the object API
(``build_sessions``, ``SessionReplay``, ``slot_outcome``, ``week_account``) converts aware
datetimes at the edges. Here both are fed the same generated week, in Paris time and in
the weeks of the daylight-saving changes (last Sunday of March and of October), and
their answers are compared with each other and with figures computed independently with
aware datetimes (``calendar.intersect``, ``calendar.seconds``).
"""

from datetime import UTC, date, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from server.domain.calendar import CampusCalendar, Hours, IsoWeek, intersect, merge, seconds, to_us
from server.domain.contracts import Contract, ExcuseCategory, Slot
from server.domain.ledger import Excuse, WeekFrame, account, week_account
from server.domain.sessions import (
    DoorTap,
    ReaderMode,
    SessionReplay,
    SessionRules,
    build_session_spans,
    build_sessions,
    session_of,
)
from server.domain.slots import Presence, closures, excuse_span, slot_outcome
from tests.unit.presence.helpers import PARIS

# The weeks holding the changes of 2026 (29 March: 167 h; 25 October: 169 h) and an
# ordinary one.
MONDAYS = [date(2026, 3, 23), date(2026, 10, 19), date(2026, 11, 23)]
WEEK_S = 7 * 24 * 3600
CALENDARS = [
    CampusCalendar(closes_on_public_holidays=False),  # open at any time
    CampusCalendar(  # every day, the small hours included (the change is at 02:00/03:00)
        weekly={day: (Hours(time(0), time(4)), Hours(time(8), time(19))) for day in range(7)},
        closes_on_public_holidays=False,
    ),
    CampusCalendar(weekly={day: (Hours(time(8), time(19)),) for day in range(5)}),
]

slots = st.builds(
    Slot,
    weekday=st.integers(0, 6),
    start=st.integers(0, 20).map(lambda hour: time(hour)),
    end=st.just(time(23, 59)),
).map(lambda slot: Slot(slot.weekday, slot.start, time(min(slot.start.hour + 4, 23), 30)))


@st.composite
def weeks(draw):
    monday = draw(st.sampled_from(MONDAYS))
    start = datetime.combine(monday, time(0), tzinfo=PARIS).astimezone(UTC)
    offsets = draw(st.lists(st.integers(-86_400, WEEK_S), max_size=30))
    modes = draw(st.lists(st.sampled_from(list(ReaderMode)), min_size=30, max_size=30))
    # Taps in Paris time (not UTC): the conversion at the edge must not care.
    taps = [
        DoorTap((start + timedelta(seconds=offset)).astimezone(PARIS), modes[index], f"t{index}")
        for index, offset in enumerate(sorted(offsets))
    ]
    contract = Contract(
        draw(st.integers(60, 1200)),
        tuple(sorted(set(draw(st.lists(slots, min_size=1, max_size=5))))),
        monday + timedelta(days=draw(st.integers(-3, 3))),
    )
    excuses = [
        Excuse(
            start + timedelta(hours=first),
            start + timedelta(hours=first + length),
            ExcuseCategory.ILLNESS,
        )
        for first, length in draw(st.lists(st.tuples(st.integers(0, 160), st.integers(1, 30))))
    ]
    now = start + timedelta(seconds=draw(st.integers(0, WEEK_S + 86_400)))
    return monday, taps, contract, excuses, now


rules = st.builds(
    SessionRules,
    debounce=st.integers(0, 30).map(lambda s: timedelta(seconds=s)),
    max_duration=st.integers(1, 16).map(lambda h: timedelta(hours=h)),
)


@settings(max_examples=150, deadline=None)
@given(weeks(), st.sampled_from(CALENDARS), rules, st.integers(0, 30))
def test_integer_core_and_object_api_agree(week_input, cal, session_rules, grace_m) -> None:
    monday, taps, contract, excuses, now = week_input
    taps = [tap for tap in taps if tap.ts <= now]
    iso = IsoWeek.of(monday)
    schedule = cal.schedule(monday - timedelta(days=2), monday + timedelta(days=6))
    frame = WeekFrame.build(iso, cal.tz, schedule, closures(cal, monday, iso.days()[-1]))
    grace = timedelta(minutes=grace_m)

    # Sessions: objects (Paris-time taps), integers, and one tap at a time.
    sessions, effects = build_sessions(taps, rules=session_rules, schedule=schedule, now=now)
    spans, span_effects = build_session_spans(
        [(to_us(tap.ts), tap.mode) for tap in taps],
        rules=session_rules,
        schedule=schedule,
        now=to_us(now),
        effects=True,
    )
    assert [session_of(span) for span in spans] == sessions
    assert span_effects == effects
    replay = SessionReplay(rules=session_rules, schedule=schedule)
    assert [replay.feed(tap) for tap in taps] == effects

    # The week: objects against integers.
    line, outcomes = week_account(
        "s", frame, contracts=[contract], sessions=sessions, excuses=excuses, grace=grace, now=now
    )
    core_line, core_outcomes = account(
        "s",
        frame,
        contracts=[contract],
        sessions=spans,
        excuses=[excuse_span(excuse) for excuse in excuses],
        grace=grace // timedelta(microseconds=1),
        now=to_us(now),
        outcomes=True,
    )
    assert core_line == line
    assert core_outcomes == outcomes
    assert account(
        "s",
        frame,
        contracts=[contract],
        sessions=spans,
        excuses=[excuse_span(excuse) for excuse in excuses],
        grace=grace // timedelta(microseconds=1),
        now=to_us(now),
    ) == (line, [])

    # Each outcome as slot_outcome gives it alone, and its figures in aware datetimes.
    presence = Presence.of(sessions)
    union = merge((session.start, session.end) for session in sessions)
    for outcome in outcomes:
        alone = slot_outcome(
            outcome.day,
            outcome.slot,
            contract,
            frame.opening,
            excused=excuses,
            presence=presence,
            grace=grace,
            now=now,
        )
        assert alone == outcome
        assert outcome.expected_s == seconds(outcome.due)
        if outcome.is_due:
            assert outcome.attended_s == seconds(intersect(outcome.due, union))
            assert outcome.check_at == min(outcome.due[0][0] + grace, outcome.due[-1][1])
    within = intersect(union, [(frame.start, frame.end)])
    assert line.attended_s == seconds(within)


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=PARIS)


def test_a_night_across_the_change_counts_its_real_hours() -> None:
    """Sunday 01:00-05:00 in Paris is 3 h on 29 March 2026 and 5 h on 25 October."""
    cal = CampusCalendar(closes_on_public_holidays=False)
    rules = SessionRules(max_duration=timedelta(hours=12))
    for monday, real_hours in ((date(2026, 3, 23), 3), (date(2026, 10, 19), 5)):
        sunday = monday + timedelta(days=6)
        iso = IsoWeek.of(monday)
        schedule = cal.schedule(monday - timedelta(days=2), sunday)
        frame = WeekFrame.build(iso, cal.tz, schedule, closures(cal, monday, sunday))
        taps = [
            DoorTap(_at(sunday, 1), ReaderMode.TOGGLE, "in"),
            DoorTap(_at(sunday, 5), ReaderMode.TOGGLE, "out"),
        ]
        now = _at(sunday, 12)
        spans, _ = build_session_spans(
            [(to_us(tap.ts), tap.mode) for tap in taps],
            rules=rules,
            schedule=schedule,
            now=to_us(now),
        )
        assert [(end - start) // 1_000_000 for start, end, _ in spans] == [real_hours * 3600]
        # 4 h a week committed in that 4 h slot: due its real length that night.
        contract = Contract(240, (Slot(6, time(1), time(5)),), monday)
        line, _ = account(
            "s",
            frame,
            contracts=[contract],
            sessions=spans,
            grace=15 * 60 * 1_000_000,
            now=to_us(now),
        )
        assert (line.expected_s, line.attended_s) == (real_hours * 3600, real_hours * 3600)
        assert line.status.value == "met"
