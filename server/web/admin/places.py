"""Rooms and readers: the campus's capacity and area, its rooms (kind, capacity, m²,
soft and hard limits) and its readers (door mode or the room they watch)."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from edge.protocol import is_valid_id
from server.container import built
from server.domain.errors import DomainError
from server.i18n import _
from server.ports.occupancy import RoomInfo
from server.services.occupancy import admin_places
from server.web.admin import blueprint, fields
from server.web.admin.common import actor, admin_only, chosen_campus, flash_success, now
from server.web.context import services
from server.web.forms import FieldError, choice, refused, text

_FORM = "admin_places"


def _admin() -> admin_places.PlacesAdmin:
    return built(services().places_admin)


def _page(status: int = 200, **extra: object) -> tuple[str, int]:
    campus, campuses = chosen_campus()
    sheet = _admin().place_sheet(campus.id)
    health = {
        item.reader: item
        for item in services().reader_health.current(
            now(), known=services().settings.known_readers(), campus=campus.id
        )
    }
    forms = ["capacity", "new-room", *(f"room-{room.id}" for room in sheet.rooms)]
    forms += [f"reader-{reader.reader_id}" for reader in sheet.readers]
    values = {"error": None, "error_field": None, "error_form": None, "forms": forms, **extra}
    page = render_template(
        "admin/places.html",
        campus=campus,
        campuses=campuses,
        sheet=sheet,
        health=health,
        kinds=admin_places.KINDS,
        modes=admin_places.MODES,
        now=now(),
        **values,
    )
    return page, status


def _refused(failure: FieldError | DomainError, form: str) -> tuple[str, int]:
    if isinstance(failure, FieldError):
        message = refused(failure, _FORM)
        return _page(400, error=message, error_field=failure.field, error_form=form)
    return _page(400, error=_(failure.message, **failure.values), error_form=form)


def _back(campus: str) -> Response:
    return redirect(url_for("admin.places", campus=campus))


@blueprint.get("/places")
@admin_only
def places() -> tuple[str, int]:
    return _page()


@blueprint.post("/places/capacity")
@admin_only
def set_campus_capacity() -> Response | tuple[str, int]:
    campus, _campuses = chosen_campus()
    try:
        limits = fields.limits(request.form)
        _admin().set_campus_limits(campus.id, limits, actor())
    except FieldError as failure:
        return _refused(failure, "capacity")
    flash_success("The capacity of {campus} is saved.", campus=campus.name)
    return _back(campus.id)


def _room_code(form: dict[str, str]) -> str:
    code = text(form, "code", max_chars=64)
    if not is_valid_id(code):
        raise FieldError("code", "Lower-case letters, digits and dashes only, like salle-1.")
    return code


@blueprint.post("/places/rooms")
@admin_only
def add_room() -> Response | tuple[str, int]:
    campus, _campuses = chosen_campus()
    form = request.form
    try:
        room = RoomInfo(
            code=_room_code(form),
            name=text(form, "name", max_chars=100),
            kind=choice(form, "kind", admin_places.KINDS),
            limits=fields.limits(form),
        )
        _admin().add_room(campus.id, room, actor())
    except (FieldError, DomainError) as failure:
        return _refused(failure, "new-room")
    flash_success("The room {name} is added.", name=room.name)
    return _back(campus.id)


@blueprint.post("/places/rooms/<int:room_id>")
@admin_only
def edit_room(room_id: int) -> Response | tuple[str, int]:
    campus, _campuses = chosen_campus()
    form = request.form
    try:
        name = text(form, "name", max_chars=100)
        _admin().edit_room(
            campus.id,
            room_id,
            name=name,
            kind=choice(form, "kind", admin_places.KINDS),
            limits=fields.limits(form),
            actor=actor(),
        )
    except (FieldError, DomainError) as failure:
        return _refused(failure, f"room-{room_id}")
    flash_success("The room {name} is saved.", name=name)
    return _back(campus.id)


@blueprint.post("/places/readers/<reader_id>")
@admin_only
def set_reader(reader_id: str) -> Response | tuple[str, int]:
    campus, _campuses = chosen_campus()
    form = request.form
    try:
        mode = choice(form, "mode", admin_places.MODES)
        room = form.get("room", "")
        if mode == "room" and not room:
            raise FieldError("room", "A room reader needs its room.")
        _admin().set_reader(
            campus.id,
            reader_id,
            mode=mode,
            room_code=room if mode == "room" else "",
            actor=actor(),
        )
    except (FieldError, DomainError) as failure:
        return _refused(failure, f"reader-{reader_id}")
    flash_success("The reader {reader} is saved.", reader=reader_id)
    return _back(campus.id)
