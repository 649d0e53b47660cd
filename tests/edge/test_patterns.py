"""Which signal the door shows: pure choices, no pins."""

from __future__ import annotations

import pytest

from edge.health import Health
from edge.patterns import PATTERNS, Signal, physical, signal_for_result, signal_without_answer
from edge.protocol import FeedbackResult, ReaderState


@pytest.mark.parametrize(
    ("result", "signal"),
    [
        (FeedbackResult.IN, Signal.IN),
        (FeedbackResult.OUT, Signal.OUT),
        (FeedbackResult.UNKNOWN_BADGE, Signal.UNKNOWN_BADGE),
        (FeedbackResult.REJECTED, Signal.REJECTED),
    ],
)
def test_the_server_answer_picks_the_signal(result: FeedbackResult, signal: Signal) -> None:
    assert signal_for_result(result) is signal


def test_without_an_answer_the_door_says_stored_or_queued() -> None:
    assert signal_without_answer(link_up=True, confirmed=True) is Signal.STORED
    assert signal_without_answer(link_up=True, confirmed=False) is Signal.QUEUED
    assert signal_without_answer(link_up=False, confirmed=False) is Signal.QUEUED


def test_every_signal_has_a_pattern_and_the_read_beep_is_short() -> None:
    assert set(PATTERNS) == set(Signal)
    assert PATTERNS[Signal.READ].seconds <= 0.1
    assert all(pattern.seconds <= 2.0 for pattern in PATTERNS.values())
    assert "buzzer" in PATTERNS[Signal.UNKNOWN_BADGE].steps[0].on
    assert PATTERNS[Signal.UNKNOWN_BADGE].steps[0].seconds >= 0.5  # a long beep


def test_amber_falls_back_to_green_and_red() -> None:
    assert physical(frozenset({"amber"}), has_amber=True) == {"amber"}
    assert physical(frozenset({"amber"}), has_amber=False) == {"green", "red"}


def test_health_reports_online_or_what_is_wrong() -> None:
    assert Health().state() == (ReaderState.ONLINE, "")
    state, detail = Health(nfc_ok=False, nfc_detail="NFC device usb: No such device").state()
    assert state is ReaderState.DEGRADED and detail == "NFC device usb: No such device"
    state, detail = Health(outbox_full=True, refused=3, refusal_reason="Not authorized").state()
    assert "outbox full" in detail and "Not authorized" in detail
    long = Health(nfc_ok=False, nfc_detail="x" * 300).state()[1]
    assert len(long) == 200
