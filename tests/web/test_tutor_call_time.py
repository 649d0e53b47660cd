"""The time of the call on the call-log form: today's local time (yesterday's for an
older alert when it has not come yet today), "now" by default; a call logged later keeps
its real time (and the evidence report its real delay); a call
in the future, before the alert, or a time that is not one is refused and nothing is
saved."""

from __future__ import annotations

import html
from datetime import UTC, date

from sqlalchemy import func, select

from server.container import services_of
from server.registry.alert_models import AlertCall
from server.registry.models import ExcusedAbsence
from tests.web.conftest import CAMPUS, post_form
from tests.web.test_tutor_now import alert_of, at, morning, page


def _calls_and_excuses(world) -> tuple[int, int]:
    with world.registry() as session:
        calls = session.scalar(select(func.count()).select_from(AlertCall))
        excuses = session.scalar(select(func.count()).select_from(ExcusedAbsence))
    return calls, excuses


def test_the_form_offers_the_local_time_of_now(world, client_as) -> None:
    morning(world)
    world.clock.set(at(9, 47))
    text = page(client_as("alice"), f"/tutor/alerts/{alert_of(world, 'E002')}")
    field = text.split('id="called_at"')[1].split(">")[0]
    assert 'type="time"' in text.split('id="called_at"')[0].rsplit("<input", 1)[1]
    assert 'value="09:47"' in field  # Paris time, not UTC (08:47)
    assert '<label for="called_at">Heure de l\'appel</label>' in text


def test_a_call_logged_later_keeps_its_real_time(world, client_as) -> None:
    morning(world)  # the absence of E002 is noticed at 09:20
    alert_id = alert_of(world, "E002")
    world.clock.set(at(10, 5))  # back at the desk
    answer = post_form(
        client_as("alice"),
        f"/tutor/alerts/{alert_id}",
        {"called_at": "09:26", "outcome": "reached", "reason_category": "transport"},
    )
    assert answer.status_code == 302
    alerts = services_of(world.app).alerts
    recorded = alerts.get(alert_id)
    assert recorded["called_at"] == at(9, 26).astimezone(UTC).isoformat()
    assert [c["called_at"] for c in recorded["calls"]] == [at(9, 26).astimezone(UTC).isoformat()]
    assert (recorded["status"], recorded["resolution"]) == ("closed", "called")
    day = date(2026, 11, 23)
    assert alerts.evidence(day, day, campus=CAMPUS)["total"]["median_minutes_to_call"] == 6.0
    calls = page(client_as("alice"), f"/tutor/alerts/{alert_id}")
    assert "23 nov. 2026, 09:26" in calls.split('id="calls-title"')[1]


def test_a_call_in_the_future_is_refused_and_nothing_is_saved(world, client_as) -> None:
    morning(world)
    alert_id = alert_of(world, "E002")
    world.clock.set(at(9, 40))
    data = {
        "called_at": "10:15",
        "outcome": "reached",
        "reason_category": "illness",
        "excused": "yes",
    }
    answer = post_form(client_as("alice"), f"/tutor/alerts/{alert_id}", data)
    assert answer.status_code == 400
    text = html.unescape(answer.get_data(as_text=True))
    assert "un appel ne peut pas être consigné dans le futur" in text
    assert 'value="10:15"' in text  # the form keeps what was typed
    recorded = services_of(world.app).alerts.get(alert_id)
    assert (recorded["status"], recorded["called_at"], recorded["calls"]) == ("open", None, [])
    assert _calls_and_excuses(world) == (0, 0)  # not even the excuse


def test_other_bad_times_are_refused_with_their_message(world, client_as) -> None:
    morning(world)
    alert_id = alert_of(world, "E002")
    world.clock.set(at(9, 40))
    client = client_as("alice")
    cases = [
        ("09:05", "un appel ne peut pas précéder l'alerte à laquelle il répond"),
        ("9h30", "Une heure est attendue (heures:minutes)."),
        ("25:00", "Une heure est attendue (heures:minutes)."),
        ("09:30+01:00", "Une heure est attendue (heures:minutes)."),
    ]
    for value, message in cases:
        data = {"called_at": value, "outcome": "voicemail"}
        answer = post_form(client, f"/tutor/alerts/{alert_id}", data)
        assert answer.status_code == 400, value
        assert message in html.unescape(answer.get_data(as_text=True)), value
    assert _calls_and_excuses(world) == (0, 0)
    assert services_of(world.app).alerts.get(alert_id)["status"] == "open"


def test_a_coordinator_logs_a_call_for_a_tutor_and_others_cannot(world, client_as) -> None:
    morning(world)
    alert_id = alert_of(world, "E004")  # Bruno's student
    data = {"called_at": "09:21", "outcome": "no_answer"}
    for login in ("alice", "coord-other", "emilie"):
        answer = post_form(
            client_as(login), f"/tutor/alerts/{alert_id}", data, page="/account/password"
        )
        assert answer.status_code == 403, login
    assert _calls_and_excuses(world) == (0, 0)
    assert post_form(client_as("coord"), f"/tutor/alerts/{alert_id}", data).status_code == 302
    recorded = services_of(world.app).alerts.get(alert_id)
    assert [(c["called_at"], c["by"]) for c in recorded["calls"]] == [
        (at(9, 21).astimezone(UTC).isoformat(), "coord")
    ]


def test_the_call_form_needs_its_csrf_token(world, client_as) -> None:
    morning(world)
    alert_id = alert_of(world, "E002")
    answer = client_as("alice").post(
        f"/tutor/alerts/{alert_id}", data={"called_at": "09:21", "outcome": "reached"}
    )
    assert answer.status_code == 400
    assert _calls_and_excuses(world) == (0, 0)


def test_a_call_before_midnight_logged_after_it_keeps_yesterday_as_its_day(
    world, client_as
) -> None:
    morning(world)  # E002's absence noticed on Monday at 09:20
    alert_id = alert_of(world, "E002")
    world.clock.set(at(0, 10, day=24))  # Tuesday, 00:10
    client = client_as("alice")
    too_early = {"called_at": "09:00", "outcome": "voicemail"}  # Monday 09:00: before it
    answer = post_form(client, f"/tutor/alerts/{alert_id}", too_early)
    assert answer.status_code == 400
    assert "un appel ne peut pas précéder l'alerte" in html.unescape(answer.get_data(as_text=True))
    answer = post_form(
        client, f"/tutor/alerts/{alert_id}", {"called_at": "23:50", "outcome": "reached"}
    )
    assert answer.status_code == 302
    recorded = services_of(world.app).alerts.get(alert_id)
    assert recorded["called_at"] == at(23, 50).astimezone(UTC).isoformat()
