"""The form correcting a count by hand on the occupancy page (a reader was down, people
came in behind someone): the count people see for the campus or one room, with a
reason. ``OccupancyService.correct`` audits it and keeps it until closing."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Response, flash, redirect, request, url_for

from server.i18n import _
from server.services.occupancy import coordinator_corrections, coordinator_occupancy
from server.services.occupancy.coordinator_corrections import MAX_COUNT, REASON_CHARS
from server.web import forms
from server.web.coordinator import blueprint
from server.web.coordinator.common import MANAGERS, chosen_campus, now, services
from server.web.coordinator.occupancy import occupancy_page
from server.web.forms import FieldError, refused
from server.web.guards import current, roles


def _correction_form(
    form: Mapping[str, str], rooms: Mapping[str, str]
) -> tuple[str | None, int, str]:
    """(room or None for the whole campus, count, reason)."""
    if "room" not in form:
        raise FieldError("room", "Choose one of the proposed values.")
    room = forms.choice(form, "room", ["", *rooms]) or None
    count = forms.integer(form, "count", minimum=0, maximum=MAX_COUNT)
    shortest, longest = REASON_CHARS
    reason = forms.text(form, "reason", max_chars=longest)
    if len(reason) < shortest:
        raise FieldError("reason", "At least {count} characters.", count=shortest)
    return room, count, reason


@blueprint.post("/occupancy/corrections")
@roles(*MANAGERS)
def correct_occupancy() -> Response | tuple[str, int]:
    campus = chosen_campus(request.form)
    service = services().occupancy
    rooms = coordinator_occupancy.room_names(service, campus, now())
    try:
        room, count, reason = _correction_form(request.form, rooms)
    except FieldError as failure:
        message = refused(failure, "correct_occupancy")
        return occupancy_page(campus, error=message, values=request.form.to_dict()), 400
    result = coordinator_corrections.correct_count(
        service, campus, room, count, reason=reason, actor=current().name, now=now()
    )
    if room is None:
        flash(_("The count of the whole campus is set to {count}.", count=result.count), "success")
    else:
        flash(
            _(
                "The count of the room {name} is set to {count}.",
                name=rooms[room],
                count=result.count,
            ),
            "success",
        )
    return redirect(url_for("coordinator.occupancy", campus=campus))
