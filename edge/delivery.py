"""Moves taps from the outbox to the MQTT link, oldest first, until the server confirms them.

A tap leaves the outbox only when the server's confirmation (protocol v2, topic
``…/confirm``) names its id: the server sends it once the tap is stored. A PUBACK is
transport only. With reason 0 the broker took the tap, which says nothing about the
server having it (no subscriber, a dead worker's queue, a broker restart that lost the
server's ``$share`` subscription); with reason 16 (*No matching subscribers*) nobody
received it. Either way the tap then awaits its confirmation, and is sent again (same
id: the server deduplicates) when none came within ``confirm_timeout_s``, the wait
doubling at each re-send up to ``confirm_retry_max_s``. A confirmation arriving proves
the server is back: taps already re-sent at least once are then due again at once.

At most ``window`` taps are handed and not yet confirmed at once, far below paho's
65,535 limit, so a long outage leaves the backlog on disk rather than in memory.

A PUBACK with a failure reason (>= 128; MQTT 5: 135 Not authorized…) leaves the tap in
the outbox, counts it as *refused* and pauses delivery: Mosquitto 2.0 also drops the
connection after a denied publish, so sending on would only churn connections. After
``retry_s`` the oldest refused tap is sent alone as a probe; when the broker accepts it,
the other refused taps follow (oldest first) and delivery resumes.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from edge.outbox import Outbox
from edge.protocol import Tap

log = logging.getLogger(__name__)

NO_MATCHING_SUBSCRIBERS = 16  # MQTT 5 PUBACK reason: the broker had nobody to deliver to
REMEMBERED_CONFIRMATIONS = 4096  # confirmed ids kept to tell a replay from an unknown id
_OWN_ID = re.compile(r"[0-9a-f]{32}")  # the ids this reader gives (edge.outbox.new_tap_id)


def _compact(tap_id: str) -> bytes | str:
    """A remembered id in 16 bytes instead of a 32-character string (49 bytes of memory
    instead of 81); an id of another shape is kept as it is (bytes never equal a str)."""
    return bytes.fromhex(tap_id) if _OWN_ID.fullmatch(tap_id) else tap_id


@dataclass(frozen=True, slots=True)
class Outcome:
    """The broker's answer to a tap: ``accepted`` only for reason 0 (still unconfirmed)."""

    tap: Tap
    accepted: bool
    refused: bool = False
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Confirmed:
    """What a confirmation did: the ids it removed, and the ids it could not use."""

    ids: list[str] = field(default_factory=list)
    unknown: int = 0
    replayed: int = 0


@dataclass(slots=True)
class _Awaiting:
    tap: Tap
    due: float  # monotonic time at which it is sent again


