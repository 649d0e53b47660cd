"""Rooms, readers and the campus's capacity, and the alert channel settings, from the
admin pages: effects in the registry, audit entries, and refused fields."""

from __future__ import annotations

import html
from datetime import timedelta

from sqlalchemy import select

from edge.protocol import ReaderState, ReaderStatus, status_topic
from server.domain.events import InboundMessage
from server.registry.alert_models import AlertChannelSettings
from server.registry.models import AuditEntry, Reader
from server.registry.occupancy_repository import OccupancyRepository
from tests.web.conftest import CAMPUS, DOOR, post_form

PLACES = "/admin/places?campus=test-campus"
ROOM = {
    "campus": CAMPUS,
    "code": "salle-calme",
    "name": "Salle calme",
    "kind": "individual",
    "capacity": "12",
    "area_m2": "40,5",
    "soft_limit": "10",
    "hard_limit": "12",
}


def _place(world):
    with world.registry() as session:
        return OccupancyRepository(session).places()[CAMPUS]


def _audited(world, action: str) -> list[AuditEntry]:
    with world.registry() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_a_room_is_added_then_edited(world, client_as) -> None:
    client = client_as("admin")
    answer = post_form(client, "/admin/places/rooms", ROOM, page=PLACES)
    assert answer.status_code == 302
    (room,) = _place(world).rooms
    assert (room.code, room.name, room.kind) == ("salle-calme", "Salle calme", "individual")
    assert (room.limits.capacity, room.limits.area_m2, room.limits.soft, room.limits.hard) == (
        12,
        40.5,
        10,
        12,
    )
    page = client.get(PLACES).get_data(as_text=True)
    room_id = int(page.split("/admin/places/rooms/")[1].split('"')[0])
    edit = ROOM | {"name": "Salle de groupe", "kind": "group", "capacity": "8", "soft_limit": ""}
    edit["hard_limit"] = "8"
    answer = post_form(client, f"/admin/places/rooms/{room_id}", edit, page=PLACES)
    assert answer.status_code == 302
    (room,) = _place(world).rooms
    assert (room.code, room.name, room.kind, room.limits.capacity, room.limits.soft) == (
        "salle-calme",
        "Salle de groupe",
        "group",
        8,
        None,
    )
    assert len(_audited(world, "room_added")) == len(_audited(world, "room_updated")) == 1


def test_bad_room_fields_are_refused(world, client_as) -> None:
    client = client_as("admin")
    cases = [
        ({"code": "Salle 1"}, "Minuscules, chiffres et tirets seulement"),
        ({"kind": "cave"}, "Choisissez une des valeurs proposées."),
        ({"capacity": "-3"}, "Un nombre entier de 1 à 100000 est attendu."),
        ({"area_m2": "grand"}, "Une surface en m² est attendue"),
        ({"soft_limit": "20", "hard_limit": "12"}, "La limite d’alerte ne peut pas dépasser"),
        ({"name": ""}, "Ce champ est obligatoire."),
    ]
    for change, message in cases:
        answer = post_form(client, "/admin/places/rooms", ROOM | change, page=PLACES)
        assert answer.status_code == 400, change
        assert message in answer.get_data(as_text=True), change
    assert _place(world).rooms == ()
    assert post_form(client, "/admin/places/rooms", ROOM, page=PLACES).status_code == 302
    answer = post_form(client, "/admin/places/rooms", ROOM, page=PLACES)
    assert answer.status_code == 400
    assert "Une salle de ce campus a déjà ce nom ou ce code." in answer.get_data(as_text=True)


def test_the_campus_capacity_is_saved(world, client_as) -> None:
    form = {
        "campus": CAMPUS,
        "capacity": "30",
        "area_m2": "120",
        "soft_limit": "",
        "hard_limit": "",
    }
    answer = post_form(client_as("admin"), "/admin/places/capacity", form, page=PLACES)
    assert answer.status_code == 302
    limits = _place(world).limits
    assert (limits.capacity, limits.area_m2, limits.soft, limits.hard) == (30, 120.0, None, None)
    assert len(_audited(world, "campus_capacity_set")) == 1


def test_a_reader_becomes_a_room_reader_then_an_entry_door(world, client_as) -> None:
    client = client_as("admin")
    post_form(client, "/admin/places/rooms", ROOM, page=PLACES)
    answer = post_form(
        client,
        "/admin/places/readers/salle-1",
        {"campus": CAMPUS, "mode": "room", "room": "salle-calme"},
        page=PLACES,
    )
    assert answer.status_code == 302
    with world.registry() as session:
        assert OccupancyRepository(session).room_readers() == {(CAMPUS, "salle-1"): "salle-calme"}
    answer = post_form(
        client,
        "/admin/places/readers/salle-1",
        {"campus": CAMPUS, "mode": "in", "room": "salle-calme"},
        page=PLACES,
    )
    assert answer.status_code == 302
    with world.registry() as session:
        reader = session.scalar(select(Reader).where(Reader.reader_id == "salle-1"))
        assert (reader.mode, reader.room_id) == ("in", None)
    assert len(_audited(world, "reader_updated")) == 2
    answer = post_form(
        client, "/admin/places/readers/salle-1", {"campus": CAMPUS, "mode": "room"}, page=PLACES
    )
    assert answer.status_code == 400
    assert "Un lecteur de salle a besoin de sa salle." in answer.get_data(as_text=True)
    answer = post_form(
        client, "/admin/places/readers/door-9", {"campus": CAMPUS, "mode": "in"}, page=PLACES
    )
    assert answer.status_code == 400
    assert "Ce lecteur n’existe pas." in answer.get_data(as_text=True)


