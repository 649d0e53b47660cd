"""The menu of each role. An entry whose page is not registered is left out."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, request, url_for

from server.domain.accounts import Role
from server.web.guards import principal


@dataclass(frozen=True, slots=True)
class Entry:
    endpoint: str
    label: str  # English message id, translated in the template


MENUS: dict[Role, tuple[Entry, ...]] = {
    Role.TUTOR: (
        Entry("tutor.now", "Now"),
        Entry("tutor.students", "My students"),
        Entry("tutor.interviews", "My interviews"),
    ),
    Role.COORDINATOR: (
        Entry("coordinator.occupancy", "Occupancy"),
        Entry("coordinator.history", "History"),
        Entry("coordinator.weekly", "Weekly report"),
        Entry("coordinator.alert_board", "Open alerts"),
        Entry("coordinator.evidence", "Alerts and calls"),
        Entry("coordinator.calendar", "Calendar"),
        Entry("coordinator.outcomes_page", "Students' years"),
        Entry("coordinator.activities_page", "Activity log"),
        Entry("annual.page", "Annual report"),
        Entry("tutor.students", "Students"),
    ),
    Role.ADMIN: (
        Entry("admin.index", "Administration"),
        Entry("admin.students", "Students"),
        Entry("admin.badges", "Badges"),
        Entry("admin.places", "Rooms and readers"),
        Entry("admin.accounts", "Accounts"),
        Entry("admin.channels", "Alert channels"),
        Entry("coordinator.occupancy", "Occupancy"),
        Entry("coordinator.alert_board", "Open alerts"),
        Entry("coordinator.weekly", "Weekly report"),
        Entry("annual.page", "Annual report"),
    ),
    Role.STUDENT: (
        Entry("student.week", "My week"),
        Entry("student.history", "My history"),
        Entry("student.data", "My data"),
    ),
}

HOME = {
    Role.TUTOR: "tutor.now",
    Role.COORDINATOR: "coordinator.occupancy",
    Role.ADMIN: "admin.index",
    Role.STUDENT: "student.week",
}


def menu() -> list[tuple[str, str, bool]]:
    """``(url, label, is_current)`` of the current principal's menu."""
    who = principal()
    if who is None:
        return []
    endpoints = current_app.view_functions
    return [
        (url_for(entry.endpoint), entry.label, request.endpoint == entry.endpoint)
        for entry in MENUS[who.role]
        if entry.endpoint in endpoints
    ]


def home_endpoint(role: Role) -> str:
    endpoint = HOME[role]
    return endpoint if endpoint in current_app.view_functions else "auth.password"
