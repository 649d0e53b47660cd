"""The production WSGI server (waitress) for the Flask app, in a thread of ``serve``."""

from __future__ import annotations

import logging
import threading

from flask import Flask
from waitress.server import create_server

from server.config import WebSettings

log = logging.getLogger(__name__)


class WebServerError(RuntimeError):
    """The web app cannot listen on its address (port taken, address not on this host)."""


class WebServer:
    def __init__(self, app: Flask, settings: WebSettings) -> None:
        try:
            self._server = create_server(
                app, host=settings.host, port=settings.port, threads=settings.threads
            )
        except OSError as error:
            raise WebServerError(
                f"the web app cannot listen on {settings.host}:{settings.port}: "
                f"{error.strerror or error} (another program on that port? "
                "`campus-presence doctor` checks it; or change [web] host/port)"
            ) from None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.socket.getsockname()[:2]
        return f"http://{host}:{port}"

    def start(self) -> None:
        self._thread = threading.Thread(target=self._server.run, name="web", daemon=True)
        self._thread.start()
        log.info("web app listening on %s", self.url)

    def stop(self) -> None:
        self._server.close()
        if self._thread is not None:
            self._thread.join(5)
