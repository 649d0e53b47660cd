"""The weekly report through the command line and the JSON API (Flask test client)."""

import argparse
import csv
import io
import json
from datetime import UTC, date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from server.adapters.sqlite_events import SqliteEventStore
from server.config import load_settings
from server.container import Services
from server.entrypoints import presence_commands
from server.registry.database import open_registry
from server.registry.presence_store import presence_unit_of_work
from server.services.presence.ledger import LedgerService
from server.services.presence.presence import PresenceService
from server.web.app import create_app
from tests.integration.registry.conftest import (
    ROW_E001,
    ROW_E002,
    SECRET,
    TOKEN,
    UID_E001,
    TapWriter,
    csv_bytes,
)

PARIS = ZoneInfo("Europe/Paris")
MON = date(2026, 11, 23)
NOW = "2026-12-01T12:00:00+01:00"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="campus-presence")
    parser.add_argument("--config", type=Path, default=None)
    presence_commands.add_commands(parser.add_subparsers(dest="command", required=True))
    return parser


def _run(config: Path, *argv: str) -> int:
    args = _parser().parse_args(["--config", str(config), *argv])
    return args.handler(args)


@pytest.fixture
def config(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("CAMPUS_BADGES_HASH_SECRET", SECRET)
    monkeypatch.setenv("CAMPUS_SERVER_API_TOKEN", TOKEN)
    path = tmp_path / "campus.toml"
    path.write_text(
        f'[server]\ndata_dir = "{tmp_path / "var"}"\n\n'
        '[[campus]]\nid = "campus-a"\nname = "Campus A"\nreaders = ["door-1"]\n',
        encoding="utf-8",
    )
    return path


@pytest.fixture
def imported(config, tmp_path, capsys) -> Path:
    sheet = tmp_path / "students.csv"
    sheet.write_bytes(csv_bytes(ROW_E001, ROW_E002))
    assert _run(config, "import-students", str(sheet), "--now", "2026-09-10T10:00:00+02:00") == 0
    capsys.readouterr()
    settings = load_settings(config)
    store = SqliteEventStore(settings.events_sqlite_path)
    store.setup()
    writer = TapWriter(store)
    for hour in (9, 12):
        writer.tap(UID_E001, datetime.combine(MON, time(hour), tzinfo=PARIS))
    store.close()
    return config


def test_import_command_dry_run_and_bad_rows(config, tmp_path, capsys) -> None:
    sheet = tmp_path / "students.csv"
    sheet.write_bytes(csv_bytes(ROW_E001, ROW_E002.replace("E002", "")))
    assert _run(config, "import-students", str(sheet), "--dry-run") == 1
    out, err = capsys.readouterr()
    assert "essai à blanc" in out and "1 créé, 0 mis à jour, 0 inchangé, 1 refusé" in out
    assert "ligne 3 : student_id manque" in err
    assert _run(config, "import-students", str(sheet)) == 1
    assert "1 créé, 0 mis à jour" in capsys.readouterr().out
    assert _run(config, "import-students", str(tmp_path / "missing.csv")) == 2


def test_weekly_report_command_in_json_and_csv(imported, capsys) -> None:
    assert _run(imported, "report", "weekly", "--week", "2026-W48", "--now", NOW) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["week"] == "2026-W48"
    assert report["students"][0] == {
        "student_id": "E001",
        "expected_hours": 12.0,
        "attended_hours": 3.0,
        "unverified_hours": 0.0,
        "missed_slots": 3,
        "late_arrivals": 0,
        "status": "short",
    }
    assert (
        _run(imported, "report", "weekly", "--week", "2026-W48", "--format", "csv", "--now", NOW)
        == 0
    )
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [row["student_id"] for row in rows] == ["E001", "E002"]
    assert rows[0]["attended_hours"] == "3.0" and rows[1]["status"] == "short"


def test_weekly_report_command_refuses_a_bad_week(imported, capsys) -> None:
    assert _run(imported, "report", "weekly", "--week", "2026-48") == 2
    assert "semaine ISO" in capsys.readouterr().err


@pytest.fixture
def client(imported):
    settings = load_settings(imported)
    engine, registry = open_registry(settings.registry_database_url)
    store = SqliteEventStore(settings.events_sqlite_path)
    ledger = LedgerService(
        presence_unit_of_work(registry, settings.presence), store, settings.presence
    )
    clock = lambda: datetime.fromisoformat(NOW).astimezone(UTC)  # noqa: E731
    app = create_app(Services(settings=settings, clock=clock, ledger=ledger))
    app.testing = True
    yield app.test_client()
    store.close()
    engine.dispose()


AUTH = {"Authorization": f"Bearer {TOKEN}"}


def test_api_weekly_report_for_an_authorised_client(client) -> None:
    answer = client.get("/api/v1/presence/weekly?week=2026-W48", headers=AUTH)
    assert answer.status_code == 200
    body = answer.get_json()
    assert [s["student_id"] for s in body["students"]] == ["E001", "E002"]
    assert body["students"][0]["attended_hours"] == 3.0
    as_csv = client.get(
        "/api/v1/presence/weekly?week=2026-W48&format=csv&campus=campus-a", headers=AUTH
    )
    assert as_csv.status_code == 200 and as_csv.mimetype == "text/csv"
    assert as_csv.get_data(as_text=True).splitlines()[0].startswith("student_id,expected_hours")


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({}, 401, "unauthorised"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, 401, "unauthorised"),
        ({"Authorization": "Bearer wrong-token"}, 403, "forbidden"),
        ({"Authorization": f"Bearer {TOKEN}x"}, 403, "forbidden"),
    ],
)
def test_api_refuses_clients_without_the_token(client, headers, status, code) -> None:
    answer = client.get("/api/v1/presence/weekly?week=2026-W48", headers=headers)
    assert answer.status_code == status
    assert answer.get_json()["error"]["code"] == code
    assert "students" not in answer.get_json()
    assert client.get("/api/v1/anything/else", headers=headers).status_code == status


