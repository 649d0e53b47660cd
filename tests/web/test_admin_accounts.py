"""Accounts and API tokens from the admin pages: a tutor account created then used to
log in, a generated password shown once, disable/enable, password reset, and a token
that opens the API until it is revoked."""

from __future__ import annotations

import html
import re

from sqlalchemy import select

from server.container import services_of
from server.registry.account_models import Account
from server.registry.models import AuditEntry
from tests.web.conftest import log_in, post_form

NEW_PASSWORD = "un mot de passe assez long"


def _account(world, login: str) -> Account:
    with world.registry() as session:
        return session.scalar(select(Account).where(Account.login == login))


def test_a_tutor_account_is_created_and_can_log_in(world, client_as) -> None:
    admin = client_as("admin")
    form = {
        "login": "chloe",
        "display_name": "Chloé Tutrice",
        "role": "tutor",
        "campus": "test-campus",
        "tutor_id": str(world.tutor_id("alice@campus.test")),
        "password": NEW_PASSWORD,
    }
    answer = post_form(admin, "/admin/accounts", form)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "Compte chloe créé." in page and NEW_PASSWORD not in page
    created = _account(world, "chloe")
    assert (created.role, created.campus_id, created.tutor_id) == (
        "tutor",
        "test-campus",
        world.tutor_id("alice@campus.test"),
    )
    client = world.app.test_client()
    assert log_in(client, "chloe", NEW_PASSWORD).status_code == 302
    assert client.get("/admin/").status_code == 403


def test_a_generated_password_is_shown_once_and_works(world, client_as) -> None:
    form = {"login": "noe", "role": "student", "campus": "", "student_id": "E002", "password": ""}
    page = post_form(client_as("admin"), "/admin/accounts", form).get_data(as_text=True)
    shown = re.search(r"Mot de passe initial : <code>([^<]+)</code>", page)
    assert shown is not None and len(shown[1]) >= 16
    account = _account(world, "noe")
    assert (account.role, account.campus_id, account.student_pk) == (
        "student",
        "test-campus",
        world.student_pk("E002"),
    )
    assert log_in(world.app.test_client(), "noe", shown[1]).status_code == 302
    assert shown[1] not in client_as("admin").get("/admin/accounts").get_data(as_text=True)


def test_a_bad_account_is_refused_with_the_reason(world, client_as) -> None:
    admin = client_as("admin")
    base = {"login": "zoe", "role": "tutor", "campus": "test-campus", "password": NEW_PASSWORD}
    cases = [
        (base | {"tutor_id": ""}, "Un nombre entier est attendu."),
        (base | {"role": "king", "tutor_id": "1"}, "Choisissez une des valeurs proposées."),
        (base | {"login": "alice", "tutor_id": "1"}, "L'identifiant alice est déjà pris."),
        (base | {"password": "court", "tutor_id": "1"}, "au moins 12 caractères"),
        (base | {"role": "student", "student_id": "E999"}, "Il n’y a pas d’étudiant E999."),
    ]
    for form, message in cases:
        answer = post_form(admin, "/admin/accounts", form)
        assert answer.status_code == 400, form
        assert message in html.unescape(answer.get_data(as_text=True)), form
    assert _account(world, "zoe") is None


def test_an_account_is_disabled_then_enabled(world, client_as) -> None:
    admin = client_as("admin")
    bruno_client = client_as("bruno")
    bruno = _account(world, "bruno")
    answer = post_form(admin, "/admin/accounts/active", {"account_id": str(bruno.id)})
    assert answer.status_code == 302
    assert _account(world, "bruno").active is False
    assert bruno_client.get("/tutor/students").status_code == 302  # session closed
    assert log_in(world.app.test_client(), "bruno").status_code == 401
    answer = post_form(
        admin, "/admin/accounts/active", {"account_id": str(bruno.id), "active": "1"}
    )
    assert answer.status_code == 302
    assert log_in(world.app.test_client(), "bruno").status_code == 302
    with world.registry() as session:
        actions = session.scalars(
            select(AuditEntry.action).where(
                AuditEntry.entity == "account", AuditEntry.entity_id == str(bruno.id)
            )
        ).all()
    assert actions.count("account_updated") == 2


def test_an_admin_cannot_disable_their_own_account(world, client_as) -> None:
    admin = client_as("admin")
    own = _account(world, "admin")
    answer = post_form(admin, "/admin/accounts/active", {"account_id": str(own.id)})
    assert answer.status_code == 400
    assert "Vous ne pouvez pas désactiver votre propre compte." in answer.get_data(as_text=True)
    assert _account(world, "admin").active is True


