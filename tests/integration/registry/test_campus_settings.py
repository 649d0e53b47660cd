"""One source for a campus's time zone and school zone (issue 13 §6): the settings'
``[presence]``. The registry's ``campuses`` columns are a copy that every start brings
in line; the ledger's calendar and the alerts read the settings, never the copy."""

from __future__ import annotations

import dataclasses
import logging

import pytest
from sqlalchemy import update

from server.config import ConfigError, PresenceSettings, Settings, _validate
from server.registry.alert_repository import AlertRepository
from server.registry.models import Campus
from server.registry.people_store import people_unit_of_work
from server.registry.presence_repository import repository
from server.services.people.campuses import sync_campuses
from tests.integration.registry.conftest import CAMPUS


def _row(registry) -> tuple[str, str | None]:
    with registry() as session:
        row = session.get(Campus, CAMPUS)
        return row.timezone, row.school_zone


def test_a_changed_configuration_updates_the_registry_copy(registry, settings, caplog) -> None:
    assert _row(registry) == ("Europe/Paris", "A")
    moved = dataclasses.replace(
        settings,
        presence=PresenceSettings(timezone="America/Cayenne", school_zone="Guyane"),
    )
    with caplog.at_level(logging.INFO, logger="server.services.people.campuses"):
        sync_campuses(people_unit_of_work(registry), moved)
    assert _row(registry) == ("America/Cayenne", "Guyane")
    assert "campus campus-a set to the configured time zone America/Cayenne" in caplog.text
    sync_campuses(people_unit_of_work(registry), moved)  # nothing left to change
    assert _row(registry) == ("America/Cayenne", "Guyane")


def test_the_calendar_and_the_alerts_read_the_settings_not_the_copy(registry, settings) -> None:
    with registry() as session, session.begin():  # a stale copy, as before this change
        session.execute(update(Campus).values(timezone="Europe/London", school_zone="C"))
    presence = settings.presence
    with registry() as session:
        calendar = repository(session, presence).calendar(CAMPUS)
        alerts = AlertRepository(session, timezone=presence.timezone)
        assert str(calendar.tz) == "Europe/Paris" == alerts.campus_timezone(CAMPUS)
        assert calendar.tz is presence.zone


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"timezone": "Mars/Olympus"}, "presence.timezone must be a time zone"),
        ({"timezone": "../../etc/passwd"}, "presence.timezone must be a time zone"),
        ({"school_zone": " "}, "presence.school_zone"),
    ],
)
def test_a_bad_zone_stops_the_program_with_one_message(values, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        _validate(Settings(presence=PresenceSettings(**values)), require_secret=False)
