"""Screenshots of the main pages at phone and desktop sizes, on a Monday morning with one
absence alert. ``CAMPUS_SCREENSHOTS=docs/screenshots`` writes them into the docs (run by
hand, then commit the PNGs); otherwise they go to the test's temporary folder."""

from __future__ import annotations

import struct
from datetime import datetime
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import DESKTOP, PHONE, PageFactory
from tests.web.conftest import PARIS, World

pytestmark = pytest.mark.browser

# file name -> (account, path); None: the anonymous login page
SHOTS: dict[str, tuple[str | None, str]] = {
    "login": (None, "/login"),
    "tutor-now": ("alice", "/tutor/now"),
    "tutor-student": ("alice", "/tutor/students/E002"),
    "coordinator-occupancy": ("coord", "/coordinator/occupancy"),
    "coordinator-weekly-report": ("coord", "/coordinator/presence"),
    "coordinator-history": ("coord", "/coordinator/occupancy/history"),
    "student-week": ("emilie", "/me"),
    "admin-accounts": ("admin", "/admin/accounts"),
}
SIZES = {"phone": PHONE, "desktop": DESKTOP}


def at(hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(2026, 11, 23, hour, minute, second, tzinfo=PARIS)


def run_job(world: World, name: str, moment: datetime) -> None:
    """One turn of a periodic job of ``serve`` at that moment."""
    world.clock.set(moment)
    jobs = {job.name: job for job in world.server.jobs}
    jobs[name].run_once()


def monday_morning(world: World) -> None:
    """Two students in, Noé missing from the 09:00 slot: an open alert for Alice; the
    occupancy job has recorded the morning (every minute in ``serve``)."""
    world.readers_online(at(8, 55))
    run_job(world, "occupancy", at(8, 56))
    world.tap("E001", at(9, 5))
    run_job(world, "occupancy", at(9, 6))
    world.tap("E003", at(9, 10))
    run_job(world, "occupancy", at(9, 11))
    run_job(world, "absence-watcher", at(9, 15, 30))
    run_job(world, "occupancy", at(9, 20))


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", header[16:24])


def shoot(page: Page, path: str, target: Path, size: str) -> None:
    answer = page.goto(path)
    assert answer is not None and answer.status == 200, f"{path}: HTTP {answer and answer.status}"
    expect(page.locator("h1")).to_have_count(1)
    page.screenshot(path=target, full_page=size == "desktop", animations="disabled")


def test_screenshots_of_the_main_pages(
    world: World, new_page: PageFactory, page_as: PageFactory, screenshots: Path
):
    monday_morning(world)
    pages: dict[str | None, Page] = {None: new_page(viewport=PHONE)}
    for name, (login, path) in SHOTS.items():
        if login not in pages:
            pages[login] = page_as(login, viewport=PHONE)
        page = pages[login]
        for size, viewport in SIZES.items():
            page.set_viewport_size(viewport)
            target = screenshots / f"{name}-{size}.png"
            shoot(page, path, target, size)
            width, height = png_size(target)
            assert width == viewport["width"], f"{target.name} is {width} px wide"
            assert height == viewport["height"] if size == "phone" else height >= 600
