"""An absence alert's life through the real services on SQLite (issue 13 §3, issue 18
§5): the watcher raises it at 09:15; "no answer" keeps it open with the next call due;
the student arriving then closes it and the tutor hears of it; unanswered calls escalate
once to the coordinator; a closed alert refuses calls and acknowledgements; the evidence
leaves out an absence the student ended before a call was due."""

from __future__ import annotations

from datetime import datetime

import pytest

from server.domain.accounts import Actor
from server.domain.alerts import AlertClosed, CallLog, CallOutcome
from tests.integration.alerts.conftest import MONDAY, paris, statuses
from tests.integration.registry.conftest import UID_E001


def _noticed(alerting, events) -> str:
    statuses(events, paris(8), paris(9, 16))
    (noticed,) = alerting.watcher.check(paris(9, 15, 30)).noticed
    return noticed.alert_id


def _no_answer(alerting, alert_id: str, at: datetime) -> dict:
    call = CallLog(at, CallOutcome.NO_ANSWER)
    return alerting.alerts.log_call(alert_id, call, Actor("tutrice", at))


def _sent(alerting, channel, at: datetime) -> list[str]:
    """The notices the channel received once the due deliveries ran (the lanes' work)."""
    alerting.notifications.retry_due(at)
    return [n.notice.value for n in channel.sent]


def test_no_answer_then_arrival_closes_and_tells_the_tutor(
    alerting, events, writer, channel
) -> None:
    alert_id = _noticed(alerting, events)
    answer = _no_answer(alerting, alert_id, paris(9, 20))
    assert (answer["status"], answer["stage"], answer["attempts"]) == (
        "acknowledged",
        "no_answer",
        1,
    )
    assert datetime.fromisoformat(answer["next_call_at"]) == paris(9, 50)
    assert _sent(alerting, channel, paris(9, 20)) == ["raised"]  # no "resolved"
    steps = alerting.alerts.taps_stored([writer.tap(UID_E001, paris(9, 40))], paris(9, 40))
    alerting.alerts.announce(steps, paris(9, 40))
    closed = alerting.alerts.get(alert_id)
    assert (closed["status"], closed["resolution"], closed["stage"]) == (
        "closed",
        "arrived",
        "closed",
    )
    assert _sent(alerting, channel, paris(9, 40)) == ["raised", "arrived"]
    with pytest.raises(AlertClosed):
        _no_answer(alerting, alert_id, paris(9, 45))
    with pytest.raises(AlertClosed):
        alerting.alerts.acknowledge(alert_id, Actor("tutrice", paris(9, 45)))
    assert len(alerting.alerts.get(alert_id)["calls"]) == 1
    # It was called (no answer): it needed the call, and it was made the same day.
    total = alerting.alerts.evidence(MONDAY, MONDAY)["total"]
    assert (total["needing_call"], total["called_same_day_share"]) == (1, 1.0)


def test_three_unanswered_calls_escalate_once(alerting, events, registry, channel) -> None:
    from server.registry.alert_models import AlertChannelSettings

    with registry() as session, session.begin():
        session.merge(AlertChannelSettings(campus_id="campus-a", escalation_minutes=240))
    alert_id = _noticed(alerting, events)
    for minute in (20, 50):
        _no_answer(alerting, alert_id, paris(9, minute))
    assert alerting.alerts.escalate_due(paris(9, 51)) == 0
    _no_answer(alerting, alert_id, paris(10, 20))
    assert alerting.alerts.escalate_due(paris(10, 21)) == 1
    assert alerting.alerts.escalate_due(paris(10, 22)) == 0
    escalated = alerting.alerts.get(alert_id)
    assert (escalated["stage"], escalated["attempts"]) == ("escalated", 3)
    assert _sent(alerting, channel, paris(10, 22)) == ["raised", "escalated"]


def test_an_arrival_before_a_call_was_due_needs_no_call(alerting, events, writer) -> None:
    _noticed(alerting, events)
    alerting.alerts.taps_stored([writer.tap(UID_E001, paris(9, 25))], paris(9, 25))
    total = alerting.alerts.evidence(MONDAY, MONDAY)["total"]
    assert (total["absences_noticed"], total["needing_call"], total["arrived_before_call"]) == (
        1,
        0,
        1,
    )
    assert total["called_same_day_share"] is None