def test_a_password_is_reset(world, client_as) -> None:
    admin = client_as("admin")
    alice = _account(world, "alice")
    answer = post_form(
        admin, "/admin/accounts/password", {"account_id": str(alice.id), "password": NEW_PASSWORD}
    )
    assert answer.status_code == 200
    assert "Le mot de passe de alice est changé" in answer.get_data(as_text=True)
    assert log_in(world.app.test_client(), "alice", NEW_PASSWORD).status_code == 302
    answer = post_form(
        admin, "/admin/accounts/password", {"account_id": str(alice.id), "password": "alice"}
    )
    assert answer.status_code == 400
    answer = post_form(admin, "/admin/accounts/password", {"account_id": "9999", "password": ""})
    assert answer.status_code == 404


def test_a_token_opens_the_api_until_it_is_revoked(world, client_as) -> None:
    admin = client_as("admin")
    answer = post_form(
        admin, "/admin/tokens", {"name": "tableau de bord", "role": "coordinator", "campus": ""}
    )
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200
    secret = re.search(r"Jeton : <code>(cp_[^<]+)</code>", page)
    assert secret is not None
    headers = {"Authorization": f"Bearer {secret[1]}"}
    api = world.app.test_client()
    report = api.get("/api/v1/presence/weekly?week=2026-W48", headers=headers)
    assert report.status_code == 200
    assert len(report.get_json()["students"]) == 5
    assert secret[1] not in admin.get("/admin/tokens").get_data(as_text=True)

    token_id = services_of(world.app).accounts.tokens()[0].id
    answer = post_form(admin, "/admin/tokens/revoke", {"token_id": str(token_id)})
    assert answer.status_code == 302
    report = api.get("/api/v1/presence/weekly?week=2026-W48", headers=headers)
    assert report.status_code == 403


def test_a_bad_token_form_is_refused(world, client_as) -> None:
    admin = client_as("admin")
    answer = post_form(admin, "/admin/tokens", {"name": "", "role": "coordinator", "campus": ""})
    assert answer.status_code == 400
    assert "Ce champ est obligatoire." in answer.get_data(as_text=True)
    answer = post_form(admin, "/admin/tokens", {"name": "x", "role": "tutor", "campus": ""})
    assert answer.status_code == 400
    assert services_of(world.app).accounts.tokens() == []


def test_a_coordinator_phone_is_typed_as_said_stored_in_e164_and_audited_without_it(
    world, client_as
) -> None:
    admin = client_as("admin")
    form = {
        "login": "coord-2",
        "role": "coordinator",
        "campus": "test-campus",
        "phone": "04 76 00 00 01",
        "password": NEW_PASSWORD,
    }
    assert post_form(admin, "/admin/accounts", form).status_code == 200
    assert _account(world, "coord-2").phone == "+33476000001"
    coord = _account(world, "coord")
    assert coord.phone == ""
    answer = post_form(
        admin,
        "/admin/accounts/phone",
        {"account_id": str(coord.id), "phone": "06.12.34.56.78"},
        page="/admin/accounts",
    )
    assert answer.status_code == 302
    assert _account(world, "coord").phone == "+33612345678"
    assert "+33612345678" in admin.get("/admin/accounts").get_data(as_text=True)
    refused = post_form(
        admin,
        "/admin/accounts/phone",
        {"account_id": str(coord.id), "phone": "06 12 34"},
        page="/admin/accounts",
    )
    assert refused.status_code == 400
    assert "Ce numéro de téléphone n'est pas valide" in html.unescape(
        refused.get_data(as_text=True)
    )
    assert _account(world, "coord").phone == "+33612345678"
    removed = post_form(
        admin,
        "/admin/accounts/phone",
        {"account_id": str(coord.id), "phone": ""},
        page="/admin/accounts",
    )
    assert removed.status_code == 302 and _account(world, "coord").phone == ""
    with world.registry() as session:
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "account_phone_set")
        ).all()
    assert len(entries) == 2
    assert all("612" not in (entry.before or "") + (entry.after or "") for entry in entries)
    bad = form | {"login": "coord-3", "phone": "pas un numéro"}
    assert post_form(admin, "/admin/accounts", bad).status_code == 400
    assert _account(world, "coord-3") is None