CHANNELS = {
    "campus": CAMPUS,
    "base_url": "https://presence.example.fr",
    "escalation_minutes": "20",
    "email_enabled": "1",
    "coordinator_emails": "coord@campus.test; direction@campus.test",
    "from_address": "alertes@campus.test",
    "smtp_host": "smtp.campus.test",
    "smtp_port": "465",
    "smtp_security": "ssl",
    "smtp_username": "alertes",
    "smtp_password_env": "CAMPUS_SMTP_PASSWORD",
    "webhook_enabled": "1",
    "webhook_url": "https://sms.example.fr/hook",
    "webhook_secret_env": "SMS_HOOK_SECRET",
}


def test_the_alert_channels_are_saved_and_read_back(world, client_as, monkeypatch) -> None:
    monkeypatch.setenv("SMS_HOOK_SECRET", "a-secret-of-16-chars")
    client = client_as("admin")
    page = "/admin/channels?campus=test-campus"
    answer = post_form(client, "/admin/channels", CHANNELS, page=page)
    assert answer.status_code == 302
    with world.registry() as session:
        row = session.get(AlertChannelSettings, CAMPUS)
        assert row.coordinator_emails == "coord@campus.test, direction@campus.test"
        assert (row.escalation_minutes, row.smtp_port, row.smtp_security) == (20, 465, "ssl")
        assert (row.webhook_enabled, row.webhook_secret_env) == (True, "SMS_HOOK_SECRET")
        assert row.mqtt_enabled is False  # unticked
    shown = client.get(page).get_data(as_text=True)
    assert 'value="https://sms.example.fr/hook"' in shown
    assert "Les canaux d’alerte de Campus de test sont enregistrés." in shown
    (entry,) = _audited(world, "alert_channels_set")
    assert entry.entity_id == CAMPUS and "SMS_HOOK_SECRET" in entry.after


def test_bad_channel_fields_are_refused(world, client_as, monkeypatch) -> None:
    monkeypatch.setenv("SMS_HOOK_SECRET", "a-secret-of-16-chars")
    monkeypatch.setenv("SHORT_SECRET", "fifteen-chars!!")
    monkeypatch.delenv("UNSET_SECRET", raising=False)
    no_secret = (
        "Le webhook ne peut pas être activé : la variable d'environnement {name} du serveur "
        "doit contenir un secret d'au moins 16 caractères (elle est absente ou trop courte)."
    )
    client = client_as("admin")
    page = "/admin/channels?campus=test-campus"
    cases = [
        ({"coordinator_emails": "coord@campus"}, "coord@campus n’est pas une adresse e-mail."),
        ({"coordinator_emails": ""}, "Ce champ est obligatoire."),
        ({"webhook_url": "ftp://sms.example.fr"}, "Une adresse commençant par https://"),
        ({"webhook_url": ""}, "Ce champ est obligatoire."),
        ({"webhook_secret_env": "mon secret"}, "Le nom d’une variable d’environnement"),
        ({"escalation_minutes": "0"}, "Un nombre de 1 à 1440 est attendu."),
        ({"from_address": "alertes"}, "Une adresse e-mail est attendue."),
        ({"webhook_secret_env": "SHORT_SECRET"}, no_secret.format(name="SHORT_SECRET")),
        ({"webhook_secret_env": "UNSET_SECRET"}, no_secret.format(name="UNSET_SECRET")),
        ({"base_url": ""}, "Ce champ est obligatoire."),  # the alerts' links need it
    ]
    for change, message in cases:
        answer = post_form(client, "/admin/channels", CHANNELS | change, page=page)
        assert answer.status_code == 400, change
        assert message in html.unescape(answer.get_data(as_text=True)), change
    with world.registry() as session:
        assert session.get(AlertChannelSettings, CAMPUS) is None


def _door_says(world, queued: int, oldest_ago: timedelta | None) -> None:
    """A status of protocol v2 through the real ingest (intake, event store)."""
    now = world.clock()
    oldest = None if oldest_ago is None else now - oldest_ago
    status = ReaderStatus(state=ReaderState.ONLINE, ts=now, queued=queued, oldest=oldest)
    message = InboundMessage(status_topic(CAMPUS, DOOR), status.to_json(), now)
    assert world.server.ingest.service.handle_batch([message]).statuses


def test_the_readers_list_shows_the_taps_awaiting_confirmation_and_the_oldest_age(
    world, client_as
) -> None:
    client = client_as("admin")
    _door_says(world, 3, timedelta(days=2, hours=3))
    page = html.unescape(client.get(PLACES).get_data(as_text=True))
    assert "3 passages en attente de confirmation du serveur, le plus ancien il y a 2 jours" in page
    english = html.unescape(client.get(PLACES + "&lang=en").get_data(as_text=True))
    assert "3 taps awaiting the server's confirmation, the oldest 2 days ago" in english

    world.clock.advance(seconds=1)
    _door_says(world, 1, timedelta(minutes=5, seconds=30))
    page = html.unescape(client.get(PLACES + "&lang=fr").get_data(as_text=True))
    assert (
        "1 passage en attente de confirmation du serveur, le plus ancien il y a 5 minutes" in page
    )
    english = html.unescape(client.get(PLACES + "&lang=en").get_data(as_text=True))
    assert "1 tap awaiting the server's confirmation, the oldest 5 minutes ago" in english

    world.clock.advance(seconds=1)
    _door_says(world, 0, None)
    page = client.get(PLACES + "&lang=fr").get_data(as_text=True)
    assert "en attente de confirmation" not in page
