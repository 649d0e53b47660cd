"""The fault scenarios of issue 12, shared by ``tests/faults`` and ``bench/faults.py``.

Each one starts the real parts (Mosquitto, influxd, ``campus-presence serve``, the door),
makes the plan's taps at the door with a fault in the middle, waits until everything
drained, and returns a :class:`~tests.faults.rig.Result`: generated, stored, counted,
lost, duplicates, drain time. Most faults strike mid-stream: while the door is making
the middle third of the taps.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from tests.faults.plan import frozen_week
from tests.faults.processes import ScenarioError, wait_for
from tests.faults.rig import Result, Rig

DRAIN_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class Scenario:
    name: str
    run: Callable[[Rig], None]
    slow: bool = False
    frozen_week: bool = False
    small_disk: bool = False


def _mid_stream(rig: Rig, fault: Callable[[], None]) -> None:
    """A third of the taps, then ``fault`` while the door makes the second third."""
    third = max(1, len(rig.plan.taps) // 3)
    rig.door.feed(third)
    rig.door.feed(third, wait=False)
    rig.door.wait_made(third + third // 2)
    fault()
    rig.door.wait_fed()


def _finish(rig: Rig) -> None:
    """The rest of the taps, with everything running again."""
    rig.door.feed(len(rig.plan.taps))
    rig.restored()


def broker_kill(rig: Rig) -> None:
    rig.start()
    _mid_stream(rig, rig.broker.kill)
    time.sleep(5)  # the broker is away 5 s, as in the measure
    rig.broker.start()
    _finish(rig)


def broker_stop(down_s: float) -> Callable[[Rig], None]:
    def run(rig: Rig) -> None:
        rig.start()
        _mid_stream(rig, rig.broker.stop)
        time.sleep(down_s)
        rig.broker.start()
        _finish(rig)

    return run


def serve_kill(rig: Rig) -> None:
    rig.start()
    serve = rig.serves[0]
    _mid_stream(rig, serve.kill)
    time.sleep(2)
    rig.start_serve(serve)
    _finish(rig)


def serve_past_expiry(rig: Rig) -> None:
    """Session expiry 5 s; serve stopped cleanly for 10 s while taps keep coming (the
    middle third, spread over the 10 s)."""
    rig.start(session_expiry=5)
    serve = rig.serves[0]
    third = max(1, len(rig.plan.taps) // 3)
    rig.door.feed(third)
    serve.stop()
    down_until = time.monotonic() + 10
    for slice_number in range(10):
        rig.door.feed(third // 10 + (third % 10 if slice_number == 9 else 0))
        time.sleep(max(0.0, down_until - (9 - slice_number) - time.monotonic()))
    rig.start_serve(serve)
    _finish(rig)


def influxd_kill(rig: Rig) -> None:
    rig.start()
    _mid_stream(rig, rig.influxd.kill)
    time.sleep(3)
    rig.influxd.start()
    _finish(rig)


def agent_kill(rig: Rig) -> None:
    """The door cut off from the network with a backlog, killed (SIGKILL) while making
    taps, then restarted on the same outbox with the network back."""
    rig.start(door=False)
    rig.door.start(offline=True)
    half = len(rig.plan.taps) // 2
    rig.door.feed(half, wait=False)
    rig.door.wait_made(half // 2)
    rig.door.kill()
    rig.door.start()
    _finish(rig)


def before_first_connection(rig: Rig) -> None:
    """Every tap made before ``serve`` ever connected to the broker."""
    rig.start(serve=False)
    rig.door.feed(len(rig.plan.taps))
    with contextlib.suppress(ScenarioError):  # the door sent what it could
        wait_for(lambda: rig.door.waiting() == 0, 10, "the door's outbox to empty", 0.5)
    rig.start_serve(rig.serves[0])
    rig.restored()


def two_workers(rig: Rig) -> None:
    """Two ``serve`` on the shared subscription; one killed mid-stream, for good."""
    rig.start()
    second = rig.add_serve()
    rig.start_serve(second)
    wait_for(lambda: "connected to MQTT broker" in second.log.read_text(), 30, "the second worker")
    _mid_stream(rig, second.kill)
    _finish(rig)


def late_backlog(rig: Rig) -> None:
    """Three weeks back: the week is frozen by ``serve``'s job before the door, cut off
    from the network since then, delivers its backlog."""
    rig.start(door=False)
    registry = rig.data_dir / "registry.sqlite3"
    wait_for(
        lambda: _frozen(registry, str(rig.plan.week)) >= len(rig.plan.students),
        60,
        f"the job to freeze {rig.plan.week}",
        0.5,
    )
    rig.door.start(offline=True)  # cut off since that week: its taps wait at the door
    rig.door.feed(len(rig.plan.taps))
    rig.door.stop()
    rig.door.start()  # back on the network
    rig.restored()


def _frozen(registry: Path, week: str) -> int:
    with contextlib.closing(sqlite3.connect(registry, timeout=5)) as db:
        try:
            return db.execute(
                "SELECT COUNT(*) FROM weekly_records WHERE week = ?", (week,)
            ).fetchone()[0]
        except sqlite3.OperationalError:
            return 0


def disk_full(rig: Rig) -> None:
    """The outbox's disk fills up (a 8 MiB tmpfs and a ballast file): the door must
    refuse taps with its red pattern, never drop one silently; once space is freed it
    records again, and what it recorded arrives."""
    rig.start()
    ballast = rig.outbox.parent / "ballast"
    free = os.statvfs(rig.outbox.parent)
    ballast.write_bytes(b"\0" * max(0, free.f_bavail * free.f_frsize - 48 * 1024))
    total = len(rig.plan.taps)
    while len(rig.door.refused) < 3 and len(rig.door.recorded) + len(rig.door.refused) < total:
        rig.door.feed(5)
    if not rig.door.refused:
        raise ScenarioError("the outbox never filled its disk")
    rig.door.remove(ballast)
    _finish(rig)


SCENARIOS: dict[str, Scenario] = {
    scenario.name: scenario
    for scenario in (
        Scenario("broker-kill-9", broker_kill),
        Scenario("broker-stop-5s", broker_stop(5)),
        Scenario("broker-stop-60s", broker_stop(60), slow=True),
        Scenario("serve-kill-9", serve_kill),
        Scenario("serve-past-session-expiry", serve_past_expiry, slow=True),
        Scenario("influxd-kill-9", influxd_kill),
        Scenario("agent-kill-9-backlog", agent_kill),
        Scenario("before-first-connection", before_first_connection),
        Scenario("two-workers-one-killed", two_workers, slow=True),
        Scenario("late-backlog-frozen-week", late_backlog, frozen_week=True),
        Scenario("outbox-disk-full", disk_full, small_disk=True),
    )
}


def run_scenario(
    scenario: Scenario, folder: Path, taps: int, *, drain_timeout: float = DRAIN_TIMEOUT_S
) -> Result:
    """Run one scenario in ``folder`` (mode 0755) and measure it."""
    now = datetime.now(UTC)
    week = frozen_week(now) if scenario.frozen_week else None
    with contextlib.ExitStack() as stack:
        outbox = None
        if scenario.small_disk:
            outbox = stack.enter_context(small_disk(folder / "door-disk")) / "outbox.sqlite3"
        rig = stack.enter_context(Rig(folder, taps, week=week, now=now, outbox=outbox))
        scenario.run(rig)
        drain_s = rig.drain(drain_timeout)
        result = rig.result(scenario.name, drain_s)
        if scenario.small_disk and not result.refused:
            result.problems.append("no tap was refused: the disk never filled")
        return result


@contextlib.contextmanager
def small_disk(path: Path, size: str = "8m") -> Iterator[Path]:
    """A tmpfs of ``size`` mounted on ``path`` (needs root, or CAP_SYS_ADMIN)."""
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        raise ScenarioError(
            f"the disk-full scenario mounts a small tmpfs and could not: {mounted.stderr.strip()}"
            " (run it as root, e.g. under sudo in CI)"
        )
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True, check=False)


def scenario_folder(prefix: str = "campus-faults-") -> Path:
    """A fresh folder Mosquitto can use after dropping root (not under a 0700 parent)."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    folder.chmod(0o755)
    return folder