class Delivery:
    """Hands waiting taps to ``send`` (which returns a message id, or None when full)."""

    def __init__(
        self,
        outbox: Outbox,
        send: Callable[[Tap], int | None],
        *,
        window: int = 250,
        retry_s: float = 300.0,
        confirm_timeout_s: float = 10.0,
        confirm_retry_max_s: float = 120.0,
    ) -> None:
        self.outbox = outbox
        self._send = send
        self.window = window
        self.retry_s = retry_s
        self.confirm_timeout_s = confirm_timeout_s
        self.confirm_retry_max_s = max(confirm_retry_max_s, confirm_timeout_s)
        self.counters: Counter[str] = Counter()
        self._cursor = -1  # seq of the newest tap handed over
        self._in_flight: dict[int, Tap] = {}  # mid -> tap, awaiting its PUBACK
        self._mids: dict[str, int] = {}  # tap id -> mid, for the taps in flight
        self._awaiting: dict[str, _Awaiting] = {}  # PUBACK came, confirmation not yet
        self._sends: dict[str, int] = {}  # tap id -> times handed to the broker
        self._next_due: float | None = None  # earliest _Awaiting.due (None: none)
        self._pulled_at = float("-inf")
        self._confirmed: list[str] = []  # to remove from the outbox at the next flush
        self._remembered: dict[bytes | str, None] = {}  # oldest first (compact ids)
        self._refused: dict[str, Tap] = {}
        self._quiet = False  # a "no subscriber" episode is logged once
        self.refusal_reason = ""
        self.paused_until: float | None = None  # set while the broker refuses taps
        self._probe: int | None = None

    # ------------------------------------------------------------------ state

    @property
    def in_flight(self) -> int:
        """Taps handed to paho whose PUBACK has not come yet."""
        return len(self._in_flight)

    @property
    def awaiting(self) -> int:
        """Taps handed and acknowledged by the broker, not yet confirmed by the server."""
        return len(self._awaiting)

    @property
    def held(self) -> int:
        """Taps handed over and not confirmed (what the window bounds)."""
        return len(self._in_flight) + len(self._awaiting) + len(self._refused)

    @property
    def refused(self) -> int:
        return len(self._refused)

    @property
    def paused(self) -> bool:
        return self.paused_until is not None

    # ------------------------------------------------------------------ sending

    def pump(self) -> int:
        """Hand over as many waiting taps as the window allows; returns how many."""
        handed = 0
        while not self.paused and self.held < self.window:
            room = min(self.window - self.held, 500)
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
            self._mids[tap.id] = mid
            self._sends[tap.id] = self._sends.get(tap.id, 0) + 1
        return mid

    def _timeout(self, tap_id: str) -> float:
        sends = max(1, self._sends.get(tap_id, 1))
        return min(self.confirm_timeout_s * 2 ** min(sends - 1, 30), self.confirm_retry_max_s)

    def _await(self, tap: Tap, now: float) -> None:
        due = now + self._timeout(tap.id)
        self._awaiting[tap.id] = _Awaiting(tap, due)
        if self._next_due is None or due < self._next_due:
            self._next_due = due

    # ------------------------------------------------------------------ broker answers

    def acked(
        self, mid: int, *, failed: bool, reason: str, now: float, code: int = 0
    ) -> Outcome | None:
        """Record the broker's answer for ``mid``; None when it was not a tap (or the
        tap was confirmed before its PUBACK came)."""
        tap = self._in_flight.pop(mid, None)
        if tap is None:
            return None
        self._mids.pop(tap.id, None)
        if failed:
            if not self._refused:
                log.warning("broker refused a tap: %s (kept in the outbox)", reason)
            self._refused[tap.id] = tap
            self.refusal_reason = reason
            self.paused_until = now + self.retry_s
            self._probe = None
            return Outcome(tap, accepted=False, refused=True, reason=reason)
        if mid == self._probe:
            self._resume()
        self._await(tap, now)
        if code == NO_MATCHING_SUBSCRIBERS:
            self.counters["no_subscribers"] += 1
            if not self._quiet:
                log.warning("no server subscribed to taps (PUBACK 16): kept, sent again later")
            self._quiet = True
            return Outcome(tap, accepted=False, reason=reason)
        return Outcome(tap, accepted=True)

    def _resume(self) -> None:
        log.info("broker accepts taps again: sending %d refused tap(s)", len(self._refused))
        self._probe = None
        self.paused_until = None
        self.refusal_reason = ""
        for tap in sorted(self._refused.values(), key=lambda t: t.seq):
            if self._hand(tap) is None:
                break
            del self._refused[tap.id]

    # ------------------------------------------------------------------ server answers

    def confirm(self, ids: Iterable[str], now: float) -> Confirmed:
        """The server stored these taps: forget them (the outbox at the next flush).

        An id confirmed before is a replay; an id the reader never held (or no longer
        holds) is unknown. Both are counted and otherwise ignored."""
        done: list[str] = []
        unknown = replayed = 0
        for tap_id in dict.fromkeys(ids):
            key = _compact(tap_id)
            if key in self._remembered:
                replayed += 1
                continue
            if not self._forget(tap_id):
                unknown += 1
                continue
            done.append(tap_id)
            self._remembered[key] = None
        while len(self._remembered) > REMEMBERED_CONFIRMATIONS:
            del self._remembered[next(iter(self._remembered))]
        self._confirmed += done
        self.counters["confirmed"] += len(done)
        self.counters["confirm_unknown"] += unknown
        self.counters["confirm_replayed"] += replayed
        if done:
            self._quiet = False
            self._pull_in(now)
        return Confirmed(done, unknown, replayed)

    def _forget(self, tap_id: str) -> bool:
        """Drop ``tap_id`` from every in-memory state; False when the reader does not
        hold it at all (not even in the outbox beyond the cursor)."""
        self._sends.pop(tap_id, None)
        if self._awaiting.pop(tap_id, None) is not None:
            return True
        if self._refused.pop(tap_id, None) is not None:
            return True
        mid = self._mids.pop(tap_id, None)
        if mid is not None:  # confirmed before its PUBACK: the PUBACK is then ignored
            self._in_flight.pop(mid, None)
            return True
        return self.outbox.contains(tap_id)

    def _pull_in(self, now: float) -> None:
        """The server answers again: taps re-sent at least once are due now (at most
        once per ``confirm_timeout_s``, so a slow server is not flooded)."""
        if now - self._pulled_at < self.confirm_timeout_s:
            return
        self._pulled_at = now
        for waiting in self._awaiting.values():
            if self._sends.get(waiting.tap.id, 1) > 1 and waiting.due > now:
                waiting.due = now
                self._next_due = now

    # ------------------------------------------------------------------ timers

    @property
    def probe_due_at(self) -> float | None:
        """When the next probe is due (None while none is, or one is awaiting its answer)."""
        return self.paused_until if self._probe is None else None

    @property
    def next_due_at(self) -> float | None:
        """The earliest moment :meth:`tick` has something to do (None: nothing planned)."""
        moments = [m for m in (self.probe_due_at, self._next_due) if m is not None]
        return min(moments) if moments else None

    def tick(self, now: float) -> bool:
        """Re-send the unconfirmed taps that are due (oldest first) and the probe once
        the pause is over; True when something was sent."""
        resent = self._resend_due(now)
        return self._probe_tick(now) or resent > 0

    def _resend_due(self, now: float) -> int:
        if self._next_due is None or now < self._next_due or self.paused:
            return 0
        due = sorted((w.tap for w in self._awaiting.values() if w.due <= now), key=lambda t: t.seq)
        sent = 0
        for tap in due:
            del self._awaiting[tap.id]
            if self._hand(tap) is None:  # paho is full: keep it, try at the next tick
                self._awaiting[tap.id] = _Awaiting(tap, now)
                break
            sent += 1
        self.counters["resent"] += sent
        if sent:
            log.info("sent again %d tap(s) the server has not confirmed", sent)
        waiting = [w.due for w in self._awaiting.values()]
        self._next_due = min(waiting) if waiting else None
        return sent

    def _probe_tick(self, now: float) -> bool:
        if self.paused_until is None or self._probe is not None or now < self.paused_until:
            return False
        if not self._refused:  # the refused taps were confirmed meanwhile
            self.paused_until = None
            return False
        oldest = min(self._refused.values(), key=lambda t: t.seq)
        mid = self._hand(oldest)
        if mid is not None:
            del self._refused[oldest.id]
            self._probe = mid
        return mid is not None

    # ------------------------------------------------------------------ outbox

    def flush(self) -> int:
        """Remove confirmed taps from the outbox, all in one transaction. On a disk
        error the ids are kept and removed at the next flush."""
        if not self._confirmed:
            return 0
        ids, self._confirmed = self._confirmed, []
        try:
            return self.outbox.remove(ids)
        except Exception:
            self._confirmed = ids + self._confirmed
            raise
