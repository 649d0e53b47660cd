"""The production WSGI server (waitress) for the Flask app, in a thread of ``serve`` or
``web``. With ``reuse_port``, the listening socket is opened with ``SO_REUSEPORT``: several
processes of the same user listen on one address and port, and the kernel spreads the
incoming connections among them (Linux; docs/scaling.md, "Web workers and jobs")."""

from __future__ import annotations

import logging
import socket
import threading

from flask import Flask
from waitress.server import MultiSocketServer, create_server
from waitress.trigger import trigger

from server.config import ConfigError, WebSettings

log = logging.getLogger(__name__)


class WebServerError(RuntimeError):
    """The web app cannot listen on its address (port taken, address not on this host)."""


def listening_socket(host: str, port: int, *, reuse_port: bool) -> socket.socket:
    """A bound socket for ``host:port`` (waitress calls ``listen``): ``WebServerError``
    when it cannot be had, ``ConfigError`` for ``reuse_port`` where there is none."""
    if reuse_port and not hasattr(socket, "SO_REUSEPORT"):
        raise ConfigError("[web] reuse_port needs SO_REUSEPORT (Linux)")
    sock: socket.socket | None = None
    try:
        family, kind, proto, _name, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
    except OSError as error:
        if sock is not None:
            sock.close()
        raise WebServerError(
            f"the web app cannot listen on {host}:{port}: {error.strerror or error} "
            "(another program on that port? `campus-presence doctor` checks it; or change "
            "[web] host/port; serve and web processes share a port only if each has "
            "[web] reuse_port = true)"
        ) from None
    return sock


class WebServer:
    def __init__(self, app: Flask, settings: WebSettings, *, reuse_port: bool = False) -> None:
        sock = listening_socket(
            settings.host, settings.port, reuse_port=reuse_port or settings.reuse_port
        )
        self._server = create_server(app, sockets=[sock], threads=settings.threads)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.socket.getsockname()[:2]
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{port}"

    def start(self) -> None:
        self._thread = threading.Thread(target=self._server.run, name="web", daemon=True)
        self._thread.start()
        log.info("web app listening on %s", self.url)

    def stop(self) -> None:
        """End the loop, let the requests in flight finish, then close the sockets.

        Closing them first (waitress's ``close``) pulled descriptors from under the loop
        and the worker threads: "Bad file descriptor" failures at every stop with
        requests in flight."""
        server = self._server
        # one socket: a TcpWSGIServer and its ``_map``; several: a MultiSocketServer's ``map``
        sockets = server.map if isinstance(server, MultiSocketServer) else server._map
        dispatchers = list(sockets.values())
        sockets.clear()  # the loop runs while its map holds something: its last turn
        for dispatcher in dispatchers:
            if isinstance(dispatcher, trigger):
                dispatcher.pull_trigger()  # wake its poll now rather than at its timeout
        if self._thread is not None:
            self._thread.join(5)
        server.task_dispatcher.shutdown(timeout=5)  # running requests end, queued ones go
        for dispatcher in dispatchers:
            try:
                dispatcher.close()
            except OSError as error:  # already closed by its peer
                log.debug("closing %r: %s", dispatcher, error)
