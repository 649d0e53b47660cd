"""The coordinator's alerts page (issue 13 §4): the open, escalated and recently
closed alerts of their campus, filterable by tutor and kind, refreshed in place, in
their menu; coordinators of that campus and admins only."""

from __future__ import annotations

import html

import pytest

from server.container import services_of
from tests.web.test_alert_life import _call
from tests.web.test_tutor_now import alert_of, at, morning

BOARD = "/coordinator/alerts/board"


def text_of(answer) -> str:
    assert answer.status_code == 200, answer.status_code
    return html.unescape(answer.get_data(as_text=True))


def section(text: str, title: str) -> str:
    return text.split(f'id="{title}"')[1].split("</section>")[0]


def test_open_escalated_and_closed_alerts_of_the_campus(world, client_as) -> None:
    morning(world)  # 09:20: absences of E002 (Alice) and E004 (Bruno); E005 elsewhere
    _call(client_as("alice"), alert_of(world, "E002"), "reached", "09:21")
    world.clock.set(at(9, 55))
    services_of(world.app).alerts.escalate_due(world.clock())  # E004: 30 min
    text = text_of(client_as("coord").get(BOARD))
    assert "Noé Martin" in section(text, "closed-title")
    assert "close à 09:20 (après un appel)" in section(text, "closed-title")
    escalated = section(text, "escalated-title")
    assert "Hugo Roux" in escalated and "Bruno" in escalated and "signalée à 09:55" in escalated
    assert "Manon Leroy" not in text  # the other campus
    assert 'data-live-url="/coordinator/alerts/board/live?campus=test-campus"' in text
    assert 'href="/coordinator/alerts/board"' in text  # in the menu


def test_filters_by_tutor_and_kind(world, client_as) -> None:
    morning(world)
    coord = client_as("coord")
    alice = world.tutor_id("alice@campus.test")
    text = text_of(coord.get(f"{BOARD}?tutor={alice}"))
    assert "Noé Martin" in text and "Hugo Roux" not in text
    assert "Aucune alerte signalée." in text
    assert "Noé Martin" not in text_of(coord.get(f"{BOARD}?kind=reader_down"))
    live = text_of(coord.get(f"{BOARD}/live?tutor={alice}&kind=absence"))
    assert "Noé Martin" in live and "Hugo Roux" not in live and "<html" not in live


@pytest.mark.parametrize("query", ["tutor=abc", "tutor=0", "kind=weather"])
def test_bad_filters_are_refused_with_a_message(client_as, query: str) -> None:
    answer = client_as("coord").get(f"{BOARD}?{query}")
    assert answer.status_code == 400 and 'role="alert"' in answer.get_data(as_text=True)


def test_only_the_campus_coordinators_and_admins(world, client_as) -> None:
    morning(world)
    assert client_as("alice").get(BOARD).status_code == 403
    assert client_as("emilie").get(f"{BOARD}/live").status_code == 403
    assert client_as("coord-other").get(f"{BOARD}?campus=test-campus").status_code == 403
    other = text_of(client_as("coord-other").get(BOARD))
    assert "Manon Leroy" in other and "Noé Martin" not in other
    admin = text_of(client_as("admin").get(f"{BOARD}?campus=test-campus"))
    assert "Noé Martin" in admin
    assert world.app.test_client().get(BOARD).status_code == 302  # to the login
