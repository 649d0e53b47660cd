"""My data (GDPR right of access): what the campus holds about the student, on a page
and as a JSON copy whose download is recorded in the audit log."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlalchemy import select

from server.container import services_of
from server.domain.accounts import Actor, Role
from server.domain.alerts import AlertKind
from server.registry.alert_repository import AlertRepository
from server.registry.models import AuditEntry
from tests.web.conftest import CAMPUS, PARIS, STUDENTS


def _morning_with_a_call(world) -> str:
    """E001 badges 09:05-11:05; an absence alert of that slot was called and closed."""
    world.tap("E001", datetime(2026, 11, 23, 9, 5, tzinfo=PARIS))
    world.tap("E001", datetime(2026, 11, 23, 11, 5, tzinfo=PARIS))
    pk = world.student_pk("E001")
    start = datetime(2026, 11, 23, 9, 0, tzinfo=PARIS)
    with world.registry() as session, session.begin():
        repo = AlertRepository(session)
        alert_id = repo.add(
            AlertKind.ABSENCE,
            "absence:E001:monday",
            CAMPUS,
            world.clock(),
            student_pk=pk,
            tutor_id=repo.tutor_of(pk),
            slot_start=start,
            slot_end=start + timedelta(hours=3),
        ).public_id
    world.clock.set(datetime(2026, 11, 23, 11, 30, tzinfo=PARIS))
    secret = _token(world)
    call = {"outcome": "reached", "reason": "bus en retard", "by": "alice@campus.test"}
    answer = world.app.test_client().post(
        f"/api/v1/alerts/{alert_id}/calls", json=call, headers={"Authorization": secret}
    )
    assert answer.status_code == 201
    return alert_id


def _token(world) -> str:
    accounts = services_of(world.app).accounts
    secret, _view = accounts.create_token(
        name="calls", role=Role.COORDINATOR, campus_id=CAMPUS, actor=Actor("t", world.clock())
    )
    return f"Bearer {secret}"


def test_the_page_shows_what_is_held_and_the_rights(world, client_as) -> None:
    _morning_with_a_call(world)
    page = client_as("emilie").get("/me/data").get_data(as_text=True)
    assert "Émilie Durand" in page and "06 12 34 56 78" in page  # her own phone
    assert "conservés 400 jours" in page
    assert "coordination de Campus de test" in page
    assert 'href="/me/data.json"' in page
    assert "bus en retard" in page  # the call about her
    assert "alert_call_logged" in page  # the audit entry of that call
    assert STUDENTS["E001"][4] not in page  # never the badge UID
    assert "Noé" not in page and "Martin" not in page  # nobody else


def test_the_copy_is_json_with_iso_dates_to_download(world, client_as) -> None:
    alert_id = _morning_with_a_call(world)
    answer = client_as("emilie").get("/me/data.json")
    assert answer.status_code == 200
    assert answer.mimetype == "application/json"
    assert answer.headers["Content-Disposition"] == (
        'attachment; filename="mes-donnees-E001-2026-11-23.json"'
    )
    data = json.loads(answer.get_data(as_text=True))
    assert data["identity"]["student_id"] == "E001"
    assert data["identity"]["tutor"]["email"] == "alice@campus.test"
    assert data["retention_days"] == 400
    assert data["generated_at"] == "2026-11-23T10:30:00+00:00"
    assert data["sessions"] == [
        {
            "start": "2026-11-23T08:05:00+00:00",
            "end": "2026-11-23T10:05:00+00:00",
            "state": "closed",
        }
    ]
    (contract,) = data["contracts"]
    assert contract["weekly_hours"] == 12 and contract["valid_from"] == "2026-09-01"
    assert contract["slots"] == "mon 09:00-12:00; tue 14:00-18:00; thu 09:00-13:00; fri 09:00-10:00"
    (badge,) = data["badges"]
    assert len(badge["hash_prefix"]) == 8 and STUDENTS["E001"][4] not in json.dumps(data)
    (alert,) = data["alerts"]
    assert alert["id"] == alert_id and alert["status"] == "closed"
    assert alert["calls"][0]["reason"] == "bus en retard"
    actions = {entry["action"] for entry in data["audit"]}
    assert {"student_created", "contract_created", "badge_attached", "alert_call_logged"} <= actions
    assert data["accounts"][0]["login"] == "emilie"
    assert "password_hash" not in json.dumps(data)


def test_the_download_is_recorded_in_the_audit_log(world, client_as) -> None:
    client = client_as("emilie")
    client.get("/me/data")
    with world.registry() as session:
        before = session.scalars(select(AuditEntry).where(AuditEntry.action == "viewed")).all()
    assert before == []  # the page itself is not a download
    client.get("/me/data.json")
    with world.registry() as session:
        (entry,) = session.scalars(select(AuditEntry).where(AuditEntry.action == "viewed"))
    assert (entry.actor, entry.entity, entry.entity_id) == ("emilie", "student", "E001")
    assert json.loads(entry.after) == {"what": "my_data.json", "role": "student"}
    # ... and the next copy lists that download among who did what about her.
    data = client.get("/me/data.json").get_json()
    assert any(item["action"] == "viewed" and item["by"] == "emilie" for item in data["audit"])


def test_a_query_string_cannot_show_another_student(client_as) -> None:
    data = client_as("emilie").get("/me/data.json?student_id=E002&student=2").get_json()
    assert data["identity"]["student_id"] == "E001"


def test_the_data_pages_answer_get_only(client_as) -> None:
    client = client_as("emilie")
    assert client.post("/me/data.json").status_code in (400, 405)
