"""Fault benchmark: what reaches the weekly figures when a part of the chain fails.

For each scenario of ``tests/faults/scenarios.py`` (the same code as the fault suite):
real Mosquitto (persistence on, ``campus.conf`` settings), real ``campus-presence serve``,
real influxd 1.x, and the real door agent (``edge.bootstrap.Door``, the same as
``campus-edge``) making N taps of students imported from a spreadsheet; a fault in the
middle. Prints one line per scenario: generated (taps the door recorded), stored (rows in
InfluxDB), counted (taps of students whose weekly hours in ``report weekly`` are exactly
right), lost, duplicates, drain time (from the end of the fault and the last tap to
everything stored and confirmed), and the reference: the same chain with no fault.

Run: ``python bench/faults.py [--taps 3000] [--scenario NAME ...] [--keep]``
(the disk-full scenario mounts a tmpfs: run as root).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.faults.rig import HEADER, Result
from tests.faults.scenarios import SCENARIOS, Scenario, run_scenario, scenario_folder


def no_fault(rig) -> None:
    """The reference: everything up, every tap made, nothing broken."""
    rig.start()
    rig.door.feed(len(rig.plan.taps))
    rig.restored()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--taps", type=int, default=3000)
    parser.add_argument("--scenario", action="append", choices=sorted(SCENARIOS))
    parser.add_argument("--drain-timeout", type=float, default=180.0)
    parser.add_argument("--keep", action="store_true", help="keep each scenario's folder")
    args = parser.parse_args()
    chosen = [Scenario("no-fault (reference)", no_fault)]
    chosen += [SCENARIOS[name] for name in args.scenario or SCENARIOS]
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"taps per run: {args.taps}; load average at start: {load}", flush=True)
    print(HEADER, flush=True)
    failed = 0
    for scenario in chosen:
        folder = scenario_folder()
        started = time.monotonic()
        try:
            result = run_scenario(scenario, folder, args.taps, drain_timeout=args.drain_timeout)
        except Exception as error:  # a scenario that cannot run is reported, the rest go on
            print(f"{scenario.name:<28} could not run: {error}", flush=True)
            failed += 1
            continue
        finally:
            if not args.keep:
                shutil.rmtree(folder, ignore_errors=True)
        print(result.row() + f"  ({time.monotonic() - started:.0f}s{_extra(result)})", flush=True)
        for problem in result.problems:
            print(f"    {problem}", flush=True)
        failed += not result.ok
    return 1 if failed else 0


def _extra(result: Result) -> str:
    return f", refused {result.refused} with red" if result.refused else ""


if __name__ == "__main__":
    sys.exit(main())
