"""Real-browser fixtures: Debian's headless Chromium driven by Playwright against the web
app of the ``world`` fixture (``tests/web/conftest.py``), served for real by the production
WSGI server on a free loopback port.

- ``browser``: one Chromium for the session (``/usr/bin/chromium``; no ``playwright
  install``: Playwright never downloads a browser here);
- ``site``: the world's app served by :class:`WebServer`, its base URL;
- ``page_as("alice", viewport=PHONE)``: a page logged in through the real login form;
  ``axe=True`` adds axe-core to every document of its context as an init script (run by
  the browser before the page's own scripts, not subject to the page's CSP, and parsed
  without a round trip per page), so the audited pages run under the real CSP too;
- ``axe_check(page)``: axe-core's WCAG 2.1 A/AA rules on the page, violations returned.

Like the other service fixtures (``tests/conftest.py``), they fail loudly, never skip,
when Chromium or axe-core is missing: ``tests/run`` installs both.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from server.adapters.web_server import WebServer
from server.config import WebSettings
from tests.web.conftest import (  # noqa: F401
    PASSWORD,
    World,
    clock,
    furnished_data,
    furnished_registry,
    world,
)

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
AXE_DEFAULT = ROOT / ".cache/axe/node_modules/axe-core/axe.min.js"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE_RUN = (
    "(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags},"
    " resultTypes: ['violations']})"
)

PageFactory = Callable[..., Page]


@pytest.fixture(scope="session")
def axe_js() -> Path:
    path = Path(os.environ.get("CAMPUS_AXE_JS") or AXE_DEFAULT)
    if not path.is_file():
        pytest.fail(f"axe-core not found at {path}: run tests/run (npm install axe-core@4)")
    return path


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run tests/run (apt-get install chromium)")
    chromium = playwright.chromium.launch(
        executable_path=str(CHROMIUM),
        headless=True,
        args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
    )
    yield chromium
    chromium.close()


@pytest.fixture
def site(world: World) -> Iterator[str]:  # noqa: F811
    """The world's app served by waitress on 127.0.0.1 (a free port); its base URL."""
    server = WebServer(world.app, WebSettings(host="127.0.0.1", port=0, threads=4))
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def new_page(browser: Browser, site: str, axe_js: Path) -> Iterator[PageFactory]:
    """``new_page(viewport=PHONE, axe=False)``: an anonymous page in a fresh context (French,
    Paris time). Contexts are closed at the end of the test."""
    contexts: list[BrowserContext] = []

    def make(*, viewport: dict[str, int] = DESKTOP, axe: bool = False) -> Page:
        context = browser.new_context(
            base_url=site,
            viewport=viewport,
            locale="fr-FR",
            timezone_id="Europe/Paris",
            accept_downloads=True,
        )
        context.set_default_timeout(10_000)
        if axe:
            context.add_init_script(path=axe_js)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def log_in(page: Page, login: str, password: str = PASSWORD) -> None:
    """Through the real form, as a person would: type, then press the button."""
    page.goto("/login")
    page.get_by_label("Identifiant").fill(login)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(lambda url: "/login" not in url)


@pytest.fixture
def page_as(new_page: PageFactory) -> PageFactory:
    """``page_as("alice", viewport=PHONE, axe=False)``: a page logged in as that account,
    on its home page."""

    def make(login: str, *, viewport: dict[str, int] = DESKTOP, axe: bool = False) -> Page:
        page = new_page(viewport=viewport, axe=axe)
        log_in(page, login)
        return page

    return make


@pytest.fixture
def axe_check() -> Callable[[Page], list[dict[str, Any]]]:
    """axe-core's WCAG 2.1 A/AA violations of the page as it is now (needs ``axe=True``)."""

    def check(page: Page) -> list[dict[str, Any]]:
        if not page.evaluate("() => typeof window.axe !== 'undefined'"):
            pytest.fail("axe-core is not in the page: open it with axe=True")
        return page.evaluate(AXE_RUN, WCAG_TAGS)["violations"]

    return check


def describe(violations: list[dict[str, Any]]) -> str:
    """One line per violation and element, for the page's author."""
    lines = []
    for violation in violations:
        lines.append(f"  [{violation['impact']}] {violation['id']}: {violation['help']}")
        for node in violation["nodes"][:5]:
            lines.append(f"      {', '.join(map(str, node['target']))}: {node['html'][:160]}")
    return "\n".join(lines)


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    """Where screenshots go: ``$CAMPUS_SCREENSHOTS`` (e.g. docs/screenshots) when set, else
    the test's temporary folder (CI leaves the tree clean)."""
    folder = Path(os.environ.get("CAMPUS_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder
