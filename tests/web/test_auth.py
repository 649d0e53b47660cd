"""Logging in and out, the login throttle, CSRF, password change, security headers,
API tokens: through the Flask test client on the real composition."""

from __future__ import annotations

import html
from datetime import timedelta

from sqlalchemy import select

from server.bootstrap import build_server
from server.container import services_of
from server.domain.accounts import Actor, Role
from server.registry.models import AuditEntry
from tests.web.conftest import PASSWORD, csrf_of, log_in, post_form


def test_a_visitor_is_sent_to_the_login_page_and_back_after_logging_in(world) -> None:
    client = world.app.test_client()
    answer = client.get("/account/password")
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/login?next=/account/password")
    page = client.get("/login?next=/account/password").get_data(as_text=True)
    assert 'lang="fr"' in page and "Se connecter" in page and "Aller au contenu" in page
    answer = client.post(
        "/login",
        data={
            "login": "alice",
            "password": PASSWORD,
            "next": "/account/password",
            "csrf_token": csrf_of(client),
        },
    )
    assert (answer.status_code, answer.headers["Location"]) == (302, "/account/password")


def test_next_never_leaves_the_site(world) -> None:
    client = world.app.test_client()
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        answer = client.post(
            "/login",
            data={
                "login": "alice",
                "password": PASSWORD,
                "next": target,
                "csrf_token": csrf_of(client),
            },
        )
        assert answer.status_code == 302
        assert "evil" not in answer.headers["Location"]
        client.post("/logout", data={"csrf_token": csrf_of(client, "/account/password")})


def test_a_wrong_password_is_refused_without_saying_whether_the_login_exists(world) -> None:
    client = world.app.test_client()
    wrong_password = log_in(client, "alice", "not the right one at all")
    unknown_login = log_in(client, "nobody-here", "not the right one at all")
    assert wrong_password.status_code == unknown_login.status_code == 401
    assert "Identifiant ou mot de passe incorrect." in wrong_password.get_data(as_text=True)
    assert wrong_password.get_data() == unknown_login.get_data()


def _try(client, login: str, password: str, address: str):
    """A login attempt from ``address`` (the test client's session, so the same CSRF
    token and the same page bytes whoever logs in)."""
    return client.post(
        "/login",
        data={"login": login, "password": password, "csrf_token": csrf_of(client)},
        environ_base={"REMOTE_ADDR": address},
    )


def test_known_and_unknown_logins_answer_alike_at_every_count_with_a_growing_wait(world) -> None:
    client = world.app.test_client()
    statuses, waits = [], []
    for _round in range(18):
        known = _try(client, "bruno", "wrong password number x", "192.0.2.1")
        unknown = _try(client, "nobody-here", "wrong password number x", "192.0.2.2")
        assert known.status_code == unknown.status_code
        assert known.get_data() == unknown.get_data()
        assert known.headers.get("Retry-After") == unknown.headers.get("Retry-After")
        statuses.append(known.status_code)
        if known.status_code == 429:
            waits.append(int(known.headers["Retry-After"]))
            page = html.unescape(known.get_data(as_text=True))
            assert "Trop d'essais" in page and "verrouillé" not in page
            world.clock.advance(seconds=waits[-1])
    assert statuses[:3] == [401, 401, 401]  # three free tries
    assert 403 not in statuses
    assert waits[:5] == [1, 2, 4, 8, 16] and max(waits) == 60  # doubled, capped at a minute


def test_a_tutor_logs_in_once_the_wait_after_an_attackers_failures_is_over(world) -> None:
    attacker, tutor = world.app.test_client(), world.app.test_client()
    failures = 0
    while failures < 10:
        answer = _try(attacker, "bruno", "guessing bruno's password", "203.0.113.9")
        if answer.status_code == 429:
            world.clock.advance(seconds=int(answer.headers["Retry-After"]))
        else:
            assert answer.status_code == 401
            failures += 1
    waiting = _try(tutor, "bruno", PASSWORD, "198.51.100.4")
    assert waiting.status_code == 429 and int(waiting.headers["Retry-After"]) <= 60
    world.clock.advance(seconds=int(waiting.headers["Retry-After"]))
    assert _try(tutor, "bruno", PASSWORD, "198.51.100.4").status_code == 302
    # the burst is in the audit log, with the address, never the password
    with world.registry() as session:
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "login_failures_burst")
        ).all()
    assert [entry.entity_id.split(":")[0] for entry in entries] == ["login"]  # one burst
    assert any("203.0.113.9" in entry.after for entry in entries)
    assert not any("guessing" in (entry.before + entry.after) for entry in entries)


def test_two_web_processes_on_one_registry_share_the_throttle(world) -> None:
    other = build_server(world.settings, clock=world.clock)
    try:
        first, second = world.app.test_client(), other.web.test_client()
        for _attempt in range(3):
            assert _try(first, "alice", "wrong password, long", "192.0.2.7").status_code == 401
        throttled = _try(second, "alice", PASSWORD, "192.0.2.8")
        assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "1"
        world.clock.advance(seconds=1)
        assert _try(second, "alice", PASSWORD, "192.0.2.8").status_code == 302
    finally:
        other.close()


def test_many_failures_from_one_address_are_slowed(world) -> None:
    limit = world.settings.web.login_attempts_per_ip
    client = world.app.test_client()
    for attempt in range(limit):
        assert log_in(client, f"someone-{attempt}", "wrong password, long").status_code == 401
    throttled = log_in(client, "alice")
    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "1"
    assert "Trop d'essais" in html.unescape(throttled.get_data(as_text=True))
    world.clock.advance(seconds=1)
    assert log_in(client, "alice").status_code == 302


