"""One fault scenario's world and its bookkeeping: generated = stored = counted.

- *generated*: taps the door recorded (its outbox gave them a seq), by planned index;
- *stored*: rows in InfluxDB's ``taps`` measurement for the door (HTTP ``/query``);
- *counted*: taps of the students whose attended hours in ``campus-presence report
  weekly --format json`` are exactly the hours their recorded taps make;
- *lost*: generated seqs with no stored row; *duplicates*: stored rows beyond one per
  tap id, plus tap ids beyond one per seq, plus rows for no generated seq.
"""

from __future__ import annotations

import contextlib
import json
import time
import urllib.parse
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from server.domain.calendar import IsoWeek
from tests.faults.plan import Plan, last_week, make_plan
from tests.faults.processes import (
    CAMPUS,
    READER,
    CampusBroker,
    DoorProcess,
    ScenarioError,
    Serve,
    edge_config,
    wait_for,
)
from tests.services import Influxd, free_port

SETTLE_S = 5.0  # nothing left at the door and nothing new stored for this long: drained


@dataclass
class Result:
    scenario: str
    planned: int  # taps the door was asked to make
    generated: int
    stored: int
    counted: int
    lost: int
    duplicates: int
    drain_s: float | None  # None: did not drain before the deadline
    refused: int = 0
    silent: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def row(self) -> str:
        drain = "-" if self.drain_s is None else f"{self.drain_s:.1f}"
        verdict = "ok" if self.ok else "FAIL"
        return (
            f"{self.scenario:<28} {self.generated:>9} {self.stored:>7} {self.counted:>7} "
            f"{self.lost:>5} {self.duplicates:>10} {drain:>8}  {verdict}"
        )


HEADER = (
    f"{'scenario':<28} {'generated':>9} {'stored':>7} {'counted':>7} {'lost':>5} "
    f"{'duplicates':>10} {'drain_s':>8}  verdict"
)


