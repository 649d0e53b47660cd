"""Which campus a page shows: the ones the principal sees (every campus for an account
without one), the one asked in ``?campus=`` (403 if not theirs, 404 if unknown), else
their own, else the first by id. Shared by the coordinator and admin pages."""

from __future__ import annotations

from flask import abort, g, request

from server.services.people.campuses import CampusRef, campus_list
from server.web.context import people
from server.web.guards import check_campus, current


def visible_campuses() -> list[CampusRef]:
    """Read once a request (a page asks for its campus and for the picker's list); the
    next request reads the registry again (``g`` may outlive a request inside an
    application context: the list is kept with the request it was read for)."""
    this = request._get_current_object()  # the request itself, not the proxy
    kept = g.get("visible_campuses")
    if kept is not None and kept[0] is this:
        return list(kept[1])
    who = current()
    found = [campus for campus in campus_list(people()) if who.sees_campus(campus.id)]
    g.visible_campuses = (this, found)
    return list(found)


def chosen_campus(wanted: str) -> CampusRef:
    choices = visible_campuses()
    wanted = wanted.strip()
    if wanted:
        check_campus(wanted)
        for campus in choices:
            if campus.id == wanted:
                return campus
        abort(404)
    own = current().campus_id
    for campus in choices:
        if campus.id == own:
            return campus
    if not choices:
        abort(404)
    return choices[0]
