"""Calls as a tutor expects them (issue 13 §3, issue 18 §5), through the web app on a
real SQLite registry: "no answer" keeps the alert open with the next call due, three
unanswered calls escalate, a closed alert refuses calls and acknowledgements (409 in the
API, a French message in the form), and *Correct this call* is audited."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from server.container import services_of
from server.domain.accounts import Role
from server.registry.alert_models import Alert, AlertChannelSettings, AlertDelivery
from server.registry.models import AuditEntry
from tests.web.conftest import CAMPUS, post_form
from tests.web.test_api_scope import _token
from tests.web.test_tutor_now import alert_of, alerts_section, at, morning, page


def _call(client, alert_id: str, outcome: str, hhmm: str):
    return post_form(client, f"/tutor/alerts/{alert_id}", {"called_at": hhmm, "outcome": outcome})


def test_no_answer_keeps_the_alert_open_with_the_next_call_due(world, client_as) -> None:
    morning(world)
    alert_id = alert_of(world, "E002")
    client = client_as("alice")
    assert _call(client, alert_id, "no_answer", "09:21").status_code == 302
    recorded = services_of(world.app).alerts.get(alert_id)
    assert (recorded["status"], recorded["stage"], recorded["attempts"]) == (
        "acknowledged",
        "no_answer",
        1,
    )
    assert datetime.fromisoformat(recorded["next_call_at"]) == at(9, 51)
    now = alerts_section(page(client, "/tutor/now"))
    assert "Alertes ouvertes (1)" in now
    assert "Pas de réponse : rappeler" in now and "1 appel sans réponse" in now
    assert "prochain appel à 09:51" in now
    follow_up = page(client, "/tutor/students/E002").split('id="student-alerts-title"')[1]
    assert "Pas de réponse : rappeler" in follow_up.split("</section>")[0]
    world.clock.set(at(9, 52))
    assert "Rappeler maintenant" in page(client, f"/tutor/alerts/{alert_id}")


def _escalation_delay(world, minutes: int) -> None:
    with world.registry() as session, session.begin():
        channel = session.get(AlertChannelSettings, CAMPUS)
        if channel is None:
            channel = AlertChannelSettings(campus_id=CAMPUS)
            session.add(channel)
        channel.escalation_minutes = minutes


def test_three_unanswered_calls_escalate_to_the_coordinator(world, client_as) -> None:
    morning(world)
    _escalation_delay(world, 180)  # only the calls escalate here
    alert_id = alert_of(world, "E002")
    client = client_as("alice")
    alerts = services_of(world.app).alerts
    for hhmm in ("09:21", "09:51"):
        world.clock.set(at(int(hhmm[:2]), int(hhmm[3:])))
        _call(client, alert_id, "no_answer", hhmm)
    alerts.escalate_due(world.clock())
    assert alerts.get(alert_id)["escalated_at"] is None  # two calls, within the delay
    world.clock.set(at(10, 21))
    _call(client, alert_id, "no_answer", "10:21")
    assert alerts.escalate_due(world.clock()) == 1
    assert alerts.escalate_due(world.clock()) == 0  # once
    with world.registry() as session:
        row = session.scalar(select(Alert).where(Alert.public_id == alert_id))
        assert row.escalated_at is not None and row.status != "closed"
        notices = set(
            session.scalars(select(AlertDelivery.notice).where(AlertDelivery.alert_pk == row.id))
        )
    assert "escalated" in notices
    assert "Signalée au coordinateur" in page(client, f"/tutor/alerts/{alert_id}")


def test_a_closed_alert_refuses_a_new_call_and_an_acknowledgement(world, client_as) -> None:
    morning(world)
    alert_id = alert_of(world, "E002")
    client = client_as("alice")
    assert _call(client, alert_id, "reached", "09:21").status_code == 302
    again = _call(client, alert_id, "reached", "09:22")
    assert again.status_code == 409
    text = again.get_data(as_text=True)
    assert "Cette alerte est close" in text and "corrigez cet appel" in text
    ack = post_form(client, f"/tutor/alerts/{alert_id}/ack", {}, page=f"/tutor/alerts/{alert_id}")
    assert ack.status_code == 409
    assert len(services_of(world.app).alerts.get(alert_id)["calls"]) == 1
    assert "elle n’accepte plus d’appel" in page(client, f"/tutor/alerts/{alert_id}")


def test_the_api_answers_409_with_a_reason_on_a_closed_alert(world, client_as) -> None:
    morning(world)
    alert_id = alert_of(world, "E002")
    headers = _token(world, Role.COORDINATOR)
    client = world.app.test_client()
    body = {"outcome": "reached", "by": "Alice"}
    first = client.post(f"/api/v1/alerts/{alert_id}/calls", json=body, headers=headers)
    assert first.status_code == 201 and first.get_json()["stage"] == "closed"
    for path, payload in (
        (f"/api/v1/alerts/{alert_id}/calls", body),
        (f"/api/v1/alerts/{alert_id}/ack", {}),
    ):
        refused = client.post(path, json=payload, headers=headers)
        assert refused.status_code == 409, path
        assert refused.get_json()["error"]["code"] == "alert_closed"
    assert len(services_of(world.app).alerts.get(alert_id)["calls"]) == 1


def test_correct_this_call_reopens_the_alert_and_is_audited(world, client_as) -> None:
    morning(world)
    alert_id = alert_of(world, "E002")
    client = client_as("alice")
    _call(client, alert_id, "reached", "09:21")
    world.clock.set(at(9, 40))
    fix = post_form(
        client,
        f"/tutor/alerts/{alert_id}/calls/0",
        {"called_at": "09:21", "outcome": "no_answer", "note": "wrong button"},
        page=f"/tutor/alerts/{alert_id}",
    )
    assert fix.status_code == 302
    recorded = services_of(world.app).alerts.get(alert_id)
    assert (recorded["status"], recorded["stage"]) == ("acknowledged", "no_answer")
    assert [c["outcome"] for c in recorded["calls"]] == ["no_answer"]
    with world.registry() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "alert_call_corrected")
        ).one()
    assert entry.actor == "alice" and "wrong button" in str(entry.after)
    assert '"reached"' in str(entry.after).replace("'", '"')
    missing = post_form(
        client,
        f"/tutor/alerts/{alert_id}/calls/0",
        {"called_at": "09:21", "outcome": "reached"},
        page=f"/tutor/alerts/{alert_id}",
    )
    assert missing.status_code == 400  # no reason for the correction
    assert (
        post_form(
            client,
            f"/tutor/alerts/{alert_id}/calls/5",
            {"called_at": "09:21", "outcome": "reached", "note": "x"},
            page=f"/tutor/alerts/{alert_id}",
        ).status_code
        == 404
    )
