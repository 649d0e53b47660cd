"""Every page and API route declares who may use it: a route added without ``@roles``
fails here, and an anonymous visitor never gets past the door of any of them."""

from __future__ import annotations

import re

import pytest

PUBLIC = {
    "auth.home",
    "auth.login",
    "auth.logout",
    "static",
    "openapi.description",
    "health.status",  # /healthz: no personal data
    "watch.ready",  # /readyz: no personal data
    "watch.exposition",  # /metrics: no personal data; loopback or a bearer token
    "auth.privacy",  # /confidentialite: the privacy notice, for everyone
}


def _guarded_rules(app):
    return [rule for rule in app.url_map.iter_rules() if rule.endpoint not in PUBLIC]


def _sample_path(rule) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", lambda m: "1" if "id" in m[1] else "x", rule.rule)


def test_every_route_but_the_public_ones_declares_its_roles(world) -> None:
    app = world.app
    missing = [
        rule.endpoint
        for rule in _guarded_rules(app)
        if not getattr(app.view_functions[rule.endpoint], "allowed_roles", None)
    ]
    assert missing == []
    assert len(_guarded_rules(app)) > 50


def test_an_anonymous_visitor_is_sent_to_log_in_or_refused_everywhere(world) -> None:
    client = world.app.test_client()
    for rule in _guarded_rules(world.app):
        path = _sample_path(rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            answer = client.open(path, method=method)
            if path.startswith("/api/"):
                assert answer.status_code == 401, (method, path)
            elif method == "GET":
                assert answer.status_code == 302, (method, path)
                assert answer.headers["Location"].startswith("/login"), (method, path)
            else:  # a form post without a session has no CSRF token either
                assert answer.status_code == 400, (method, path)


@pytest.mark.parametrize("login", ["emilie", "alice"])
def test_the_admin_area_is_closed_to_students_and_tutors(client_as, world, login) -> None:
    client = client_as(login)
    for rule in _guarded_rules(world.app):
        if rule.endpoint.startswith("admin.") and "GET" in rule.methods:
            assert client.get(_sample_path(rule)).status_code == 403, rule.rule
