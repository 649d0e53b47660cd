"""The at-risk forecast on the tutor's and the student's pages (issue 13 §3): at risk
only when the opening hours left this week (07:00-22:00, Monday to Saturday) cannot
cover what is missing; hours outside the slots count."""

from __future__ import annotations

import html
from datetime import datetime

from tests.web.conftest import PARIS
from tests.web.test_tutor_now import page
from tests.web.test_tutor_student import rows


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=PARIS)


def test_outside_the_slots_a_student_catches_up(world, client_as) -> None:
    """E001 (slots: Mon 9-12, Tue 14-18, Thu 9-13, Fri 9-10) comes Wednesday 8-18,
    outside every slot: 10 h of 12 by Wednesday evening, on track."""
    world.clock.set(at(25, 19))
    world.tap("E001", at(25, 8))
    world.tap("E001", at(25, 18))
    line = rows(page(client_as("alice"), "/tutor/students"))["E001"]
    assert line[:3] == ["12 h", "10 h", "2 h"]
    assert line[4] == "En bonne voie reste atteignable : 48 h, manque : 2 h"  # 3 + 3 × 15


def test_saturday_evening_the_time_left_cannot_cover_the_week(world, client_as) -> None:
    world.clock.set(at(28, 20, 30))  # 1 h 30 of opening left, 10 h missing
    world.tap("E001", at(28, 18))
    world.tap("E001", at(28, 20))
    line = rows(page(client_as("alice"), "/tutor/students"))["E001"]
    assert line[4] == "En risque À suivre reste atteignable : 1,5 h, manque : 10 h"
    mine = html.unescape(client_as("emilie").get("/me").get_data(as_text=True))
    assert "reste atteignable : 1,5 h, manque : 10 h" in mine
    assert "Même en dehors de vos créneaux, les heures d’ouverture restantes" in mine
