"""The web app's GET requests read the registry deferred (no SQLite write lock while
reading, ``server.registry.database``): hooks the composition root hands the app
(``Services.request_reads``), since ``server.web`` imports no registry."""

from __future__ import annotations

import contextlib

from werkzeug.exceptions import HTTPException

from server.registry import database


def _deferred() -> bool:
    return database._reads_deferred.get()


def test_a_get_reads_deferred_until_its_end(world) -> None:
    app = world.app
    assert not _deferred()
    with app.test_request_context("/login", method="GET"):
        app.preprocess_request()
        assert _deferred()
        app.do_teardown_request()
        assert not _deferred()


def test_a_post_reads_as_it_writes(world) -> None:
    app = world.app
    with app.test_request_context("/login", method="POST"):
        with contextlib.suppress(HTTPException):  # no CSRF token: refused by a later hook
            app.preprocess_request()
        assert not _deferred()
        app.do_teardown_request()
