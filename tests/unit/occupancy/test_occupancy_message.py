"""The ``events/occupancy`` message has the documented v1 shape (docs/protocol.md)."""

import json
from datetime import UTC, datetime

from edge.protocol import parse_timestamp
from server.domain.calendar import CampusCalendar
from server.domain.events import OccupancySample
from server.services.occupancy.occupancy import occupancy_message


def test_occupancy_message_shape_and_local_offset() -> None:
    at = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    topic, payload = occupancy_message(
        OccupancySample("paris-13", "salle-2", at, 11, 18), CampusCalendar()
    )
    body = json.loads(payload)
    assert topic == "campus/paris-13/events/occupancy"
    assert body == {
        "v": 1,
        "ts": "2026-11-23T10:00:00.000+01:00",
        "campus": "paris-13",
        "room": "salle-2",
        "count": 11,
        "capacity": 18,
    }
    assert parse_timestamp(body["ts"]) == at
    _, whole = occupancy_message(OccupancySample("paris-13", None, at, 0, None))
    assert json.loads(whole)["room"] is None and json.loads(whole)["capacity"] is None