class Rig:
    """Broker, influxd, one or more ``serve`` and the door for one scenario, in
    ``folder`` (mode 0755: Mosquitto opens its files after dropping root); a context
    manager that stops whatever is still running."""

    def __init__(
        self,
        folder: Path,
        taps: int,
        *,
        week: IsoWeek | None = None,
        now: datetime | None = None,
        outbox: Path | None = None,
    ) -> None:
        self.folder = folder
        self.now = now or datetime.now(UTC)
        self.plan: Plan = make_plan(taps, week or last_week(self.now))
        self.plan_file = folder / "plan.json"
        self.plan_file.write_text(self.plan.to_json())
        self.data_dir = folder / "data"
        self.broker = CampusBroker(folder / "mosquitto")
        self.influxd = Influxd(folder / "influxd")
        self.serves: list[Serve] = []
        self.outbox = outbox or folder / "outbox.sqlite3"
        config = edge_config(folder / "edge.toml", broker_port=self.broker.port, outbox=self.outbox)
        offline = edge_config(
            folder / "edge-offline.toml", broker_port=free_port(), outbox=self.outbox
        )
        self.door = DoorProcess(config, offline, self.plan_file, folder / "door.log")
        self.restored_at: float | None = None  # when the fault ended (drain starts)

    # ------------------------------------------------------------------ processes

    def __enter__(self) -> Rig:
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(Exception):
            self.door.stop()
        self.door.kill()
        for serve in self.serves:
            serve.stop()
        self.broker.stop()
        self.influxd.stop()

    def add_serve(self, *, session_expiry: int | None = None) -> Serve:
        serve = Serve(
            self.folder / "serve",
            data_dir=self.data_dir,
            broker_port=self.broker.port,
            influx_url=self.influxd.url,
            client_id=f"fault-ingest-{len(self.serves) + 1}",
            session_expiry=session_expiry,
        )
        self.serves.append(serve)
        return serve

    def import_students(self, serve: Serve) -> None:
        """The coordinator's spreadsheet, imported before the plan's week."""
        monday = self.plan.week.monday
        sheet = self.folder / "students.csv"
        start = monday - timedelta(days=28)
        sheet.write_bytes(self.plan.csv(contract_start=start, contract_end=_in_months(self.now)))
        imported_at = f"{start.isoformat()}T08:00:00+01:00"
        answer = serve.cli("import-students", str(sheet), "--now", imported_at)
        if answer.returncode != 0:
            raise ScenarioError(f"import-students failed: {answer.stdout}{answer.stderr}")

    def start(self, *, serve: bool = True, door: bool = True, **serve_options: int) -> None:
        """Broker, influxd, the students, ``serve`` (subscribed) and the door."""
        self.broker.start()
        self.influxd.start()
        first = self.add_serve(**serve_options)
        self.import_students(first)
        if serve:
            self.start_serve(first)
        if door:
            self.door.start()

    def start_serve(self, serve: Serve) -> None:
        serve.start()
        if self.broker.running:
            self.wait_subscribed()

    def wait_subscribed(self) -> None:
        topic = f"campus/{CAMPUS}/readers/fault-probe/status"
        wait_for(lambda: self.broker.someone_subscribed(topic), 60, "serve's subscription", 0.5)

    def restored(self) -> None:
        """The fault is over: the drain time counts from now."""
        self.restored_at = time.monotonic()

    # ------------------------------------------------------------------ measures

    def stored_rows(self) -> list[tuple[str, int]]:
        """(tap id, seq) of every row stored for the door."""
        query = f"SELECT tap_id, seq FROM taps WHERE campus = '{CAMPUS}' AND reader = '{READER}'"
        url = f"{self.influxd.url}/query?" + urllib.parse.urlencode(
            {"db": "campus", "q": query, "epoch": "ms"}
        )
        try:
            with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310
                body = json.load(answer)
        except OSError:
            return []  # influxd down: nothing readable yet
        result = body.get("results", [{}])[0]
        rows: list[tuple[str, int]] = []
        for series in result.get("series", []):
            names = series["columns"]
            for values in series["values"]:
                row = dict(zip(names, values, strict=True))
                if row["tap_id"] is None or row["seq"] is None:
                    # influxd 1.6 answers a query that meets a write under way with the
                    # point's fields not all there yet (as the adapter's reads know,
                    # influx_lines.tap_rows_complete): the next poll reads it whole.
                    continue
                rows.append((row["tap_id"], int(row["seq"])))
        return rows

    def drain(self, timeout: float = 120.0) -> float | None:
        """Wait until every generated tap is stored and the door holds nothing (or the
        door holds nothing and nothing new is stored for SETTLE_S); seconds since
        :meth:`restored`, None if ``timeout`` passed first."""
        start = self.restored_at if self.restored_at is not None else time.monotonic()
        deadline = time.monotonic() + timeout
        last_count, still_since = -1, time.monotonic()
        while time.monotonic() < deadline:
            generated = set(self.door.recorded.values())
            stored = self.stored_rows()
            waiting = self.door.waiting() if self.door.running else -1
            if generated <= {seq for _, seq in stored} and waiting == 0:
                return time.monotonic() - start
            if len(stored) != last_count:
                last_count, still_since = len(stored), time.monotonic()
            elif waiting == 0 and time.monotonic() - still_since >= SETTLE_S:
                return still_since - start
            time.sleep(0.25)
        return None

    def weekly_hours(self) -> dict[str, float]:
        serve = self.serves[0]
        answer = serve.cli("report", "weekly", "--week", str(self.plan.week), "--format", "json")
        if answer.returncode != 0:
            raise ScenarioError(f"report weekly failed: {answer.stderr}")
        report = json.loads(answer.stdout)
        return {line["student_id"]: line["attended_hours"] for line in report["students"]}

    def result(self, scenario: str, drain_s: float | None) -> Result:
        time.sleep(1.0)  # a late redelivery would show up as a duplicate
        recorded = dict(self.door.recorded)
        seqs = set(recorded.values())
        rows = self.stored_rows()
        ids = Counter(tap_id for tap_id, _ in rows)
        ids_by_seq: dict[int, set[str]] = {}
        for tap_id, seq in rows:
            ids_by_seq.setdefault(seq, set()).add(tap_id)
        stored_seqs = set(ids_by_seq)
        duplicates = (
            (len(rows) - len(ids))
            + sum(len(found) - 1 for found in ids_by_seq.values())
            + len(stored_seqs - seqs)
        )
        lost = len(seqs - stored_seqs)
        expected = self.plan.expected_seconds(recorded)
        hours = self.weekly_hours()
        taps_of = Counter(self.plan.taps[index].student for index in recorded)
        wrong = {
            student: (hours.get(student), round(seconds / 3600, 2))
            for student, seconds in expected.items()
            if hours.get(student) != round(seconds / 3600, 2)
        }
        counted = sum(n for student, n in taps_of.items() if student not in wrong)
        result = Result(
            scenario,
            planned=len(recorded) + len(self.door.refused) + len(self.door.silent),
            generated=len(recorded),
            stored=len(stored_seqs & seqs),
            counted=counted,
            lost=lost,
            duplicates=duplicates,
            drain_s=drain_s,
            refused=len(self.door.refused),
            silent=len(self.door.silent),
        )
        if lost:
            result.problems.append(f"{lost} of {len(seqs)} taps never stored")
        if duplicates:
            result.problems.append(f"{duplicates} duplicate rows")
        if wrong:
            sample = dict(list(wrong.items())[:5])
            result.problems.append(
                f"{len(wrong)} students' hours differ (reported, expected): {sample}"
            )
        if result.silent:
            result.problems.append(f"{result.silent} taps neither recorded nor refused")
        if drain_s is None:
            result.problems.append("did not drain before the deadline")
        return result


def _in_months(now: datetime) -> date:
    return (now + timedelta(days=180)).date()
