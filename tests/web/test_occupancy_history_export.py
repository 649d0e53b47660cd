"""Occupancy history beyond 31 days (issue 14, item 5): day by day, up to five years,
with its CSV/XLSX export (hour by hour up to 31 days); on the web fixture's real SQLite
event store, taps through the real ingest path."""

from __future__ import annotations

import csv
import io
from datetime import datetime

from openpyxl import load_workbook

from tests.web.conftest import CAMPUS, PARIS
from tests.web.test_coordinator_occupancy import furnish, tap_at


def day_at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=PARIS)


def _two_days(world) -> None:
    """Monday 23 November: E001 and E002 from 09:00 to 10:00 (peak 2); Tuesday 24: E001
    from 09:00 to 11:00 (peak 1)."""
    furnish(world)
    tap_at(world, "E001", day_at(11, 23, 9))
    tap_at(world, "E002", day_at(11, 23, 9, 30))
    tap_at(world, "E001", day_at(11, 23, 10))
    tap_at(world, "E002", day_at(11, 23, 10))
    tap_at(world, "E001", day_at(11, 24, 9))
    tap_at(world, "E001", day_at(11, 24, 11))
    world.clock.set(day_at(11, 25, 8))


def test_a_year_of_history_is_read_day_by_day(world, client_as) -> None:
    _two_days(world)
    answer = client_as("coord").get("/coordinator/occupancy/history?from=2026-01-01&to=2026-12-31")
    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    assert "personnes présentes par jour" in page
    assert "occupancy/history/export?" in page


def test_the_year_export_has_one_row_per_day_with_someone(world, client_as) -> None:
    _two_days(world)
    answer = client_as("coord").get(
        "/coordinator/occupancy/history/export?format=xlsx&from=2026-01-01&to=2026-12-31"
    )
    assert answer.status_code == 200
    assert (
        f"occupation-{CAMPUS}-2026-01-01-2026-12-31.xlsx" in answer.headers["Content-Disposition"]
    )
    sheet = load_workbook(io.BytesIO(answer.data)).active
    assert [cell.value for cell in sheet[1]] == ["Jour", "Zone", "Pic", "Moyenne", "Capacité"]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert [(row[0].isoformat(), row[2], row[4]) for row in rows] == [
        ("2026-11-23T00:00:00", 2, 30),
        ("2026-11-24T00:00:00", 1, 30),
    ]
    # The mean over the whole day: 1.5 person-hours on Monday, 2 on Tuesday (24 h days).
    assert rows[0][3] == round(1.5 / 24, 2) and rows[1][3] == round(2 / 24, 2)


def test_a_short_history_exports_hour_by_hour_in_csv(world, client_as) -> None:
    _two_days(world)
    answer = client_as("coord").get(
        "/coordinator/occupancy/history/export?format=csv&from=2026-11-23&to=2026-11-24"
    )
    assert answer.status_code == 200
    rows = list(csv.reader(io.StringIO(answer.data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["Heure", "Zone", "Pic"]
    assert [row[0] for row in rows[1:]] == [
        "23/11/2026 09:00",
        "24/11/2026 09:00",
        "24/11/2026 10:00",
    ]
    assert rows[1][2:4] == ["2", "1,50"]


def test_more_than_five_years_is_refused_with_a_reason(world, client_as) -> None:
    for path in ("/coordinator/occupancy/history", "/coordinator/occupancy/history/export"):
        answer = client_as("coord").get(f"{path}?format=csv&from=2020-01-01&to=2026-12-31")
        assert answer.status_code == 400
        assert "au plus 5 ans" in answer.get_data(as_text=True)
    assert (
        client_as("alice").get("/coordinator/occupancy/history/export?format=csv").status_code
        == 403
    )


def test_the_api_gives_a_year_day_by_day_and_its_export(world) -> None:
    from tests.web.test_api_inputs import _token

    _two_days(world)
    api, token = world.app.test_client(), _token(world)
    year = f"/api/v1/occupancy/history?campus={CAMPUS}&from=2026-01-01&to=2026-12-31"
    body = api.get(year, headers=token).get_json()
    assert body["step"] == "day"
    assert [(p["start"], p["peak"]) for p in body["peaks"]] == [
        ("2026-11-22T23:00:00.000Z", 2),
        ("2026-11-23T23:00:00.000Z", 1),
    ]
    assert len(body["points"]) <= 366  # one sample a day at most
    book = api.get(f"{year}&format=xlsx", headers=token)
    assert book.status_code == 200 and book.mimetype.endswith("spreadsheetml.sheet")
    rows = list(load_workbook(io.BytesIO(book.data)).active.iter_rows(values_only=True))
    assert rows[0] == ("day", "peak", "average")
    assert [(row[0].isoformat(), row[1]) for row in rows[1:]] == [
        ("2026-11-23T00:00:00", 2),
        ("2026-11-24T00:00:00", 1),
    ]
    week = f"/api/v1/occupancy/history?campus={CAMPUS}&from=2026-11-23&to=2026-11-25"
    hours = api.get(f"{week}&format=csv", headers=token).data.decode("utf-8-sig")
    assert hours.splitlines()[:2] == ["hour;peak;average", "23/11/2026 09:00;2;1,50"]


def test_the_api_refuses_more_than_five_years(world) -> None:
    from tests.web.test_api_inputs import _token

    token = _token(world)
    for query, code in [
        ("from=2020-01-01&to=2026-12-31", "bad_range"),
        ("from=2026-01-01&to=2026-12-31&format=pdf", "bad_format"),
    ]:
        answer = world.app.test_client().get(
            f"/api/v1/occupancy/history?campus={CAMPUS}&{query}", headers=token
        )
        assert answer.status_code == 400
        assert answer.get_json()["error"]["code"] == code
