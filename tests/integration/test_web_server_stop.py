"""``WebServer.stop`` ends its loop before it closes the sockets: requests in flight when
the process stops never make the server's threads fail on a closed descriptor."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import urllib.request
from collections.abc import Iterator

import pytest
from flask import Flask

from server.adapters.web_server import WebServer
from server.config import WebSettings


@pytest.fixture
def thread_failures() -> Iterator[list[str]]:
    failures: list[str] = []
    previous = threading.excepthook
    threading.excepthook = lambda args: failures.append(f"{args.thread}: {args.exc_value!r}")
    yield failures
    threading.excepthook = previous


def _app() -> Flask:
    app = Flask("stop")

    @app.get("/slow")
    def slow() -> str:
        time.sleep(0.05)
        return "ok"

    return app


def _ask(url: str) -> None:
    with contextlib.suppress(OSError):  # refused or cut: the server is stopping
        urllib.request.urlopen(url, timeout=2).read()  # noqa: S310 (http, our own server)


@pytest.mark.parametrize("round_", range(15))
def test_stopping_with_requests_in_flight_fails_no_thread(
    round_: int, thread_failures: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    server = WebServer(_app(), WebSettings(host="127.0.0.1", port=0, threads=2))
    server.start()
    clients = [threading.Thread(target=_ask, args=(f"{server.url}/slow",)) for _ in range(6)]
    for client in clients:
        client.start()
    time.sleep(0.02 * (round_ % 4))
    with caplog.at_level(logging.ERROR, logger="waitress"):
        server.stop()
    for client in clients:
        client.join(5)
    assert thread_failures == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
