"""The door agent's loop: one thread takes every decision, in the order events arrive.

For each new tap: beep at once, write it durably to the outbox, hand it to MQTT, and
show the server's answer if it comes within ``feedback.server_wait_s`` (else *stored*
when the server confirmed it, or *queued*). The loop also publishes the retained status
(on connect, on change and every ``heartbeat_s``, with the taps awaiting confirmation),
removes confirmed taps in batches and re-sends unconfirmed or refused ones.

Bad input on the reader's own topics (a malformed confirmation or feedback, a
confirmation for an id the reader does not hold, a replayed one) is logged, counted in
:attr:`Agent.counters` and otherwise ignored.
"""

from __future__ import annotations

import logging
import queue
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from edge.clock import WallClock
from edge.config import Config
from edge.delivery import Delivery
from edge.errors import OutboxError, OutboxFull
from edge.events import (
    BadgeSeen,
    BadMessage,
    ConfirmArrived,
    Event,
    FeedbackArrived,
    LinkConnected,
    LinkLost,
    NfcHealthChanged,
    PublishAcked,
    StopRequested,
)
from edge.health import Health
from edge.outbox import Outbox
from edge.patterns import Signal, signal_for_result, signal_without_answer
from edge.protocol import ReaderState, ReaderStatus, Tap, status_topic, taps_topic
from edge.timing import Debouncer

log = logging.getLogger(__name__)

MAX_BATCH = 1000  # events handled between two outbox flushes


@dataclass(slots=True)
class _Waiting:
    """A tap whose server answer is awaited until ``deadline`` (monotonic)."""

    deadline: float
    confirmed: bool = False


