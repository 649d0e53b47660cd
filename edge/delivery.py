"""Moves taps from the outbox to the MQTT link, in ``seq`` order, with bounded in-flight.

A tap is handed to paho once per process (paho re-sends it after a reconnect) and stays
in the outbox until its PUBACK says it was accepted. At most ``window`` taps are handed
and unacknowledged at once, far below paho's 65,535 limit, so a long outage leaves the
backlog on disk rather than in memory.

A PUBACK with a failure reason (MQTT 5: 135 Not authorized…) leaves the tap in the
outbox, counts it as *refused* and pauses delivery: Mosquitto 2.0 also drops the
connection after a denied publish, so sending on would only churn connections. After
``retry_s`` the oldest refused tap is sent alone as a probe; when the broker accepts it,
the other refused taps follow (oldest first) and delivery resumes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from edge.outbox import Outbox
from edge.protocol import Tap

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Outcome:
    tap: Tap
    delivered: bool
    reason: str = ""


class Delivery:
    """Hands waiting taps to ``send`` (which returns a message id, or None when full)."""

    def __init__(
        self,
        outbox: Outbox,
        send: Callable[[Tap], int | None],
        *,
        window: int = 1000,
        retry_s: float = 300.0,
    ) -> None:
        self.outbox = outbox
        self._send = send
        self.window = window
        self.retry_s = retry_s
        self._cursor = -1  # seq of the newest tap handed over
        self._in_flight: dict[int, Tap] = {}
        self._delivered: list[str] = []
        self._refused: dict[str, Tap] = {}
        self.refusal_reason = ""
        self.paused_until: float | None = None  # set while the broker refuses taps
        self._probe: int | None = None

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    @property
    def refused(self) -> int:
        return len(self._refused)

    @property
    def paused(self) -> bool:
        return self.paused_until is not None

    def pump(self) -> int:
        """Hand over as many waiting taps as the window allows; returns how many."""
        handed = 0
        while not self.paused and len(self._in_flight) < self.window:
            room = min(self.window - len(self._in_flight), 500)
            taps = self.outbox.pending(after_seq=self._cursor, limit=room)
            if not taps:
                break
            for tap in taps:
                if not self._hand(tap):
                    return handed
                self._cursor = tap.seq
                handed += 1
        return handed

    def _hand(self, tap: Tap) -> int | None:
        mid = self._send(tap)
        if mid is not None:
            self._in_flight[mid] = tap
        return mid

    def acked(self, mid: int, *, failed: bool, reason: str, now: float) -> Outcome | None:
        """Record the broker's answer for ``mid``; None when it was not a tap."""
        tap = self._in_flight.pop(mid, None)
        if tap is None:
            return None
        if failed:
            if not self._refused:
                log.warning("broker refused a tap: %s (kept in the outbox)", reason)
            self._refused[tap.id] = tap
            self.refusal_reason = reason
            self.paused_until = now + self.retry_s
            self._probe = None
            return Outcome(tap, delivered=False, reason=reason)
        self._delivered.append(tap.id)
        if mid == self._probe:
            self._resume()
        return Outcome(tap, delivered=True)

    def _resume(self) -> None:
        log.info("broker accepts taps again: sending %d refused tap(s)", len(self._refused))
        self._probe = None
        self.paused_until = None
        self.refusal_reason = ""
        for tap in sorted(self._refused.values(), key=lambda t: t.seq):
            if self._hand(tap) is None:
                break
            del self._refused[tap.id]

    @property
    def probe_due_at(self) -> float | None:
        """When the next probe is due (None while none is, or one is awaiting its answer)."""
        return self.paused_until if self._probe is None else None

    def tick(self, now: float) -> bool:
        """Send the probe once the pause is over; True when one was sent."""
        if self.paused_until is None or self._probe is not None or now < self.paused_until:
            return False
        if not self._refused:  # the refused taps were acknowledged meanwhile
            self.paused_until = None
            return False
        oldest = min(self._refused.values(), key=lambda t: t.seq)
        mid = self._hand(oldest)
        if mid is not None:
            del self._refused[oldest.id]
            self._probe = mid
        return mid is not None

    def flush(self) -> int:
        """Remove acknowledged taps from the outbox, all in one transaction."""
        if not self._delivered:
            return 0
        ids, self._delivered = self._delivered, []
        return self.outbox.remove(ids)
