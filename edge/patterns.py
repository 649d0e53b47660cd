"""What the door shows and sounds, as data: pure, so the choice can be tested without pins.

A :class:`Pattern` is a list of steps; each step says which outputs are on and for how
long, everything else is off. Output names are ``green``, ``red``, ``amber`` and
``buzzer``; a reader wired without an amber LED shows amber as green + red together.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from edge.protocol import FeedbackResult

OUTPUTS = ("green", "red", "amber", "buzzer")


class Signal(StrEnum):
    READ = "read"  # a badge was read: immediate short beep, before anything else
    IN = "in"
    OUT = "out"
    STORED = "stored"  # the broker has the tap but the server did not answer in time
    QUEUED = "queued"  # kept on the reader while the network is down
    UNKNOWN_BADGE = "unknown_badge"
    REJECTED = "rejected"
    REFUSED = "refused"  # the outbox is full: this tap was NOT recorded
    FAULT = "fault"  # the reader itself is not working (NFC device lost)


@dataclass(frozen=True, slots=True)
class Step:
    seconds: float
    on: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Pattern:
    signal: Signal | None
    steps: tuple[Step, ...]

    @property
    def seconds(self) -> float:
        return sum(step.seconds for step in self.steps)


def _p(signal: Signal | None, *steps: tuple[float, str]) -> Pattern:
    return Pattern(signal, tuple(Step(s, frozenset(on.split())) for s, on in steps))


PATTERNS: dict[Signal, Pattern] = {
    Signal.READ: _p(Signal.READ, (0.06, "buzzer")),
    Signal.IN: _p(Signal.IN, (1.0, "green")),
    Signal.OUT: _p(Signal.OUT, (0.3, "green"), (0.15, ""), (0.3, "green")),
    Signal.STORED: _p(Signal.STORED, (0.4, "green")),
    Signal.QUEUED: _p(Signal.QUEUED, (0.25, "amber"), (0.15, ""), (0.25, "amber")),
    Signal.UNKNOWN_BADGE: _p(Signal.UNKNOWN_BADGE, (0.8, "red buzzer"), (0.7, "red")),
    Signal.REJECTED: _p(
        Signal.REJECTED, (0.1, "red buzzer"), (0.1, "red"), (0.1, "red buzzer"), (0.7, "red")
    ),
    Signal.REFUSED: _p(
        Signal.REFUSED,
        *[(0.1, "red buzzer"), (0.1, "")] * 3,
        (0.6, "red"),
    ),
    Signal.FAULT: _p(Signal.FAULT, (0.2, "red buzzer"), (0.2, ""), (0.2, "red buzzer")),
}

# Played in a loop while nothing else is: a short red flash every 2 s says "out of order".
FAULT_IDLE = _p(None, (0.1, "red"), (1.9, ""))

_RESULTS = {
    FeedbackResult.IN: Signal.IN,
    FeedbackResult.OUT: Signal.OUT,
    FeedbackResult.UNKNOWN_BADGE: Signal.UNKNOWN_BADGE,
    FeedbackResult.REJECTED: Signal.REJECTED,
}


def signal_for_result(result: FeedbackResult) -> Signal:
    """The server's answer to a tap, as the door shows it."""
    return _RESULTS[result]


def signal_without_answer(*, link_up: bool, confirmed: bool) -> Signal:
    """What to show when the server's answer did not come in time (or cannot come).

    The tap is safe either way (it is on the reader's disk); the student only needs to
    know whether the server has confirmed storing it (``STORED``) or the reader still
    holds it (``QUEUED``)."""
    return Signal.STORED if link_up and confirmed else Signal.QUEUED


def physical(on: frozenset[str], *, has_amber: bool) -> frozenset[str]:
    """Map logical outputs onto the wired ones (amber = green + red without an amber LED)."""
    if "amber" in on and not has_amber:
        return (on - {"amber"}) | {"green", "red"}
    return on
