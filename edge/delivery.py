"""Moves taps from the outbox to the MQTT link, in ``seq`` order, with bounded in-flight.

A tap is handed to paho once per process (paho re-sends it after a reconnect) and stays
in the outbox until its PUBACK says it was accepted. At most ``window`` taps are handed
and unacknowledged at once, far below paho's 65,535 limit, so a long outage leaves the
backlog on disk rather than in memory. A PUBACK with a failure reason (MQTT 5: 135 Not
authorized…) leaves the tap in the outbox, counts it as *refused*, and it is tried again
after ``retry_s`` or the next reconnect.
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
        self.refused_at: float | None = None

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    @property
    def refused(self) -> int:
        return len(self._refused)

    def pump(self) -> int:
        """Hand over as many waiting taps as the window allows; returns how many."""
        handed = 0
        while len(self._in_flight) < self.window:
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

    def _hand(self, tap: Tap) -> bool:
        mid = self._send(tap)
        if mid is None:
            return False
        self._in_flight[mid] = tap
        return True

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
            self.refused_at = now if self.refused_at is None else self.refused_at
            return Outcome(tap, delivered=False, reason=reason)
        self._delivered.append(tap.id)
        return Outcome(tap, delivered=True)

    def flush(self) -> int:
        """Remove acknowledged taps from the outbox, all in one transaction."""
        if not self._delivered:
            return 0
        ids, self._delivered = self._delivered, []
        return self.outbox.remove(ids)

    def retry_due(self, now: float) -> bool:
        return self.refused_at is not None and now - self.refused_at >= self.retry_s

    def retry_refused(self) -> int:
        """Hand refused taps over again, oldest first, within the window."""
        retried = 0
        for tap in sorted(self._refused.values(), key=lambda t: t.seq):
            if len(self._in_flight) >= self.window or not self._hand(tap):
                break
            del self._refused[tap.id]
            retried += 1
        if not self._refused:
            self.refused_at = None
            self.refusal_reason = ""
        return retried
