"""Every link an alert sends opens a page its recipient may see, after logging in if
needed: the paths of ``server.domain.alert_links`` are routes of the real app; the link
of a real alert (built by the registry, as every channel gets it) opens for its tutor and,
on escalation, for the coordinator of its campus, and for nobody else; a visitor is sent
to the login page and brought back, never to another site."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from server.domain.accounts import Role
from server.domain.alert_links import PLACE_ALERTS, alert_path
from server.domain.alerts import AlertKind
from server.domain.notices import NoticeKind
from server.registry.alert_models import Alert, AlertChannelSettings
from server.registry.alert_repository import AlertRepository
from tests.web.conftest import CAMPUS, PASSWORD, csrf_of
from tests.web.test_tutor_now import alert_of, morning

BASE = "https://presence.example.org"


def _endpoint(world, path: str) -> str:
    parts = urlsplit(path)
    endpoint, _values = world.app.url_map.bind("presence.example.org").match(
        parts.path, query_args=parts.query
    )
    return endpoint


@pytest.mark.parametrize("kind", list(AlertKind))
@pytest.mark.parametrize("role", [Role.TUTOR, Role.COORDINATOR, Role.ADMIN])
def test_every_alert_path_is_a_page_of_the_app_its_recipient_may_open(world, kind, role) -> None:
    endpoint = _endpoint(world, alert_path(kind, "alert-0123", CAMPUS, role))
    view = world.app.view_functions[endpoint]
    assert role in view.allowed_roles, (kind, role, endpoint)
    if kind in PLACE_ALERTS:
        expected = "tutor.now" if role is Role.TUTOR else "coordinator.occupancy"
    else:
        expected = "tutor.alert"
    assert endpoint == expected


def _notice_url(world, public_id: str, step: NoticeKind) -> str:
    with world.registry() as session:
        pk = session.scalar(select(Alert.id).where(Alert.public_id == public_id))
        return AlertRepository(session).notice(pk, step).url


def _with_base_url(world) -> None:
    with world.registry() as session, session.begin():
        session.add(AlertChannelSettings(campus_id=CAMPUS, base_url=BASE + "/"))


def test_the_link_of_a_real_alert_opens_for_its_tutor_and_the_coordinator(world, client_as) -> None:
    morning(world)  # E002 (Alice's) is absent at 09:20
    _with_base_url(world)
    public_id = alert_of(world, "E002")
    raised = _notice_url(world, public_id, NoticeKind.RAISED)
    escalated = _notice_url(world, public_id, NoticeKind.ESCALATED)
    assert raised == f"{BASE}/tutor/alerts/{public_id}"
    assert escalated == raised  # the coordinator may open the tutor's alert page
    path = urlsplit(raised).path
    for login in ("alice", "coord", "admin"):
        answer = client_as(login).get(path)
        assert answer.status_code == 200, login
        assert "Noé Martin" in answer.get_data(as_text=True)
    for login in ("bruno", "coord-other", "emilie"):
        assert client_as(login).get(path).status_code == 403, login


def test_the_link_of_an_incident_opens_the_coordinators_occupancy_page(world, client_as) -> None:
    path = alert_path(AlertKind.READER_DOWN, "alert-1", CAMPUS, Role.COORDINATOR)
    assert client_as("coord").get(path).status_code == 200
    assert client_as("coord-other").get(path).status_code == 403


def _log_in(client, next_path: str):
    return client.post(
        "/login",
        data={
            "login": "alice",
            "password": PASSWORD,
            "next": next_path,
            "csrf_token": csrf_of(client),
        },
    )


def test_a_visitor_following_the_link_logs_in_and_lands_on_the_alert(world) -> None:
    morning(world)
    path = f"/tutor/alerts/{alert_of(world, 'E002')}"
    client = world.app.test_client()
    answer = client.get(path)
    assert answer.status_code == 302
    assert answer.headers["Location"] == f"/login?next={path}"
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert f'name="next" value="{path}"' in page
    answer = _log_in(client, path)
    assert (answer.status_code, answer.headers["Location"]) == (302, path)
    assert client.get(path).status_code == 200
    # Already logged in, the login page sends straight on to the page asked for.
    again = client.get(f"/login?next={path}")
    assert (again.status_code, again.headers["Location"]) == (302, path)


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        "/ /evil.example",
        "\t//evil.example",
        "javascript:alert(1)",
        "evil.example",
        "/" + "a" * 3000,
    ],
)
def test_the_next_page_is_only_a_path_of_this_site(world, target: str) -> None:
    client = world.app.test_client()
    answer = _log_in(client, target)
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/tutor/now"
    page = world.app.test_client().get("/login", query_string={"next": target})
    assert 'name="next"' not in page.get_data(as_text=True)
