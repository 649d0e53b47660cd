"""The composition root: builds every part of the door agent from a :class:`Config`.

The one place where the outbox, the MQTT link, the NFC reader, the feedback pins and
the clock are created, wired to one event queue, started, and closed in order.
"""

from __future__ import annotations

import logging
import queue
from collections.abc import Callable
from typing import Any

from edge.agent import Agent
from edge.clock import CachedSyncCheck, WallClock, make_sync_check
from edge.config import Config
from edge.events import Event
from edge.feedback import FeedbackError, FeedbackPlayer
from edge.health import Health
from edge.link import MqttLink
from edge.nfc import NfcReader
from edge.outbox import Outbox
from edge.protocol import (
    ReaderState,
    ReaderStatus,
    confirm_topic,
    feedback_topic,
    status_topic,
)
from edge.timing import Backoff

log = logging.getLogger(__name__)


class Door:
    """Everything one door reader runs, built from ``config``; a context manager.

    ``pin_factory``, ``sync_check`` and ``display`` are injectable for tests and benches;
    ``nfc=False`` builds no NFC reader (a test feeds :attr:`events` itself)."""

    def __init__(
        self,
        config: Config,
        *,
        pin_factory: Any = None,
        sync_check: Callable[[], bool] | None = None,
        display: Callable[[str], None] | None = None,
        nfc: bool = True,
    ) -> None:
        self.config = config
        self.events: queue.SimpleQueue[Event] = queue.SimpleQueue()
        self.outbox = Outbox(config.outbox.path, max_taps=config.outbox.max_taps)
        self.clock = WallClock(config.clock.timezone)
        self.sync_check = CachedSyncCheck(sync_check or make_sync_check(config.clock.sync_check))
        self.feedback, health = self._feedback_or_none(config, pin_factory, display)
        self.link = MqttLink(
            config.mqtt,
            client_id=config.reader,
            feedback_topic=feedback_topic(config.campus, config.reader),
            confirm_topic=confirm_topic(config.campus, config.reader),
            will_topic=status_topic(config.campus, config.reader),
            will_payload=self._status(ReaderState.OFFLINE, "connection lost"),
            handoff=self.events.put,
        )
        self.agent = Agent(
            config,
            events=self.events,
            outbox=self.outbox,
            link=self.link,
            feedback=self.feedback,
            clock=self.clock,
            sync_check=self.sync_check,
            health=health,
        )
        self.nfc = self._nfc(config) if nfc else None
        self._closed = False

    @classmethod
    def _feedback_or_none(
        cls, config: Config, factory: Any, display: Any
    ) -> tuple[FeedbackPlayer, Health]:
        """Broken pins must not stop the door from recording taps: run without them,
        and say so in the status."""
        try:
            return cls._feedback(config, factory, display, enabled=True), Health()
        except FeedbackError as error:
            log.error("%s: running without lights and buzzer", error)
            player = cls._feedback(config, factory, display, enabled=False)
            return player, Health(feedback_detail=str(error)[:120])

    @staticmethod
    def _feedback(config: Config, factory: Any, display: Any, *, enabled: bool) -> FeedbackPlayer:
        pins = config.feedback
        return FeedbackPlayer(
            green=pins.green,
            red=pins.red,
            amber=pins.amber,
            buzzer=pins.buzzer,
            active_high=pins.active_high,
            enabled=enabled and pins.enabled,
            pin_factory=factory,
            display=display,
        )

    def _nfc(self, config: Config) -> NfcReader:
        return NfcReader(
            device=config.nfc.device,
            targets=config.nfc.targets,
            handoff=self.events.put,
            backoff=Backoff(min_s=config.nfc.retry_min_s, max_s=config.nfc.retry_max_s),
        )

    def _status(self, state: ReaderState, detail: str) -> bytes:
        queued = self.outbox.count
        return ReaderStatus(
            state=state,
            ts=self.clock.now(),
            queued=queued,
            detail=detail,
            clock_synced=self.sync_check(),
            heartbeat=self.config.mqtt.heartbeat_s,
            oldest=self.outbox.oldest_ts() if queued else None,
        ).to_json()

    def run(self) -> None:
        """Connect, read badges and run the agent's loop until :meth:`stop`."""
        self.link.start()
        if self.nfc is not None:
            self.nfc.start()
        self.agent.run()

    def stop(self) -> None:
        """Thread-safe and signal-safe (it only puts an event on a ``SimpleQueue``)."""
        self.agent.stop()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self.nfc is not None:
            self.nfc.close()
        self.link.close(final_status=self._status(ReaderState.OFFLINE, "stopped"))
        self.feedback.close()
        self.outbox.close()

    def __enter__(self) -> Door:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
