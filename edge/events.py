"""What the agent's own thread is told by the NFC, MQTT and timer threads.

Callback threads (nfcpy, paho) only build one of these values and put it on the agent's
queue; every decision is taken on the agent's thread.
"""

from __future__ import annotations

from dataclasses import dataclass

from edge.protocol import Feedback


@dataclass(frozen=True, slots=True)
class BadgeSeen:
    """The NFC reader saw a tag (``at`` is ``time.monotonic()`` of the sighting).

    ``arriving`` is False for a tag still held on the reader or just leaving it: such a
    sighting extends the debounce window but never starts a tap."""

    uid: str
    at: float
    arriving: bool = True


@dataclass(frozen=True, slots=True)
class NfcHealthChanged:
    ok: bool
    detail: str = ""


@dataclass(frozen=True, slots=True)
class LinkConnected:
    pass


@dataclass(frozen=True, slots=True)
class LinkLost:
    reason: str


@dataclass(frozen=True, slots=True)
class PublishAcked:
    """The broker answered a publish; ``failed`` when its reason code is a failure
    (MQTT 5: 135 Not authorized, 151 Quota exceeded…; 16 No matching subscribers is not)."""

    mid: int
    failed: bool
    reason: str


@dataclass(frozen=True, slots=True)
class FeedbackArrived:
    feedback: Feedback


@dataclass(frozen=True, slots=True)
class StopRequested:
    pass


Event = (
    BadgeSeen
    | NfcHealthChanged
    | LinkConnected
    | LinkLost
    | PublishAcked
    | FeedbackArrived
    | StopRequested
)
