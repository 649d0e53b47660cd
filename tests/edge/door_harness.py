"""The real door agent with a fake tag source, as a process a test can SIGKILL.

    python -m tests.edge.door_harness --config FILE --taps 200 --interval 0.002

Builds the same :class:`edge.bootstrap.Door` as ``campus-edge`` (outbox, paho link,
agent loop) with gpiozero's MockFactory pins and no NFC device; the "tag source" hands
``BadgeSeen`` events over as the NFC thread would, one new badge per tap, printing
``fed N`` after each. SIGTERM stops it cleanly.
"""

from __future__ import annotations

import argparse
import signal
import threading
import time

from gpiozero.pins.mock import MockFactory

from edge.bootstrap import Door
from edge.config import load_config
from edge.events import BadgeSeen


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True)
    parser.add_argument("--taps", type=int, default=0)
    parser.add_argument("--first", type=int, default=0, help="number of the first badge")
    parser.add_argument("--interval", type=float, default=0.002)
    parser.add_argument("--nfc", action="store_true", help="also poll the configured device")
    args = parser.parse_args()
    door = Door(load_config(args.config), pin_factory=MockFactory(), nfc=args.nfc)
    signal.signal(signal.SIGTERM, lambda *_: door.stop())
    thread = threading.Thread(target=door.run, name="door")
    thread.start()  # Door.run() also starts the NFC thread when there is one
    print("started", flush=True)
    for number in range(args.first, args.first + args.taps):
        door.events.put(BadgeSeen(f"04{number:012x}", time.monotonic()))
        print(f"fed {number}", flush=True)
        time.sleep(args.interval)
    print("fed all", flush=True)
    while thread.is_alive():
        thread.join(0.2)
    door.close()
    print("stopped", flush=True)


if __name__ == "__main__":
    main()
