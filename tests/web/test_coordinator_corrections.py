"""Counts corrected by hand on the occupancy page (campus or room, with a reason: the
count shown and read by the service, the audit log, the day's list), refused fields,
CSRF, roles; and the history of one room against its own capacity (``?room=``)."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from server.container import services_of
from server.registry.models import AuditEntry
from tests.web.conftest import CAMPUS, OTHER, ROOM, csrf_of, post_form
from tests.web.test_coordinator_occupancy import at, furnish, tap_at

PATH = "/coordinator/occupancy/corrections"
PAGE = "/coordinator/occupancy"
REASON = "Lecteur de l'entrée en panne, compté à la main"


def corrections(world) -> list[AuditEntry]:
    with world.registry() as session:
        return list(
            session.scalars(
                select(AuditEntry)
                .where(AuditEntry.action == "occupancy_correction")
                .order_by(AuditEntry.id)
            )
        )


def counts(world) -> dict[str | None, tuple[int, int]]:
    """What ``GET /api/v1/occupancy`` reads: zone → (count, adjustment)."""
    service = services_of(world.app).occupancy
    return {
        item.room: (item.count.count, item.count.adjustment)
        for item in service.current(world.clock(), campus=CAMPUS)
    }


def correct(client, **fields: str):
    data = {"campus": CAMPUS, "room": "", "count": "5", "reason": REASON, **fields}
    return post_form(client, PATH, data, page=PAGE)


def test_the_form_is_on_the_live_page(world, client_as) -> None:
    furnish(world)
    page = client_as("coord").get(PAGE).get_data(as_text=True)
    form = page.split(f'action="{PATH}"', 1)[1].split("</form>", 1)[0]
    assert 'name="csrf_token"' in form and f'name="campus" value="{CAMPUS}"' in form
    assert '<option value="">Tout le campus</option>' in form
    assert '<option value="salle-1">Salle de travail</option>' in form
    for field in ("correct-room", "correct-count", "correct-reason"):
        assert f'<label for="{field}">' in form and f'id="{field}"' in form
    assert 'min="0" max="999"' in form and 'minlength="3" maxlength="500"' in form
    assert "Aucun comptage corrigé aujourd’hui." in page


def test_correcting_the_campus_count(world, client_as) -> None:
    furnish(world)
    tap_at(world, "E001", at(9, 5))
    tap_at(world, "E002", at(9, 10))
    assert counts(world)[None] == (2, 0)
    coord = client_as("coord")
    answer = correct(coord, count="5")
    assert answer.status_code == 302
    assert answer.headers["Location"] == f"{PAGE}?campus={CAMPUS}"
    assert counts(world)[None] == (5, 3)
    page = coord.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Le comptage de tout le campus est corrigé à 5." in page
    assert '<p class="kpi">5 / 30</p>' in page and "Comptage corrigé à la main" in page
    row = re.search(r'<tr>\s*<th scope="row">09:10</th>(.*?)</tr>', page, re.DOTALL)[1]
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.DOTALL)
    assert cells == ["Tout le campus", "2", "5", REASON.replace("'", "&#39;"), "coord"]
    (entry,) = corrections(world)
    assert (entry.actor, entry.entity_id) == ("coord", f"{CAMPUS}/")
    assert json.loads(entry.before) == {"count": 2}
    assert json.loads(entry.after) == {"count": 5, "adjustment": 3, "reason": REASON}
    # the correction is kept: the next arrival counts on top of it
    tap_at(world, "E003", at(9, 30))
    assert counts(world)[None] == (6, 3)
    live = coord.get("/coordinator/occupancy/live").get_data(as_text=True)
    assert '<p class="kpi">6 / 30</p>' in live


def test_correcting_a_room_leaves_the_campus_alone(world, client_as) -> None:
    furnish(world)
    tap_at(world, "E001", at(9, 5))
    tap_at(world, "E001", at(9, 6), reader=ROOM)
    admin = client_as("admin")
    answer = correct(admin, room="salle-1", count="4", reason="Trois personnes sans badge")
    assert answer.status_code == 302
    assert counts(world)[None] == (1, 0) and counts(world)["salle-1"] == (4, 3)
    page = admin.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Le comptage de la salle Salle de travail est corrigé à 4." in page
    assert '<p class="kpi">1 / 30</p>' in page and '<p class="kpi">4 / 12</p>' in page
    (entry,) = corrections(world)
    assert (entry.actor, entry.entity_id) == ("admin", f"{CAMPUS}/salle-1")
    assert json.loads(entry.after)["reason"] == "Trois personnes sans badge"


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"count": "-1"}, "Un nombre de 0 à 999 est attendu."),
        ({"count": "1000"}, "Un nombre de 0 à 999 est attendu."),
        ({"count": "beaucoup"}, "Un nombre entier est attendu."),
        ({"count": ""}, "Un nombre entier est attendu."),
        ({"reason": "  "}, "Ce champ est obligatoire."),
        ({"reason": "ok"}, "Au moins 3 caractères."),
        ({"reason": "x" * 501}, "Au plus 500 caractères."),
        ({"room": "salle-9"}, "Choisissez une des valeurs proposées."),
        ({"room": None}, "Choisissez une des valeurs proposées."),
    ],
)
def test_bad_fields_are_refused(world, client_as, fields: dict, message: str) -> None:
    furnish(world)
    tap_at(world, "E001", at(9, 5))
    coord = client_as("coord")
    data = {"campus": CAMPUS, "room": "", "count": "5", "reason": REASON, **fields}
    answer = post_form(coord, PATH, {k: v for k, v in data.items() if v is not None}, page=PAGE)
    assert answer.status_code == 400
    page = answer.get_data(as_text=True)
    assert f'<p class="notice notice-error" role="alert">{message}</p>' in page
    assert "<h1>Occupation en direct — Campus de test</h1>" in page  # the page again, with the form
    assert counts(world)[None] == (1, 0) and corrections(world) == []


def test_a_refused_form_keeps_what_was_typed(world, client_as) -> None:
    furnish(world)
    answer = correct(client_as("coord"), room="salle-1", count="1000", reason="Panne")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert '<option value="salle-1" selected>' in page and 'value="1000"' in page
    assert ">Panne</textarea>" in page


def test_the_csrf_token_is_required(world, client_as) -> None:
    furnish(world)
    coord = client_as("coord")
    data = {"campus": CAMPUS, "room": "", "count": "5", "reason": REASON}
    assert coord.post(PATH, data=data).status_code == 400
    assert coord.post(PATH, data={**data, "csrf_token": "forged"}).status_code == 400
    assert counts(world)[None] == (0, 0) and corrections(world) == []


@pytest.mark.parametrize("login", ["alice", "bruno", "emilie"])
def test_tutors_and_students_cannot_correct(world, client_as, login: str) -> None:
    client = client_as(login)
    data = {"campus": CAMPUS, "room": "", "count": "5", "reason": REASON}
    answer = client.post(PATH, data={**data, "csrf_token": csrf_of(client, "/account/password")})
    assert answer.status_code == 403
    assert corrections(world) == []


def test_anonymous_visitors_are_sent_to_the_login_page(world) -> None:
    data = {"campus": CAMPUS, "room": "", "count": "5", "reason": REASON}
    answer = post_form(world.app.test_client(), PATH, data, page="/login")
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/login")


def test_a_coordinator_cannot_correct_another_campus(world, client_as) -> None:
    furnish(world)
    assert correct(client_as("coord-other")).status_code == 403
    assert correct(client_as("coord"), campus=OTHER).status_code == 403
    assert counts(world)[None] == (0, 0) and corrections(world) == []
    # their own campus, chosen by default
    other = client_as("coord-other")
    data = {"room": "", "count": "2", "reason": REASON}
    assert post_form(other, PATH, data, page=PAGE).status_code == 302
    (entry,) = corrections(world)
    assert entry.entity_id == f"{OTHER}/"


def test_history_of_one_room(world, client_as) -> None:
    furnish(world)
    tap_at(world, "E001", at(9, 0))
    tap_at(world, "E002", at(9, 10))
    tap_at(world, "E001", at(9, 15), reader=ROOM)
    tap_at(world, "E003", at(9, 30))
    tap_at(world, "E002", at(9, 45), reader=ROOM)
    tap_at(world, "E001", at(10, 30))  # leaves the campus, and so the room
    world.clock.set(at(11, 0))
    coord = client_as("coord")
    base = "/coordinator/occupancy/history?from=2026-11-23&to=2026-11-23"
    room = coord.get(f"{base}&room=salle-1")
    assert room.status_code == 200
    page = room.get_data(as_text=True)
    assert "<h1>Historique de l&#39;occupation — Campus de test — Salle de travail</h1>" in page
    assert '<option value="salle-1" selected>Salle de travail</option>' in page
    assert 'aria-label="Occupation de la salle Salle de travail du lundi 23 novembre 2026' in page
    assert "pic 2, capacité 12" in page and '<p class="kpi">2 / 12</p>' in page
    row = r'<th scope="row">23 nov. 2026, (\d\d):00</th><td class="num">(\d+)</td>'
    hours = re.findall(row + r'<td class="num">([\d,]+)</td>', page)
    # 09h: one from 9:15, two from 9:45 (mean 1); 10h: two until 10:30, then one (1,5)
    assert hours == [("09", "2", "1"), ("10", "2", "1,5")]
    assert "room=salle-1" in page.split("Période précédente", 1)[0].rsplit("<a ", 1)[1]
    whole = coord.get(base).get_data(as_text=True)
    assert "pic 3, capacité 30" in whole and '<p class="kpi">3 / 30</p>' in whole
    assert '<option value="">Tout le campus</option>' in whole


@pytest.mark.parametrize("room", ["salle-9", "door-1"])
def test_history_refuses_an_unknown_room(world, client_as, room: str) -> None:
    furnish(world)
    answer = client_as("coord").get(f"/coordinator/occupancy/history?room={room}")
    assert answer.status_code == 400
    assert "Cette salle n’est pas une salle du campus." in answer.get_data(as_text=True)


def test_history_refuses_a_room_of_another_campus(world, client_as) -> None:
    furnish(world)
    answer = client_as("admin").get(f"/coordinator/occupancy/history?campus={OTHER}&room=salle-1")
    assert answer.status_code == 400


def test_the_live_page_links_each_room_to_its_history(world, client_as) -> None:
    furnish(world)
    page = client_as("coord").get(PAGE).get_data(as_text=True)
    link = f'href="/coordinator/occupancy/history?campus={CAMPUS}&amp;room=salle-1"'
    assert f"{link}>Historique de Salle de travail</a>" in page
