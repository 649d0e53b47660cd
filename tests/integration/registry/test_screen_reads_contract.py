"""One contract for the screens' read port (``server.ports.screens.ScreenReads``), run
against the registry's adapter (SQLite, or PostgreSQL with
CAMPUS_TEST_REGISTRY=postgresql) and against the in-memory fake the screens' unit tests
rely on: if the fake drifts from the real store, this fails.

Both sides hold the same students, alerts, calls, verdicts and badges (seeded below,
each in its own way); the tests only go through the port."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from server.config import PresenceSettings
from server.domain.absences import Verdict
from server.domain.alerts import AlertState, AlertStatus
from server.ports.screens import AlertFacts, CallLine, Escalation, Scope, ScreenReads
from server.registry.alert_models import AbsenceEvaluation, Alert, AlertCall, AlertChannelSettings
from server.registry.audit import AuditEntry
from server.registry.models import Student, Tutor, UnknownBadge
from server.registry.screen_reads import screen_reads
from tests.integration.registry.conftest import CAMPUS
from tests.unit.screens.fakes import FakeScreenReads, Stored

NOW = datetime(2026, 11, 23, 9, 40, tzinfo=UTC)
SLOT = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
OTHER = "campus-b"


@dataclass(frozen=True)
class Seeded:
    reads: Callable[[], ScreenReads]
    pks: dict[str, int]  # student_id -> pk
    tutor: int  # the tutor of E001 and E002
    audit: Callable[[], list[str]]  # the audit log's actions


# (student_id, first, last, tutored): E003 has no tutor
STUDENTS = (("E001", "Émilie", "Durand", True), ("E002", "Noé", "Martin", True))
STUDENTS += (("E003", "Ana", "Abel", False),)
# (public id, student, kind, status, minutes after SLOT it was noticed)
ALERTS = (
    ("a-open", "E001", "absence", "open", 20),
    ("a-seen", "E001", "shortfall", "acknowledged", 10),
    ("a-closed", "E001", "absence", "closed", 5),
    ("a-other", "E002", "early_warning", "open", 15),
    ("a-reader", None, "reader_down", "open", 1),  # an incident, not about a student
)
CALLS = (("a-open", 30, "no_answer"), ("a-open", 25, "no_answer"), ("a-seen", 12, "reached"))


def _at(minutes: int) -> datetime:
    return SLOT + timedelta(minutes=minutes)


def _slot(public_id: str) -> datetime:
    """One slot per alert (a student has one alert per slot)."""
    return SLOT - timedelta(days=[item[0] for item in ALERTS].index(public_id))


def _fake() -> Seeded:
    stored = Stored()
    pks = {}
    for pk, (student_id, first, last, tutored) in enumerate(STUDENTS, start=1):
        stored.add_student(
            pk,
            student_id,
            first,
            last,
            campus=CAMPUS,
            tutor_id=1 if tutored else None,
            tutor="Tutrice" if tutored else "",
            phone="0612345678",
        )
        pks[student_id] = pk
    ids = {}
    for pk, (public_id, student_id, kind, status, minutes) in enumerate(ALERTS, start=1):
        ids[public_id] = pk
        stored.alerts.append(
            AlertFacts(
                id=pk,
                public_id=public_id,
                kind=kind,
                campus_id=CAMPUS,
                student_pk=pks[student_id] if student_id else 0,
                status=status,
                resolution=None,
                slot_start=_slot(public_id),
                slot_end=_slot(public_id) + timedelta(hours=3),
                week="2026-W48",
                noticed_at=_at(minutes),
                acknowledged_at=None,
                called_at=None,
                arrived_at=None,
                state=AlertState(AlertStatus(status), _at(minutes)),
            )
        )
    for public_id, minutes, outcome in CALLS:
        line = CallLine(_at(minutes), outcome, None, "", False, "tutrice")
        stored.calls.setdefault(ids[public_id], []).append(line)
    stored.escalations[CAMPUS] = Escalation(12)
    stored.verdicts[(pks["E001"], SLOT)] = Verdict.ABSENT
    stored.verdicts[(pks["E002"], SLOT + timedelta(hours=1))] = Verdict.INDETERMINATE
    stored.unknown_badges += [(CAMPUS, False), (CAMPUS, True), (OTHER, False)]
    return Seeded(
        lambda: FakeScreenReads(stored),
        pks,
        1,
        lambda: [str(entry["action"]) for entry in stored.audit],
    )


def _registry(registry) -> Seeded:
    with registry() as session, session.begin():
        tutor = Tutor(email="tutrice@campus.fr", name="Tutrice")
        session.add(tutor)
        session.flush()
        pks = {}
        for student_id, first, last, tutored in STUDENTS:
            row = Student(
                student_id=student_id,
                campus_id=CAMPUS,
                first_name=first,
                last_name=last,
                phone="0612345678",
                tutor_id=tutor.id if tutored else None,
                created_at=NOW,
                updated_at=NOW,
            )
            session.add(row)
            session.flush()
            pks[student_id] = row.id
        ids = {}
        for public_id, student_id, kind, status, minutes in ALERTS:
            alert = Alert(
                public_id=public_id,
                dedupe_key=public_id,
                kind=kind,
                campus_id=CAMPUS,
                student_pk=pks[student_id] if student_id else None,
                status=status,
                slot_start=_slot(public_id),
                slot_end=_slot(public_id) + timedelta(hours=3),
                week="2026-W48",
                noticed_at=_at(minutes),
            )
            session.add(alert)
            session.flush()
            ids[public_id] = alert.id
        for public_id, minutes, outcome in CALLS:
            session.add(
                AlertCall(
                    alert_pk=ids[public_id],
                    called_at=_at(minutes),
                    outcome=outcome,
                    author="tutrice",
                    created_at=NOW,
                )
            )
        session.add(AlertChannelSettings(campus_id=CAMPUS, escalation_minutes=12))
        for student_id, start, verdict in (
            ("E001", SLOT, "absent"),
            ("E002", SLOT + timedelta(hours=1), "indeterminate"),
        ):
            session.add(
                AbsenceEvaluation(
                    student_pk=pks[student_id],
                    campus_id=CAMPUS,
                    slot_start=start,
                    slot_end=start + timedelta(hours=1),
                    check_at=start + timedelta(minutes=15),
                    verdict=verdict,
                    evaluated_at=NOW,
                )
            )
        for campus, attached in ((CAMPUS, None), (CAMPUS, NOW), (OTHER, None)):
            session.add(
                UnknownBadge(
                    badge_hash="h" * 64,
                    campus_id=campus,
                    reader_id="door-1",
                    first_seen=NOW,
                    last_seen=NOW,
                    attached_at=attached,
                )
            )
        tutor_id = tutor.id

    def actions() -> list[str]:
        with registry() as session:
            return [entry.action for entry in session.query(AuditEntry).order_by(AuditEntry.id)]

    return Seeded(screen_reads(registry, PresenceSettings()), pks, tutor_id, actions)


@pytest.fixture(params=["registry", "fake"])
def seeded(request: pytest.FixtureRequest) -> Seeded:
    if request.param == "fake":
        return _fake()
    return _registry(request.getfixturevalue("registry"))


def test_the_students_of_a_scope_by_name(seeded) -> None:
    with seeded.reads() as view:
        everyone = view.students(Scope(None, None))
        tutored = view.students(Scope(CAMPUS, seeded.tutor))
        nobody = view.students(Scope(CAMPUS, -1))
        elsewhere = view.students(Scope(OTHER, None))
    assert [ref.name for ref in everyone] == ["Ana Abel", "Émilie Durand", "Noé Martin"]
    assert [ref.student_id for ref in tutored] == ["E001", "E002"]
    assert {ref.tutor for ref in tutored} == {"Tutrice"} and everyone[0].tutor == ""
    assert nobody == [] and elsewhere == []


def test_one_student_by_id_or_by_row(seeded) -> None:
    pk = seeded.pks["E002"]
    with seeded.reads() as view:
        ref = view.student_ref("E002")
        details = view.student(pk)
        assert view.student_ref("E999") is None and view.student(pk + 100) is None
    assert ref is not None and (ref.pk, ref.campus_id, ref.phone) == (pk, CAMPUS, "0612345678")
    assert details is not None and (details.student_id, details.first_name) == ("E002", "Noé")
    assert details.tutor_id == seeded.tutor


def test_a_note_is_kept_only_when_committed_and_audited(seeded) -> None:
    with seeded.reads() as view:
        ref = view.student_ref("E001")
        assert ref is not None
        view.add_note(ref, author="tutrice", body="not kept", at=NOW)
    with seeded.reads() as view:
        assert view.notes(ref.pk, limit=10) == []
        view.add_note(ref, author="tutrice", body="first", at=NOW)
        view.add_note(ref, author="tutrice", body="second", at=NOW + timedelta(minutes=1))
        view.commit()
    with seeded.reads() as view:
        notes = view.notes(ref.pk, limit=10)
        latest = view.notes(ref.pk, limit=1)
    assert [note.body for note in notes] == ["second", "first"] and len(latest) == 1
    assert seeded.audit() == ["note_added", "note_added"]


def test_open_alerts_about_students_oldest_first(seeded) -> None:
    pks = seeded.pks
    with seeded.reads() as view:
        found = view.open_alerts([pks["E001"], pks["E002"]])
        one = view.open_alerts([pks["E002"]])
        assert view.open_alerts([]) == []
    assert [facts.public_id for facts in found] == ["a-seen", "a-other", "a-open"]
    assert [facts.public_id for facts in one] == ["a-other"]
    seen = found[0]
    assert seen.state.status is AlertStatus.ACKNOWLEDGED and seen.student_pk == pks["E001"]


def test_a_students_alerts_latest_first_closed_ones_too(seeded) -> None:
    with seeded.reads() as view:
        found = view.student_alerts(seeded.pks["E001"], limit=10)
        two = view.student_alerts(seeded.pks["E001"], limit=2)
    assert [facts.public_id for facts in found] == ["a-open", "a-seen", "a-closed"]
    assert [facts.public_id for facts in two] == ["a-open", "a-seen"]


def test_an_alert_with_its_student_but_never_an_incident(seeded) -> None:
    with seeded.reads() as view:
        found = view.alert("a-open")
        assert view.alert("a-reader") is None and view.alert("nope") is None
    assert found is not None
    facts, ref = found
    assert (facts.kind, ref.student_id, ref.tutor) == ("absence", "E001", "Tutrice")


def test_calls_in_the_order_they_were_logged_and_none_for_an_alert_without(seeded) -> None:
    with seeded.reads() as view:
        alerts = {f.public_id: f.id for f in view.student_alerts(seeded.pks["E001"], limit=10)}
        calls = view.calls([alerts["a-open"], alerts["a-closed"]])
        assert view.calls([]) == {}
    assert [line.called_at for line in calls[alerts["a-open"]]] == [_at(30), _at(25)]
    assert calls[alerts["a-closed"]] == []
    assert [line.log().outcome.value for line in calls[alerts["a-open"]]] == ["no_answer"] * 2


def test_escalation_settings_and_verdicts(seeded) -> None:
    pks = seeded.pks
    with seeded.reads() as view:
        escalations = view.escalations([CAMPUS, OTHER])
        verdicts = view.verdicts([(pks["E001"], SLOT), (pks["E002"], SLOT)])
        later = view.verdicts([(pks["E002"], SLOT + timedelta(hours=1))])
    assert escalations == {CAMPUS: Escalation(12)}
    assert verdicts.get((pks["E001"], SLOT)) is Verdict.ABSENT
    assert verdicts.get((pks["E002"], SLOT)) is None
    assert later == {(pks["E002"], SLOT + timedelta(hours=1)): Verdict.INDETERMINATE}


def test_the_admins_counts(seeded) -> None:
    with seeded.reads() as view:
        assert view.student_count([CAMPUS]) == 3 and view.student_count([OTHER]) == 0
        assert view.unknown_badges_waiting([CAMPUS]) == 1
        assert view.unknown_badges_waiting([CAMPUS, OTHER]) == 2