def test_api_refuses_a_token_when_none_is_configured_nor_made(imported, monkeypatch) -> None:
    monkeypatch.setenv("CAMPUS_SERVER_API_TOKEN", "")
    settings = load_settings(imported)
    engine, registry = open_registry(settings.registry_database_url)
    store = SqliteEventStore(settings.events_sqlite_path)
    ledger = LedgerService(
        presence_unit_of_work(registry, settings.presence), store, settings.presence
    )
    app = create_app(Services(settings=settings, clock=lambda: datetime.now(UTC), ledger=ledger))
    answer = app.test_client().get(
        "/api/v1/presence/weekly?week=2026-W48", headers={"Authorization": "Bearer anything"}
    )
    assert (answer.status_code, answer.get_json()["error"]["code"]) == (403, "forbidden")
    store.close()
    engine.dispose()


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ("", 400, "bad_week"),
        ("week=2026-48", 400, "bad_week"),
        ("week=2026-W99", 400, "bad_week"),
        ("week=2026-W48&format=xml", 400, "bad_format"),
        ("week=2026-W48&campus=Campus%20A", 400, "bad_campus"),
        ("week=2026-W48&campus=campus-z", 400, "bad_campus"),
        ("week=9999-W52", 400, "bad_week"),
        ("week=1999-W52", 400, "bad_week"),
    ],
)
def test_api_bad_parameters_get_a_clear_json_error(client, query, status, code) -> None:
    answer = client.get(f"/api/v1/presence/weekly?{query}", headers=AUTH)
    assert answer.status_code == status
    error = answer.get_json()["error"]
    assert error["code"] == code and error["message"]


def test_badge_commands_list_and_attach_an_unknown_badge(imported, capsys) -> None:
    settings = load_settings(imported)
    engine, registry = open_registry(settings.registry_database_url)
    store = SqliteEventStore(settings.events_sqlite_path)
    writer = TapWriter(store)
    writer.seq = 1000  # tap ids of its own: the fixture's taps are already stored
    tap = writer.tap("04ffeeddcc", datetime.combine(MON, time(10), tzinfo=PARIS))
    PresenceService(
        presence_unit_of_work(registry, settings.presence), store, settings.presence
    ).taps_stored([tap], tap.ts)
    store.close()
    engine.dispose()
    assert _run(imported, "badges", "unknown") == 0
    listed = capsys.readouterr().out.split("\t")
    assert listed[1] == "campus-a/door-1" and listed[-1].strip() == "×1"
    # It has a tap: the choice is required, with the taps listed.
    assert _run(imported, "badges", "attach", listed[0], "E002", "--now", NOW) == 2
    err = capsys.readouterr().err
    assert "Ce badge a déjà des passages" in err and "2026-11-23 10:00:00\tdoor-1" in err
    assert "--credit-past" in err and "--no-credit-past" in err
    args = ("badges", "attach", listed[0], "E002", "--now", NOW)
    with pytest.raises(SystemExit):  # not both
        _run(imported, *args, "--credit-past", "--no-credit-past")
    capsys.readouterr()
    assert _run(imported, *args, "--no-credit-past") == 0
    assert "ses passages antérieurs ne comptent pas" in capsys.readouterr().out
    assert _run(imported, "badges", "attach", listed[0], "E002", "--credit-past") == 1
    assert "aucun badge inconnu" in capsys.readouterr().err


def _expected(config: Path, week: str, capsys) -> float:
    assert _run(config, "report", "weekly", "--week", week, "--now", NOW) == 0
    return json.loads(capsys.readouterr().out)["students"][0]["expected_hours"]


