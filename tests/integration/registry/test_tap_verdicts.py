from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from server.domain.accounts import Actor
from server.domain.calendar import IsoWeek
from server.i18n import _
from server.registry.models import AuditEntry, OpeningHours, Reader, UnknownBadge
from server.registry.people_store import people_unit_of_work
from server.registry.presence_store import presence_unit_of_work
from server.services.people import enrolment
from server.services.presence.ledger import LedgerService
from server.services.presence.presence import PresenceService, Verdict
from tests.integration.registry.conftest import ROW_E001, UID_E001, csv_bytes, run_import

PARIS = ZoneInfo("Europe/Paris")
MON = date(2026, 11, 23)


def at(day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute, second), tzinfo=PARIS)


@pytest.fixture
def service(registry, events, settings) -> PresenceService:
    run_import(registry, csv_bytes(ROW_E001))
    with registry() as session, session.begin():
        for weekday in range(5):
            session.add(
                OpeningHours(campus_id="campus-a", weekday=weekday, opens=time(8), closes=time(19))
            )
        session.execute(update(Reader).where(Reader.reader_id == "room-1").values(mode="room"))
    return PresenceService(
        presence_unit_of_work(registry, settings.presence), events, settings.presence
    )


def _stored(service, writer, uid, moment, reader="door-1"):
    tap = writer.tap(uid, moment, reader=reader)
    return service.taps_stored([tap], moment + timedelta(milliseconds=50))[0]


def test_entry_and_exit_are_told_to_the_reader_in_french(service, writer) -> None:
    entry = _stored(service, writer, UID_E001, at(MON, 9))
    assert (entry.result, entry.text) == (Verdict.IN, "Bonjour, entrée enregistrée")
    assert (entry.campus, entry.reader, entry.tap_id) == ("campus-a", "door-1", "tap-000001")
    again = _stored(service, writer, UID_E001, at(MON, 9, 0, 2))
    assert again.result is Verdict.IGNORED
    leave = _stored(service, writer, UID_E001, at(MON, 12))
    assert (leave.result, leave.text) == (Verdict.OUT, "Au revoir, sortie enregistrée")
    room = _stored(service, writer, UID_E001, at(MON, 14), reader="room-1")
    assert room.result is Verdict.ROOM
    assert all(len(v.text) <= 64 for v in (entry, again, leave, room))


def test_an_unknown_badge_is_kept_for_enrolment_and_counts_once_attached(
    service, writer, registry, events, settings
) -> None:
    new_card = "04deadbeef0102"
    first = _stored(service, writer, new_card, at(MON, 9))
    assert (first.result, first.text) == (
        Verdict.UNKNOWN_BADGE,
        _("Unknown badge: please see the front desk"),
    )
    _stored(service, writer, new_card, at(MON, 9, 1))
    seen = enrolment.unknown_badges(people_unit_of_work(registry))
    assert [(s.campus_id, s.reader_id, s.seen_count) for s in seen] == [("campus-a", "door-1", 2)]
    assert seen[0].first_seen == at(MON, 9)
    attach = Actor("admin", at(MON, 9, 30))
    with pytest.raises(enrolment.PastTapsChoice) as question:  # it has taps: ask
        enrolment.attach_unknown_badge(
            people_unit_of_work(registry), events, seen[0].id, "E001", actor=attach, zone=PARIS
        )
    assert [(tap.ts, tap.reader) for tap in question.value.taps] == [
        (at(MON, 9), "door-1"),
        (at(MON, 9, 1), "door-1"),
    ]
    enrolment.attach_unknown_badge(
        people_unit_of_work(registry),
        events,
        seen[0].id,
        "E001",
        actor=attach,
        zone=PARIS,
        credit_past=True,
    )
    assert enrolment.unknown_badges(people_unit_of_work(registry)) == []
    # The taps since it was first seen count: 09:00 in, 09:01 out, now 12:00 in again.
    verdict = _stored(service, writer, new_card, at(MON, 12))
    assert verdict.result is Verdict.IN
    ledger = LedgerService(
        presence_unit_of_work(registry, settings.presence), events, settings.presence
    )
    line = ledger.weekly(IsoWeek.of(MON), at(MON, 13))[0]
    assert line.attended_s == 60 + 3600


def test_credited_taps_of_a_frozen_week_reopen_it_and_count(
    service, writer, registry, events, settings
) -> None:
    """A badge seen in a week the freeze job has closed since: crediting its taps to the
    student re-opens that week (audited), so its hours count; not crediting leaves it."""
    new_card = "04deadbeef0103"
    _stored(service, writer, new_card, at(MON, 9))
    _stored(service, writer, new_card, at(MON, 12))
    later = at(MON + timedelta(days=21), 10)
    ledger = LedgerService(
        presence_unit_of_work(registry, settings.presence), events, settings.presence
    )
    assert ledger.freeze_due(later) > 0
    week = IsoWeek.of(MON)
    assert ledger.weekly(week, later)[0].attended_s == 0  # frozen before the badge was known
    (seen,) = enrolment.unknown_badges(people_unit_of_work(registry))
    enrolment.attach_unknown_badge(
        people_unit_of_work(registry),
        events,
        seen.id,
        "E001",
        actor=Actor("admin", later),
        zone=PARIS,
        credit_past=True,
    )
    assert ledger.weekly(week, later)[0].attended_s == 3 * 3600
    with registry() as session:
        actions = [
            (entry.action, entry.entity_id)
            for entry in session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        ]
    assert ("week_reopened", f"E001/{week}") in actions
    assert actions[-1][0] == "badge_past_taps_credited"


def test_revoked_badges_are_unknown_again(service, writer, registry) -> None:
    assert (
        enrolment.revoke_badges(
            people_unit_of_work(registry), "E001", reason="lost", actor=Actor("admin", at(MON, 8))
        )
        == 1
    )
    assert _stored(service, writer, UID_E001, at(MON, 9)).result is Verdict.UNKNOWN_BADGE


def test_taps_stored_by_another_worker_are_taken_into_account(service, writer) -> None:
    assert _stored(service, writer, UID_E001, at(MON, 9)).result is Verdict.IN
    writer.tap(UID_E001, at(MON, 10))  # out, handled by another ingest worker
    assert _stored(service, writer, UID_E001, at(MON, 11)).result is Verdict.IN


def test_a_new_day_starts_outside_after_a_forgotten_exit(service, writer) -> None:
    assert _stored(service, writer, UID_E001, at(MON, 9)).result is Verdict.IN
    assert _stored(service, writer, UID_E001, at(MON + timedelta(days=1), 9)).result is Verdict.IN


def test_a_batch_gets_one_verdict_per_tap_in_order(service, writer, registry) -> None:
    taps = [
        writer.tap(UID_E001, at(MON, 9)),
        writer.tap("04aa00000000bb", at(MON, 9)),
        writer.tap(UID_E001, at(MON, 11)),
    ]
    verdicts = service.taps_stored(taps, at(MON, 11, 0, 1))
    assert [v.result for v in verdicts] == [Verdict.IN, Verdict.UNKNOWN_BADGE, Verdict.OUT]
    with registry() as session:
        assert session.scalars(select(UnknownBadge.seen_count)).all() == [1]
