"""Feedback patterns on gpiozero's MockFactory pins: the sequences each pattern drives."""

from __future__ import annotations

import itertools
import time

import pytest
from gpiozero.pins.mock import MockFactory

from edge.feedback import FeedbackError, FeedbackPlayer
from edge.patterns import Signal
from tests.edge.conftest import AMBER, BUZZER, GREEN, RED

OFF, ON = False, True


FAST = 10.0  # sequences are checked at 10x speed; durations at real speed


def player(pins: MockFactory, *, speed: float = FAST, **options) -> FeedbackPlayer:
    wiring = {"green": GREEN, "red": RED, "amber": AMBER, "buzzer": BUZZER} | options
    return FeedbackPlayer(**wiring, pin_factory=pins, speed=speed)


def states(pins: MockFactory, number: int) -> list[bool]:
    return [state.state for state in pins.pin(number).states]


def lasted(pins: MockFactory, number: int) -> list[tuple[bool, float]]:
    """Each state after the initial one, with how long it lasted (a mock pin's time stamp
    is the time since the previous change)."""
    history = pins.pin(number).states
    return [(a.state, b.timestamp) for a, b in itertools.pairwise(history[1:])]


@pytest.mark.parametrize(
    ("signal", "green", "red", "amber", "buzzer"),
    [
        (Signal.READ, [OFF], [OFF], [OFF], [OFF, ON, OFF]),
        (Signal.IN, [OFF, ON, OFF], [OFF], [OFF], [OFF]),
        (Signal.OUT, [OFF, ON, OFF, ON, OFF], [OFF], [OFF], [OFF]),
        (Signal.STORED, [OFF, ON, OFF], [OFF], [OFF], [OFF]),
        (Signal.QUEUED, [OFF], [OFF], [OFF, ON, OFF, ON, OFF], [OFF]),
        (Signal.UNKNOWN_BADGE, [OFF], [OFF, ON, OFF], [OFF], [OFF, ON, OFF]),
        (Signal.REJECTED, [OFF], [OFF, ON, OFF], [OFF], [OFF, ON, OFF, ON, OFF]),
        (Signal.REFUSED, [OFF], [OFF] + [ON, OFF] * 4, [OFF], [OFF] + [ON, OFF] * 3),
    ],
)
def test_each_pattern_drives_its_pins(
    pins: MockFactory, signal: Signal, green, red, amber, buzzer
) -> None:
    with player(pins) as door:
        door.play(signal)
        assert door.wait_idle(5)
        assert states(pins, GREEN) == green
        assert states(pins, RED) == red
        assert states(pins, AMBER) == amber
        assert states(pins, BUZZER) == buzzer


def test_the_unknown_badge_beep_is_long_and_the_read_beep_short(pins: MockFactory) -> None:
    with player(pins, speed=1.0) as door:
        door.play(Signal.READ)
        door.play(Signal.UNKNOWN_BADGE)
        assert door.wait_idle(5)
    (on1, read_beep), (off, _), (on2, long_beep) = lasted(pins, BUZZER)
    assert (on1, off, on2) == (ON, OFF, ON)
    assert 0.05 <= read_beep <= 0.15
    assert 0.75 <= long_beep <= 1.0


def test_the_read_beep_cuts_a_playing_pattern(pins: MockFactory) -> None:
    with player(pins) as door:
        door.play(Signal.UNKNOWN_BADGE)
        time.sleep(0.02)
        door.play(Signal.READ, preempt=True)
        door.play(Signal.IN)
        assert door.wait_idle(5)
        assert states(pins, RED) == [OFF, ON, OFF]
        assert lasted(pins, RED)[0][1] < 0.1  # cut well before its 0.15 s (at 10x)
        assert states(pins, BUZZER) == [OFF, ON, OFF, ON, OFF]  # long beep cut, then read
        assert states(pins, GREEN) == [OFF, ON, OFF]  # IN played after the read beep
        assert list(door.played) == [Signal.UNKNOWN_BADGE, Signal.READ, Signal.IN]


def test_without_an_amber_led_queued_lights_green_and_red(pins: MockFactory) -> None:
    with player(pins, amber=None) as door:
        door.play(Signal.QUEUED)
        assert door.wait_idle(5)
    assert states(pins, GREEN) == [OFF, ON, OFF, ON, OFF]
    assert states(pins, RED) == [OFF, ON, OFF, ON, OFF]


def test_active_low_wiring_inverts_the_pins(pins: MockFactory) -> None:
    with player(pins, active_high=False) as door:
        door.play(Signal.IN)
        assert door.wait_idle(5)
    # the mock pin starts low; active-low "off" drives it high, "on" low
    assert states(pins, GREEN) == [False, True, False, True]


def test_a_fault_plays_then_flashes_red_until_cleared(pins: MockFactory) -> None:
    with player(pins) as door:
        door.set_fault(True)
        time.sleep(0.5)  # fault pattern (0.06 s at 10x) + a few idle flashes (every 0.2 s)
        door.set_fault(False)
        time.sleep(0.05)
        assert Signal.FAULT in door.played
        red = states(pins, RED)
        assert red[:5] == [OFF, ON, OFF, ON, OFF]  # the fault pattern's two red beeps
        assert len(red) >= 7  # ... then the repeating short flash
        assert red[-1] is OFF and states(pins, BUZZER)[:5] == [OFF, ON, OFF, ON, OFF]
        before = len(states(pins, RED))
        time.sleep(0.3)
        assert len(states(pins, RED)) == before  # no more flashes once cleared


def test_a_tap_during_a_fault_is_not_delayed_by_the_idle_flash(pins: MockFactory) -> None:
    with player(pins, speed=1.0) as door:
        door.set_fault(True)
        assert door.wait_idle(5)
        time.sleep(0.2)  # in the 1.9 s pause of the idle flash
        start = time.monotonic()
        door.play(Signal.READ, preempt=True)
        while states(pins, BUZZER)[-1] is OFF and time.monotonic() - start < 1:
            time.sleep(0.001)
        assert time.monotonic() - start < 0.05


def test_text_lines_go_to_the_display_hook(pins: MockFactory) -> None:
    lines: list[str] = []
    with player(pins, display=lines.append) as door:
        door.show_text("Bonjour Camille")
    assert lines == ["Bonjour Camille"]


def test_close_is_idempotent_and_turns_everything_off(pins: MockFactory) -> None:
    door = player(pins, speed=1.0)
    door.play(Signal.IN)
    time.sleep(0.05)
    door.close()
    door.close()
    assert states(pins, GREEN)[-1] is OFF
    assert "closed" in repr(door)


def test_disabled_feedback_drives_no_pin(pins: MockFactory) -> None:
    with FeedbackPlayer(green=GREEN, enabled=False, pin_factory=pins, speed=FAST) as door:
        door.play(Signal.IN)
        assert door.wait_idle(5)
    assert states(pins, GREEN) == [OFF]  # the mock pin was never claimed


def test_a_pin_in_use_is_a_feedback_error(pins: MockFactory) -> None:
    with player(pins), pytest.raises(FeedbackError, match="cannot drive feedback pins"):
        player(pins)