def test_calendar_commands_shape_the_expected_hours(imported, tmp_path, capsys) -> None:
    assert _expected(imported, "2026-W48", capsys) == 12.0
    weekdays = "lun 10:00-19:00; mar 08:00-19:00; mer 8h-19h; jeu 8h-19h; ven 8h-19h"
    assert _run(imported, "calendar", "hours", "campus-a", weekdays) == 0
    assert (
        _run(
            imported,
            "calendar",
            "close",
            "campus-a",
            "26/11/2026",
            "2026-11-27",
            "--label",
            "travaux",
        )
        == 0
    )
    # E001's slots: Mon 9-12, Tue 14-18, Thu 9-13, Fri 9-10; Thursday and Friday closed;
    # Monday opens at 10:00: its slot is due from 10:00 (2 h).
    assert _expected(imported, "2026-W48", capsys) == 6.0
    assert _run(imported, "calendar", "hours", "campus-a", "lun 10:00-19:00; mar 08:00-19:00") == 0
    assert _expected(imported, "2026-W49", capsys) == 6.0  # no hours on Thursday, Friday
    assert _run(imported, "calendar", "hours", "campus-a", weekdays) == 0
    holidays = tmp_path / "vacances.csv"
    holidays.write_bytes(
        "zone;start;end;label\nA;2026-12-19;2027-01-03;Noël\nB;2026-12-19;;Noël\n".encode("cp1252")
    )
    assert _run(imported, "calendar", "school-holidays", str(holidays)) == 1
    out, err = capsys.readouterr()
    assert "1 période de vacances scolaires enregistrée" in out
    assert "ligne 3 : end n'est pas une date" in err
    assert _expected(imported, "2026-W52", capsys) == 10.0  # Christmas: the Friday slot
    assert _run(imported, "calendar", "closes-on-school-holidays", "campus-a", "yes") == 0
    capsys.readouterr()
    assert _expected(imported, "2026-W52", capsys) == 0.0
    assert _run(imported, "calendar", "close", "campus-z", "2026-11-26", "2026-11-27") == 1
    assert "campus inconnu" in capsys.readouterr().err


def test_presence_report_command_over_two_weeks(imported, capsys) -> None:
    """One row per student-week (W47 and W48), totals per student; E001's 3 h fall in W48."""
    argv = ("report", "presence", "--from", "2026-11-16", "--to", "2026-11-29", "--now", NOW)
    assert _run(imported, *argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["weeks"] == ["2026-W47", "2026-W48"]
    assert [(row["week"], row["student_id"]) for row in report["rows"]] == [
        ("2026-W47", "E001"),
        ("2026-W47", "E002"),
        ("2026-W48", "E001"),
        ("2026-W48", "E002"),
    ]
    e001 = report["students"][0]
    assert e001["student_id"] == "E001"
    assert (
        e001["attended_hours"]
        == 3.0
        == sum(row["attended_hours"] for row in report["rows"] if row["student_id"] == "E001")
    )
    assert e001["expected_hours"] == 24.0 and e001["weeks"] == 2 and e001["weeks_met"] == 0


def test_presence_report_command_in_csv_and_xlsx(imported, tmp_path) -> None:
    from openpyxl import load_workbook

    base = ("report", "presence", "--from", "2026-11-23", "--to", "2026-11-29", "--now", NOW)
    out = tmp_path / "out.csv"
    assert _run(imported, *base, "--format", "csv", "--output", str(out)) == 0
    assert out.stat().st_mode & 0o077 == 0
    text = out.read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0][:3] == ["week", "student_id", "expected_hours"]
    assert rows[1][:2] == ["2026-W48", "E001"] and rows[1][3] == "3,00"
    book = tmp_path / "out.xlsx"
    assert _run(imported, *base, "--format", "xlsx", "--output", str(book)) == 0
    sheet = load_workbook(book).active
    values = list(sheet.iter_rows(min_row=2, values_only=True))
    assert [(row[0], row[1], row[3]) for row in values] == [
        ("2026-W48", "E001", 3),
        ("2026-W48", "E002", 0),
    ]


def test_presence_report_command_of_an_academic_year_and_an_empty_one(imported, capsys) -> None:
    assert _run(imported, "report", "presence", "--year", "2026-2027", "--now", NOW) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["from"], report["to"]) == ("2026-09-01", "2027-08-31")
    assert report["weeks"][0] == "2026-W36" and report["weeks"][-1] == "2027-W35"
    assert report["students"][0]["attended_hours"] == 3.0
    # The year before the contracts began: a valid report with its weeks and no row.
    assert _run(imported, "report", "presence", "--year", "2024-2025", "--now", NOW) == 0
    empty = json.loads(capsys.readouterr().out)
    assert empty["rows"] == [] and empty["students"] == []
    assert empty["weeks"][0] == "2024-W35" and empty["weeks"][-1] == "2025-W35"


@pytest.mark.parametrize(
    ("argv", "reason"),
    [
        (("--from", "2026-09-01", "--to", "2031-09-01"), "au plus 5 ans"),
        (("--from", "2026-09-02", "--to", "2026-09-01"), "précéder la date de début"),
        (("--from", "2026-09-01"), "--from et --to"),
        (("--year", "2026-2028"), "année universitaire"),
        (("--from", "1/9/2026", "--to", "2026-09-30"), "des dates"),
    ],
)
def test_presence_report_command_refuses_a_bad_period(imported, capsys, argv, reason) -> None:
    assert _run(imported, "report", "presence", *argv) == 2
    assert reason in capsys.readouterr().err
