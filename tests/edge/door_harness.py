"""The real door agent with a fake tag source, as a process a test can SIGKILL.

    python -m tests.edge.door_harness --config FILE --taps 200 --interval 0.002
    python -m tests.edge.door_harness --config FILE --commands   # driven through stdin

Builds the same :class:`edge.bootstrap.Door` as ``campus-edge`` (outbox, paho link,
agent loop) with gpiozero's MockFactory pins and no NFC device (``--nfc``: also poll the
configured nfcpy device); the "tag source" hands ``BadgeSeen`` events over as the NFC
thread would, one new badge per tap, printing ``fed N`` after each (``--quiet``: only
``fed all``; ``--lead N``: never more than N taps ahead of the agent, as an NFC thread
that hands over a few sightings a second). SIGTERM stops it cleanly.

The pins are :class:`QuietMockPin`: gpiozero's mock pins without their history of state
changes (``MockPin.states`` grows by two entries a tap, forever: a test artefact that a
real pin does not have, and that would be counted as the agent's memory).

With ``--commands`` the harness reads lines from stdin: ``feed N`` hands N more taps
over (then prints ``fed all``), ``memory`` prints where its memory is (see
:func:`memory_report`), ``stop`` stops the door.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
import tracemalloc
from pathlib import Path

from gpiozero.pins.mock import MockFactory, MockPin

from edge.bootstrap import Door
from edge.config import load_config
from edge.events import BadgeSeen


class QuietMockPin(MockPin):
    """A mock pin that keeps its current state only, like a real pin."""

    def _change_state(self, value: bool) -> bool:
        if self._state == value:
            return False
        self._state = value
        self._last_change = time.monotonic()
        return True


def handled(door: Door) -> int:
    """Taps the agent has recorded or refused (read across threads: plain integers)."""
    return door.agent.counters["recorded"] + door.agent.counters["refused_taps"]


def feed(door: Door, first: int, count: int, interval: float, *, lead: int, verbose: bool) -> None:
    """Hand ``count`` new badges over; with ``lead``, never more than ``lead`` ahead of
    what the agent has handled (an NFC thread hands over a few sightings a second: a
    backlog of events in memory would be the harness's, not the agent's)."""
    start = handled(door)
    for number in range(first, first + count):
        while lead and number - first - (handled(door) - start) >= lead:
            time.sleep(0.001)
        door.events.put(BadgeSeen(f"04{number:012x}", time.monotonic()))
        if verbose:
            print(f"fed {number}", flush=True)
        time.sleep(interval)
    print("fed all", flush=True)


def memory_report() -> None:
    """``/proc/self/status`` figures, then (under ``PYTHONTRACEMALLOC=1``) the source lines
    holding the most Python memory; ends with a line ``memory end``."""
    with Path("/proc/self/status").open() as status:
        for line in status:
            if line.startswith(("VmRSS", "VmHWM", "RssAnon", "RssFile", "Threads")):
                print(" ".join(line.split()), flush=True)
    if tracemalloc.is_tracing():
        snapshot = tracemalloc.take_snapshot()
        for stat in snapshot.statistics("lineno")[:25]:
            print(stat, flush=True)
    print("memory end", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True)
    parser.add_argument("--taps", type=int, default=0)
    parser.add_argument("--first", type=int, default=0, help="number of the first badge")
    parser.add_argument("--interval", type=float, default=0.002)
    parser.add_argument("--nfc", action="store_true", help="also poll the configured device")
    parser.add_argument("--quiet", action="store_true", help="no 'fed N' line per tap")
    parser.add_argument("--commands", action="store_true", help="read commands from stdin")
    parser.add_argument("--lead", type=int, default=0, help="max taps fed ahead (0: no limit)")
    args = parser.parse_args()
    factory = MockFactory(pin_class=QuietMockPin)
    door = Door(load_config(args.config), pin_factory=factory, nfc=args.nfc)
    signal.signal(signal.SIGTERM, lambda *_: door.stop())
    thread = threading.Thread(target=door.run, name="door")
    thread.start()  # Door.run() also starts the NFC thread when there is one
    print("started", flush=True)
    first = args.first
    if args.taps or not args.commands:
        feed(door, first, args.taps, args.interval, lead=args.lead, verbose=not args.quiet)
        first += args.taps
    if args.commands:
        for line in sys.stdin:
            word, _, number = line.partition(" ")
            if word == "feed":
                feed(
                    door, first, int(number), args.interval, lead=args.lead, verbose=not args.quiet
                )
                first += int(number)
            elif word.strip() == "memory":
                memory_report()
            elif word.strip() == "stop":
                door.stop()
                break
    while thread.is_alive():
        thread.join(0.2)
    door.close()
    print("stopped", flush=True)


if __name__ == "__main__":
    main()
