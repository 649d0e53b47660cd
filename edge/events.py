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
    """The broker answered a publish with MQTT 5 reason ``code`` (0 with MQTT 3.1.1).

    ``failed`` when the code is a failure (>= 128: 135 Not authorized, 151 Quota
    exceeded…). A PUBACK is transport only: even code 0 does not mean the server has the
    tap, and 16 (No matching subscribers) means nobody received it."""

    mid: int
    failed: bool
    reason: str
    code: int = 0


@dataclass(frozen=True, slots=True)
class ConfirmArrived:
    """The server says these taps are stored (a v2 confirmation)."""

    ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class BadMessage:
    """A message on one of the reader's own topics that does not follow the contract
    (``kind``: ``confirm`` or ``feedback``; ``reason``: a protocol reason code)."""

    kind: str
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
    | ConfirmArrived
    | BadMessage
    | StopRequested
)
