"""``campus-presence check-absences --at <past instant>`` judges the door readers on the
status history stored for that instant (issue 12): statuses the readers stamped then,
even when the server received them later (queued by the broker during a server outage),
so a replay raises the absence instead of holding every slot as "reader down"."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from server.adapters.sqlite_events import SqliteEventStore
from server.config import load_settings
from server.domain.events import ReaderStatusRecord
from server.entrypoints import alert_commands, presence_commands
from tests.integration.registry.conftest import ROW_E001, SECRET, TOKEN, csv_bytes

PARIS = ZoneInfo("Europe/Paris")
SLOT_CHECKED = "2026-11-23T09:16:00+01:00"  # E001's Monday slot 09:00-12:00, grace 15 min
BACK_ONLINE = datetime(2026, 11, 23, 12, tzinfo=PARIS)  # the server got the history then


def _run(config: Path, *argv: str) -> int:
    parser = argparse.ArgumentParser(prog="campus-presence")
    parser.add_argument("--config", type=Path, default=None)
    commands = parser.add_subparsers(dest="command", required=True)
    presence_commands.add_commands(commands)
    alert_commands.add_commands(commands)
    args = parser.parse_args(["--config", str(config), *argv])
    return args.handler(args)


@pytest.fixture
def config(tmp_path, monkeypatch, capsys) -> Path:
    monkeypatch.setenv("CAMPUS_BADGES_HASH_SECRET", SECRET)
    monkeypatch.setenv("CAMPUS_SERVER_API_TOKEN", TOKEN)
    path = tmp_path / "campus.toml"
    path.write_text(
        f'[server]\ndata_dir = "{tmp_path / "var"}"\n\n'
        '[[campus]]\nid = "campus-a"\nname = "Campus A"\nreaders = ["door-1"]\n',
        encoding="utf-8",
    )
    sheet = tmp_path / "students.csv"
    sheet.write_bytes(csv_bytes(ROW_E001))
    assert _run(path, "import-students", str(sheet), "--now", "2026-09-10T10:00:00+02:00") == 0
    capsys.readouterr()
    return path


def _history(config: Path, *, received_at: datetime | None) -> None:
    """door-1's heartbeats stamped every minute from 08:00 to 09:16, all received at
    ``received_at`` (a burst after an outage), or each as it was stamped (None)."""
    store = SqliteEventStore(load_settings(config).events_sqlite_path)
    store.setup()
    moment, records = datetime(2026, 11, 23, 8, tzinfo=PARIS).astimezone(UTC), []
    while moment <= datetime(2026, 11, 23, 9, 16, tzinfo=PARIS):
        seen = received_at or moment
        records.append(ReaderStatusRecord("campus-a", "door-1", "online", moment, seen))
        moment += timedelta(seconds=60)
    store.write_statuses(records)
    store.close()


def test_a_replay_uses_the_status_history_received_after_the_fact(config, capsys) -> None:
    _history(config, received_at=BACK_ONLINE)
    assert _run(config, "check-absences", "--at", SLOT_CHECKED) == 0
    (line,) = _lines_of_the_slot(capsys.readouterr().out)
    assert line.startswith("absence constatée : E001"), line


def test_without_any_history_for_the_instant_the_slot_is_held(config, capsys) -> None:
    assert _run(config, "check-absences", "--at", SLOT_CHECKED) == 0
    (line,) = _lines_of_the_slot(capsys.readouterr().out)
    assert line.startswith("retenue, lecteur de porte en panne : E001"), line


def _lines_of_the_slot(out: str) -> list[str]:
    """What the command says of Monday's slot (the previous Friday's has no history)."""
    return [line for line in out.splitlines() if "2026-11-23T08:00:00+00:00" in line]
