"""Plays :mod:`edge.patterns` on LEDs and a buzzer through gpiozero, on its own thread.

:meth:`FeedbackPlayer.play` never blocks its caller: the agent's loop hands a signal
over and goes on. ``preempt=True`` (the read beep of a new tap) cuts whatever is playing
so the student hears the reader at once; other signals queue behind it. While the
reader is faulty, a short red flash repeats whenever nothing else plays.
"""

from __future__ import annotations

import collections
import logging
import threading
from collections.abc import Callable
from typing import Any

from edge.errors import EdgeError
from edge.patterns import FAULT_IDLE, PATTERNS, Pattern, Signal, physical

log = logging.getLogger(__name__)

MAX_QUEUED = 4  # older waiting signals are dropped: a door queue never needs more


class FeedbackError(EdgeError):
    """The GPIO pins cannot be driven (no pin factory, pin in use, not a Pi)."""


class FeedbackPlayer:
    """LEDs and buzzer on gpiozero output devices; ``enabled=False`` only logs."""

    def __init__(
        self,
        *,
        green: int | str | None = None,
        red: int | str | None = None,
        amber: int | str | None = None,
        buzzer: int | str | None = None,
        active_high: bool = True,
        enabled: bool = True,
        pin_factory: Any = None,
        display: Callable[[str], None] | None = None,
        speed: float = 1.0,
    ) -> None:
        """``speed`` > 1 plays every pattern faster (tests, demonstrations)."""
        pins = {"green": green, "red": red, "amber": amber, "buzzer": buzzer}
        self._devices = self._make_devices(pins, active_high, pin_factory) if enabled else {}
        self._has_amber = "amber" in self._devices
        self._speed = speed
        self._display = display or (lambda text: log.info("display: %s", text))
        self._lock = threading.Condition()
        self._queue: collections.deque[Pattern] = collections.deque()
        self._cut = threading.Event()
        self._fault = False
        self._busy = False
        self._closed = False
        self.played: collections.deque[Signal] = collections.deque(maxlen=32)
        self._thread = threading.Thread(target=self._run, name="feedback", daemon=True)
        self._thread.start()

    @staticmethod
    def _make_devices(pins: dict[str, Any], active_high: bool, factory: Any) -> dict[str, Any]:
        from gpiozero import LED, Buzzer, GPIOZeroError

        devices: dict[str, Any] = {}
        try:
            for name, pin in pins.items():
                if pin is None:
                    continue
                kind = Buzzer if name == "buzzer" else LED
                devices[name] = kind(
                    pin, active_high=active_high, initial_value=False, pin_factory=factory
                )
        except (GPIOZeroError, OSError, RuntimeError) as error:
            for device in devices.values():
                device.close()
            raise FeedbackError(f"cannot drive feedback pins: {error}") from error
        return devices

    # ------------------------------------------------------------------ commands

    def play(self, signal: Signal, *, preempt: bool = False) -> None:
        """Show ``signal``; ``preempt`` interrupts the current pattern and the queue."""
        pattern = PATTERNS[signal]
        with self._lock:
            if self._closed:
                return
            if preempt:
                self._queue.clear()
                self._cut.set()
            elif len(self._queue) >= MAX_QUEUED:
                self._queue.popleft()
            self._queue.append(pattern)
            if self._fault and not self._busy:
                self._cut.set()  # stop the idle flash at once
            self._lock.notify_all()

    def set_fault(self, fault: bool) -> None:
        """While ``fault`` holds, a short red flash repeats between other patterns."""
        with self._lock:
            if fault == self._fault:
                return
            self._fault = fault
            if not fault and not self._busy:
                self._cut.set()
            self._lock.notify_all()
        if fault:
            self.play(Signal.FAULT)

    def show_text(self, text: str) -> None:
        """The server's text line for a tap: a display hook (logged when none is wired)."""
        try:
            self._display(text)
        except Exception:
            log.exception("display hook failed")

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until every queued pattern has played (the fault flash does not count)."""
        with self._lock:
            return self._lock.wait_for(lambda: not self._queue and not self._busy, timeout)

    # ------------------------------------------------------------------ thread

    def _run(self) -> None:
        while True:
            with self._lock:
                self._lock.wait_for(lambda: self._queue or self._fault or self._closed)
                if self._closed:
                    break
                self._cut.clear()
                pattern = self._queue.popleft() if self._queue else FAULT_IDLE
                self._busy = pattern is not FAULT_IDLE
            if pattern.signal is not None:
                self.played.append(pattern.signal)
            self._play(pattern)
            with self._lock:
                self._busy = False
                self._lock.notify_all()
        self._apply(frozenset())

    def _play(self, pattern: Pattern) -> None:
        for step in pattern.steps:
            self._apply(physical(step.on, has_amber=self._has_amber))
            if self._cut.wait(step.seconds / self._speed):
                break
        self._apply(frozenset())

    def _apply(self, on: frozenset[str]) -> None:
        for name, device in self._devices.items():
            try:
                if name in on:
                    device.on()
                else:
                    device.off()
            except Exception:  # a closed or broken pin must not kill the player
                log.debug("cannot set %s", name, exc_info=True)

    # ------------------------------------------------------------------ lifetime

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._queue.clear()
            self._cut.set()
            self._lock.notify_all()
        self._thread.join(timeout=5)
        for device in self._devices.values():
            device.close()

    def __enter__(self) -> FeedbackPlayer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        wired = ", ".join(f"{name}={device.pin}" for name, device in self._devices.items())
        state = "closed" if self._closed else ("fault" if self._fault else "ok")
        return f"<FeedbackPlayer {wired or 'no pins'} {state}>"
