"""A door for the fault suite: the same :class:`edge.bootstrap.Door` as ``campus-edge``
(outbox, paho link, agent loop, gpiozero MockFactory pins, no NFC device), making the
taps of a :class:`~tests.faults.plan.Plan` when told to, at the plan's times.

    python -m tests.faults.door --config edge.toml --plan plan.json

The door's clock is the only part replaced: while a planned tap is handed over, it reads
the tap's planned time (the week of the plan), otherwise the wall clock. Taps are handed
over one at a time, as badges come, each after the door has recorded or refused the one
before. It resumes the plan after the last tap its outbox recorded, so a door killed
and restarted on the same outbox goes on where it stopped.

Commands on stdin, one a line; answers on stdout:

- ``feed N``: the next N planned taps; ``recorded INDEX SEQ`` or ``refused INDEX`` each
  (refused = the outbox could not take it and the red "refused" pattern played), then
  ``fed``;
- ``remove PATH``: delete a file (free disk space), then ``removed``;
- ``count``: ``count WAITING`` (taps still in the outbox);
- ``stop`` (or SIGTERM, or end of input): stop cleanly, then ``stopped``.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import signal
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

from gpiozero.pins.mock import MockFactory

from edge.bootstrap import Door
from edge.clock import WallClock
from edge.config import load_config
from edge.events import BadgeSeen
from tests.faults.plan import Plan

REFUSED_RED_FLASHES = 4  # edge.patterns.Signal.REFUSED: three short red flashes, one long


class PlannedClock(WallClock):
    """The wall clock, except while a planned tap is being recorded."""

    def __init__(self, zone: str) -> None:
        super().__init__(zone)
        self.planned: datetime | None = None

    def now(self) -> datetime:
        planned = self.planned
        return planned.astimezone(self.zone) if planned is not None else super().now()


class PlannedDoor:
    def __init__(self, config: str, plan: Plan) -> None:
        self.plan = plan
        self.pins = MockFactory()
        edge_config = load_config(config)
        self.door = Door(edge_config, pin_factory=self.pins, nfc=False, sync_check=lambda: True)
        self.clock = PlannedClock(edge_config.clock.timezone)
        self.door.clock = self.door.agent.clock = self.clock
        self.red = self.pins.pin(edge_config.feedback.red)
        first_seq = self.door.outbox.last_seq + 1
        self.next_index = first_seq  # one seq per recorded tap, no refusal before a kill
        self.next_seq = first_seq
        self.thread = threading.Thread(target=self.door.run, name="door")

    def feed(self, count: int) -> None:
        agent = self.door.agent
        for tap in self.plan.taps[self.next_index : self.next_index + count]:
            recorded, red_on = agent.counters["recorded"], self._red_rises()
            self.clock.planned = tap.ts
            self.door.events.put(BadgeSeen(tap.uid, tap.ts.timestamp()))
            deadline = time.monotonic() + 10
            while True:
                if agent.counters["recorded"] > recorded:
                    print(f"recorded {tap.index} {self.next_seq}", flush=True)
                    self.next_seq += 1
                    break
                if self._red_rises() - red_on >= REFUSED_RED_FLASHES:
                    print(f"refused {tap.index}", flush=True)
                    break
                if time.monotonic() > deadline:
                    print(f"lost {tap.index}", flush=True)  # neither recorded nor refused
                    break
                time.sleep(0.0005)
            self.clock.planned = None
            self.next_index += 1
        print("fed", flush=True)

    def _red_rises(self) -> int:
        states = [state.state for state in self.red.states]
        return sum(1 for before, after in itertools.pairwise(states) if after and not before)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True)
    parser.add_argument("--plan", required=True, type=Path)
    args = parser.parse_args()
    door = PlannedDoor(args.config, Plan.load(args.plan))
    signal.signal(signal.SIGTERM, _stop_reading)
    door.thread.start()
    print(f"ready {door.next_index}", flush=True)
    with contextlib.suppress(_Stop):
        _serve_commands(door)
    door.door.stop()
    door.thread.join(30)
    door.door.close()
    print("stopped", flush=True)


class _Stop(Exception):
    pass


def _stop_reading(*_: object) -> None:
    raise _Stop


def _serve_commands(door: PlannedDoor) -> None:
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == "feed":
            door.feed(int(words[1]))
        elif words[0] == "remove":
            Path(words[1]).unlink(missing_ok=True)
            print("removed", flush=True)
        elif words[0] == "count":
            print(f"count {door.door.outbox.count}", flush=True)
        elif words[0] == "stop":
            return


if __name__ == "__main__":
    main()