class Agent:
    """Wires outbox, link and feedback around one event queue (see module docstring).

    ``link`` needs ``publish(topic, payload, retain=)``, ``set_will(payload)`` and a
    ``connected`` flag; ``feedback`` needs ``play(signal, preempt=)``, ``set_fault()``
    and ``show_text()``. Both hand their events to :attr:`events`."""

    def __init__(
        self,
        config: Config,
        *,
        events: queue.SimpleQueue[Event],
        outbox: Outbox,
        link: Any,
        feedback: Any,
        clock: WallClock,
        sync_check: Callable[[], bool],
        health: Health | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config, self.events, self.outbox = config, events, outbox
        self.link, self.feedback, self.clock = link, feedback, clock
        self.sync_check, self.monotonic = sync_check, monotonic
        self.health = health or Health()
        self.debouncer = Debouncer(window_s=config.nfc.debounce_s)
        self.delivery = Delivery(
            outbox,
            self._send_tap,
            window=config.mqtt.max_unacked,
            retry_s=config.mqtt.refused_retry_s,
            confirm_timeout_s=config.mqtt.confirm_timeout_s,
            confirm_retry_max_s=config.mqtt.confirm_retry_max_s,
        )
        self.taps_topic = taps_topic(config.campus, config.reader)
        self.status_topic = status_topic(config.campus, config.reader)
        self._waiting: dict[str, _Waiting] = {}
        self._published: tuple[ReaderState, str] | None = None
        self._next_heartbeat = 0.0
        self._stopping = False
        self._handlers: dict[type, Callable[[Any], None]] = {
            BadgeSeen: self._on_badge,
            FeedbackArrived: self._on_feedback,
            ConfirmArrived: self._on_confirm,
            BadMessage: self._on_bad_message,
            PublishAcked: self._on_acked,
            LinkConnected: self._on_connected,
            LinkLost: self._on_lost,
            NfcHealthChanged: self._on_nfc_health,
            StopRequested: self._on_stop,
        }

    @property
    def counters(self) -> Counter[str]:
        """recorded (taps written to the outbox), refused_taps (not recorded: outbox full
        or disk error), confirmed, resent, no_subscribers, confirm_unknown,
        confirm_replayed, confirm_malformed, feedback_malformed; logged when the agent
        stops."""
        return self.delivery.counters

    # ------------------------------------------------------------------ loop

    def run(self) -> None:
        """Run until :meth:`stop`; then wait briefly for in-flight PUBACKs and for the
        signals still queued."""
        self.feedback.set_fault(not self.health.nfc_ok)
        self.delivery.pump()  # taps left from a previous run, in seq order
        while not self._stopping:
            self.step(timeout=self._until_next_timer())
        self._drain(timeout=2.0)
        self.feedback.wait_idle(timeout=1.0)  # the last tap's signal plays to its end
        log.info("stopped: %s", {name: n for name, n in sorted(self.counters.items()) if n})

    def step(self, timeout: float = 0.0) -> int:
        """Handle the events that arrive within ``timeout`` s, then flush and pump."""
        batch: list[Event] = []
        try:
            first = self.events.get(timeout=timeout) if timeout > 0 else self.events.get_nowait()
            batch.append(first)
            while len(batch) < MAX_BATCH:
                batch.append(self.events.get_nowait())
        except queue.Empty:
            pass
        for event in batch:
            self._handlers[type(event)](event)
        self._flush()
        self.delivery.pump()
        self._run_timers(self.monotonic())
        return len(batch)

    def stop(self) -> None:
        """Thread-safe: ask :meth:`run` to return."""
        self.events.put(StopRequested())

    def _drain(self, timeout: float) -> None:
        deadline = self.monotonic() + timeout
        while self.delivery.in_flight and self.link.connected and self.monotonic() < deadline:
            self.step(timeout=0.05)

    def _flush(self) -> None:
        try:
            self.delivery.flush()
        except OutboxError as error:
            log.error("%s", error)
        if self.health.outbox_full and not self.outbox.full:
            self._set_health(outbox_full=False, outbox_detail="")

    # ------------------------------------------------------------------ handlers

    def _on_badge(self, event: BadgeSeen) -> None:
        if not self.debouncer.seen(event.uid, event.at, arriving=event.arriving):
            return
        self.feedback.play(Signal.READ, preempt=True)
        tap = self._record(event.uid)
        if tap is None:
            return
        if self.link.connected:
            wait = self.config.feedback.server_wait_s
            self._waiting[tap.id] = _Waiting(self.monotonic() + wait)
        else:
            self.feedback.play(Signal.QUEUED)
        self.delivery.pump()

    def _record(self, uid: str) -> Tap | None:
        try:
            tap = self.outbox.add(uid, self.clock.now(), clock_synced=self.sync_check())
        except OutboxError as error:  # full, or the disk failed: refused, and said so
            log.error("tap refused: %s", error)
            self.counters["refused_taps"] += 1
            self.feedback.play(Signal.REFUSED)
            detail = str(error) if isinstance(error, OutboxFull) else f"outbox error: {error}"
            self._set_health(outbox_full=True, outbox_detail=detail)
            return None
        self.counters["recorded"] += 1
        if self.health.outbox_full:
            self._set_health(outbox_full=False, outbox_detail="")
        return tap

    def _on_feedback(self, event: FeedbackArrived) -> None:
        waiting = self._waiting.pop(event.feedback.id, None)
        if waiting is None:
            log.debug("feedback for a tap no longer waited for")
            return
        self.feedback.play(signal_for_result(event.feedback.result))
        if event.feedback.text:
            self.feedback.show_text(event.feedback.text)

    def _on_acked(self, event: PublishAcked) -> None:
        outcome = self.delivery.acked(
            event.mid,
            failed=event.failed,
            reason=event.reason,
            now=self.monotonic(),
            code=event.code,
        )
        if outcome is None:
            if event.failed:
                log.warning("broker refused a status message: %s", event.reason)
            return
        if outcome.refused:
            self._set_health(refused=self.delivery.refused, refusal_reason=outcome.reason)
        elif self.health.refused and not self.delivery.paused:
            self._set_health(refused=0, refusal_reason="")

    def _on_confirm(self, event: ConfirmArrived) -> None:
        done = self.delivery.confirm(event.ids, self.monotonic())
        if done.unknown or done.replayed:
            log.warning(
                "ignored a confirmation for %d unknown and %d already confirmed tap id(s)",
                done.unknown,
                done.replayed,
            )
        for tap_id in done.ids:
            waiting = self._waiting.get(tap_id)
            if waiting is not None:
                waiting.confirmed = True
        if done.ids and self.health.refused and not self.delivery.paused:
            self._set_health(refused=0, refusal_reason="")

    def _on_bad_message(self, event: BadMessage) -> None:
        self.counters[f"{event.kind}_malformed"] += 1

    def _on_connected(self, event: LinkConnected) -> None:
        log.info("connected to the broker")
        self.link.set_will(self.status_payload(ReaderState.OFFLINE, "connection lost"))
        self._published = None
        self.publish_status()

    def _on_lost(self, event: LinkLost) -> None:
        log.warning("broker link lost: %s", event.reason)

    def _on_nfc_health(self, event: NfcHealthChanged) -> None:
        self.feedback.set_fault(not event.ok)
        self._set_health(nfc_ok=event.ok, nfc_detail=event.detail)

    def _on_stop(self, event: StopRequested) -> None:
        self._stopping = True

    # ------------------------------------------------------------------ timers

    def _until_next_timer(self) -> float:
        now = self.monotonic()
        moments = [self._next_heartbeat, now + 1.0]
        moments += [w.deadline for w in self._waiting.values()]
        if self.delivery.next_due_at is not None and self.link.connected:
            moments.append(self.delivery.next_due_at)  # offline: woken by LinkConnected
        return max(0.001, min(moments) - now)

    def _run_timers(self, now: float) -> None:
        for tap_id, waiting in list(self._waiting.items()):
            if waiting.deadline <= now:
                del self._waiting[tap_id]
                link_up = bool(self.link.connected)
                signal = signal_without_answer(link_up=link_up, confirmed=waiting.confirmed)
                self.feedback.play(signal)
        if self.link.connected:
            self.delivery.tick(now)
        if now >= self._next_heartbeat:
            self._next_heartbeat = now + self.config.mqtt.heartbeat_s
            self.publish_status(force=True)

    # ------------------------------------------------------------------ status

    def _set_health(self, **changes: Any) -> None:
        self.health = replace(self.health, **changes)
        self.publish_status()

    def status_payload(self, state: ReaderState, detail: str) -> bytes:
        """``queued``: taps held, not yet confirmed by the server; ``oldest``: the ``ts``
        of the oldest of them (clock-synchronised ones only)."""
        queued = self.outbox.count
        status = ReaderStatus(
            state=state,
            ts=self.clock.now(),
            queued=queued,
            detail=detail,
            clock_synced=self.sync_check(),
            heartbeat=self.config.mqtt.heartbeat_s,
            oldest=self.outbox.oldest_ts() if queued else None,
        )
        return status.to_json()

    def publish_status(self, *, force: bool = False) -> None:
        """Publish the retained status if it changed (or ``force``) and the link is up."""
        if not self.link.connected:
            return
        state, detail = self.health.state()
        if not force and self._published == (state, detail):
            return
        self.link.publish(self.status_topic, self.status_payload(state, detail), retain=True)
        self._published = (state, detail)
        self._next_heartbeat = self.monotonic() + self.config.mqtt.heartbeat_s

    def _send_tap(self, tap: Tap) -> int | None:
        return self.link.publish(self.taps_topic, tap.to_json())
