"""Links about an alert (server.domain.alert_links): one rule for every channel."""

from __future__ import annotations

import itertools

import pytest

from server.domain.accounts import Role
from server.domain.alert_links import PLACE_ALERTS, alert_link, alert_path, recipient_role
from server.domain.alerts import AlertKind
from server.domain.notices import Notice, NoticeKind, Person

STUDENT_KINDS = [kind for kind in AlertKind if kind not in PLACE_ALERTS]


@pytest.mark.parametrize("kind", STUDENT_KINDS)
@pytest.mark.parametrize("role", [Role.TUTOR, Role.COORDINATOR, Role.ADMIN])
def test_a_student_alert_has_one_page_for_tutor_and_coordinator(kind, role) -> None:
    assert alert_path(kind, "alert-00ff", "campus-a", role) == "/tutor/alerts/alert-00ff"


@pytest.mark.parametrize("kind", sorted(PLACE_ALERTS))
def test_an_incident_about_the_place_leads_to_the_campus_occupancy_page(kind) -> None:
    path = alert_path(kind, "alert-00ff", "campus-a", Role.COORDINATOR)
    assert path == "/coordinator/occupancy?campus=campus-a"
    assert alert_path(kind, "alert-00ff", "campus-a", Role.TUTOR) == "/tutor/now"


def test_the_link_joins_the_base_address_once_and_none_without_one() -> None:
    for base in ("https://presence.example.org", "https://presence.example.org/ "):
        link = alert_link(base, AlertKind.ABSENCE, "alert-1", "c", Role.TUTOR)
        assert link == "https://presence.example.org/tutor/alerts/alert-1"
    prefixed = alert_link("https://ex.org/presence/", AlertKind.ABSENCE, "a", "c", Role.TUTOR)
    assert prefixed == "https://ex.org/presence/tutor/alerts/a"
    assert alert_link("", AlertKind.ABSENCE, "alert-1", "c", Role.TUTOR) == ""


def test_ids_are_quoted_into_the_path() -> None:
    assert alert_path(AlertKind.ABSENCE, "a/b?c", "x", Role.TUTOR) == "/tutor/alerts/a%2Fb%3Fc"
    assert alert_path(AlertKind.CAPACITY, "a", "x&y", Role.COORDINATOR).endswith("campus=x%26y")


@pytest.mark.parametrize(
    ("kind", "step", "has_tutor"),
    list(itertools.product(AlertKind, NoticeKind, (True, False))),
)
def test_the_recipient_role_agrees_with_whom_the_email_goes_to(kind, step, has_tutor) -> None:
    """The e-mail channel writes to ``Notice.emails``; the link is built for the role of
    the same people: both must name the same recipient for every step."""
    notice = Notice(
        alert_id="alert-1",
        kind=kind,
        notice=step,
        campus="c",
        ts=None,  # type: ignore[arg-type]
        timezone="Europe/Paris",
        url="",
        tutor=Person("T", "tutor@campus.fr") if has_tutor else None,
        coordinators=("coord@campus.fr",),
    )
    role = recipient_role(kind, escalated=step is NoticeKind.ESCALATED, has_tutor=has_tutor)
    expected = Role.TUTOR if notice.emails == ("tutor@campus.fr",) else Role.COORDINATOR
    assert role is expected
