"""An in-process MQTT broker (amqtt) for the embedded default: nothing to install.

amqtt speaks MQTT 3.1.1 only and has no shared subscriptions, which is why the consumer
falls back to a plain subscription with ``mqtt.protocol = 3``. It is ample for one
campus (2,000 to 5,000 QoS 1 messages a second on a 2-core machine). It runs on its own
event loop in a daemon thread and always binds to loopback.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading

log = logging.getLogger(__name__)


class EmbeddedBrokerError(RuntimeError):
    pass


def free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class EmbeddedBroker:
    def __init__(self, *, port: int, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._broker = None

    def _config(self) -> dict:
        return {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}},
            "plugins": {
                "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True},
            },
        }

    def start(self, timeout: float = 10.0) -> None:
        if self._thread is not None:
            return
        for name in ("amqtt", "transitions"):
            logging.getLogger(name).setLevel(logging.ERROR)
        ready = threading.Event()
        failure: list[BaseException] = []
        self._loop = asyncio.new_event_loop()

        def run() -> None:
            assert self._loop is not None
            asyncio.set_event_loop(self._loop)
            try:
                self._loop.run_until_complete(self._start_broker())
            except BaseException as error:  # reported to the starting thread
                failure.append(error)
                ready.set()
                return
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name="embedded-broker", daemon=True)
        self._thread.start()
        if not ready.wait(timeout) or failure:
            self._thread = None
            raise EmbeddedBrokerError(
                f"embedded MQTT broker could not listen on {self.host}:{self.port}: "
                f"{failure[0] if failure else 'timeout'}"
            )
        log.info("embedded MQTT broker listening on %s:%d (MQTT 3.1.1)", self.host, self.port)

    async def _start_broker(self) -> None:
        from amqtt.broker import Broker  # imported here: only the embedded default needs it

        self._broker = Broker(self._config())
        await self._broker.start()

    def stop(self) -> None:
        if self._thread is None or self._loop is None:
            return
        loop = self._loop
        if self._broker is not None:
            future = asyncio.run_coroutine_threadsafe(self._broker.shutdown(), loop)
            try:
                future.result(10)
            except Exception:  # shutting down anyway
                log.exception("embedded broker did not shut down cleanly")
        loop.call_soon_threadsafe(loop.stop)
        self._thread.join(10)
        self._thread = None
        self._broker = None

    def __enter__(self) -> EmbeddedBroker:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