def test_a_form_without_its_csrf_token_is_refused(world, client_as) -> None:
    client = client_as("alice")
    answer = client.post("/account/password", data={"current": PASSWORD, "new": "x" * 20})
    assert answer.status_code == 400
    assert "Ce formulaire a expiré" in answer.get_data(as_text=True)
    forged = client.post(
        "/account/password",
        data={"current": PASSWORD, "new": "y" * 20, "again": "y" * 20, "csrf_token": "forged"},
    )
    assert forged.status_code == 400
    assert log_in(world.app.test_client(), "alice").status_code == 302  # unchanged


def test_the_login_form_itself_needs_its_csrf_token(world) -> None:
    client = world.app.test_client()
    answer = client.post("/login", data={"login": "alice", "password": PASSWORD})
    assert answer.status_code == 400


def test_changing_ones_password_ends_the_other_sessions(world, client_as) -> None:
    phone, laptop = client_as("alice"), client_as("alice")
    new = "a brand new sentence for alice"
    answer = post_form(laptop, "/account/password", {"current": PASSWORD, "new": new, "again": new})
    assert answer.status_code == 200 and "mot de passe est changé" in answer.get_data(True)
    assert laptop.get("/account/password").status_code == 200
    assert phone.get("/account/password").status_code == 302  # back to the login page
    assert log_in(world.app.test_client(), "alice", new).status_code == 302


def test_a_weak_new_password_is_refused_with_the_rule(client_as) -> None:
    client = client_as("alice")
    answer = post_form(
        client, "/account/password", {"current": PASSWORD, "new": "short", "again": "short"}
    )
    assert answer.status_code == 400
    assert "au moins 12 caractères" in answer.get_data(as_text=True)


def test_logout_ends_the_session(client_as) -> None:
    client = client_as("coord")
    answer = client.post("/logout", data={"csrf_token": csrf_of(client, "/account/password")})
    assert answer.status_code == 302
    assert client.get("/account/password").status_code == 302


def test_pages_carry_security_headers_and_are_not_cached(client_as) -> None:
    answer = client_as("alice").get("/account/password")
    assert "default-src 'self'" in answer.headers["Content-Security-Policy"]
    assert answer.headers["X-Frame-Options"] == "DENY"
    assert answer.headers["Cache-Control"] == "no-store"
    cookie = client_as("alice").get("/login")  # a fresh session cookie is HttpOnly
    assert cookie.status_code in (200, 302)


def test_the_session_cookie_is_httponly_and_samesite(world) -> None:
    client = world.app.test_client()
    answer = client.post(
        "/login", data={"login": "alice", "password": PASSWORD, "csrf_token": csrf_of(client)}
    )
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_english_is_available_and_remembered(world) -> None:
    client = world.app.test_client()
    page = client.get("/login?lang=en").get_data(as_text=True)
    assert 'lang="en"' in page and "Log in" in page
    assert 'lang="en"' in client.get("/login").get_data(as_text=True)


def test_api_tokens_made_by_an_admin_work_until_revoked(world) -> None:
    accounts = services_of(world.app).accounts
    actor = Actor("admin", world.clock())
    secret, token = accounts.create_token(
        name="tableau de bord", role=Role.COORDINATOR, campus_id="test-campus", actor=actor
    )
    client = world.app.test_client()
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/presence/weekly?week=2026-W48", headers=headers).status_code == 200
    assert accounts.tokens()[0].last_used_at == world.clock()
    world.clock.advance(hours=1)
    accounts.revoke_token(token.id, actor)
    refused = client.get("/api/v1/presence/weekly?week=2026-W48", headers=headers)
    assert refused.status_code == 403


def test_a_session_cookie_does_not_open_the_api(client_as) -> None:
    client = client_as("coord")
    assert client.get("/api/v1/presence/weekly?week=2026-W48").status_code == 401


def test_a_disabled_account_loses_its_session(world, client_as) -> None:
    client = client_as("bruno")
    accounts = services_of(world.app).accounts
    bruno = next(account for account in accounts.accounts() if account.login == "bruno")
    accounts.set_active(bruno.id, False, Actor("admin", world.clock() + timedelta(seconds=1)))
    assert client.get("/account/password").status_code == 302
    assert log_in(world.app.test_client(), "bruno").status_code == 401


def test_behind_a_trusted_proxy_throttling_sees_each_client_address(world) -> None:
    from dataclasses import replace

    from server.bootstrap import login_throttle
    from server.web.app import create_app

    settings = replace(
        world.settings, web=replace(world.settings.web, proxy_hops=1, login_attempts_per_ip=2)
    )
    services = services_of(world.app)
    throttle = login_throttle(settings, services.registry, services.clock)
    services = replace(services, settings=settings, login_throttle=throttle)
    app = create_app(services)
    first, second = app.test_client(), app.test_client()
    for client in (first, second):
        client.environ_base["REMOTE_ADDR"] = "10.0.0.1"  # the proxy
    first.environ_base["HTTP_X_FORWARDED_FOR"] = "192.0.2.10"
    second.environ_base["HTTP_X_FORWARDED_FOR"] = "192.0.2.20"
    for _attempt in range(2):
        assert log_in(first, "alice", "wrong password, long one").status_code == 401
    assert log_in(first, "alice").status_code == 429
    assert log_in(second, "alice").status_code == 302


def test_the_language_link_keeps_the_page_and_its_query(client_as) -> None:
    client = client_as("coord")
    page = client.get("/account/password?x=1&y=%C3%A9").get_data(as_text=True)
    assert 'href="/account/password?x=1&amp;y=%C3%A9&amp;lang=en"' in page
    english = client.get("/account/password?x=1&lang=en").get_data(as_text=True)
    assert 'href="/account/password?x=1&amp;lang=fr"' in english
