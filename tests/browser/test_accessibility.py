"""axe-core (WCAG 2.1 A and AA rules) on every page a person of each role can reach from
their home page, plus the login and error pages; the keyboard reaches the skip link
first; no page relies on what our CSP blocks (inline scripts, ``style=`` attributes)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page

from tests.browser.conftest import PHONE, PageFactory, describe
from tests.browser.crawl import Frontier, local_path, shape

pytestmark = pytest.mark.browser

PAGES_PER_ROLE = 40
Axe = Callable[[Page], list[dict[str, Any]]]

# What our CSP would block, found before axe's own script is injected.
CSP_BREAKERS = """() => [
  ...Array.from(document.querySelectorAll('script:not([src])'), () => 'inline <script>'),
  ...Array.from(document.querySelectorAll('[style]'),
                (e) => 'style= on <' + e.tagName.toLowerCase() + '>'),
  ...Array.from(document.querySelectorAll('*'))
     .flatMap((e) => e.getAttributeNames().filter((n) => n.startsWith('on'))
     .map((n) => n + '= on <' + e.tagName.toLowerCase() + '>')),
]"""


def skip_link_first(page: Page) -> str | None:
    """None when the first Tab focuses the skip link, else what it focused. Two frames
    first: the browser applies ``autofocus`` when it renders, not at the load event."""
    page.evaluate("() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")
    page.keyboard.press("Tab")
    focused = page.evaluate(
        "() => { const e = document.activeElement;"
        " return e && e.classList.contains('skip-link') ? null"
        " : (e ? e.outerHTML.slice(0, 120) : 'nothing'); }"
    )
    return focused


def audit(page: Page, axe_check: Axe) -> list[str]:
    """Everything wrong with the page as loaded, one readable entry each."""
    problems = []
    focused = skip_link_first(page)
    if focused is not None:
        problems.append(f"  first Tab does not focus the skip link but: {focused}")
    problems += [f"  CSP would block: {what}" for what in sorted(set(page.evaluate(CSP_BREAKERS)))]
    violations = axe_check(page)
    if violations:
        problems.append(describe(violations))
    return problems


def crawl(page: Page, axe_check: Axe, done: set[str]) -> tuple[list[str], dict[str, list[str]]]:
    """Visit the pages reachable from the current one, but for the shapes in ``done``; the
    visited paths and the problems of each page."""
    origin = page.evaluate("() => location.origin")
    start = local_path(page.url, origin) or "/"
    frontier = Frontier(start, cap=PAGES_PER_ROLE, done=done)
    problems: dict[str, list[str]] = {}
    audited: set[str] = set()
    errors: list[str] = []  # the console's: CSP refusals, script errors, failed loads
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda failure: errors.append(str(failure)))
    while (path := frontier.next()) is not None:
        errors.clear()
        try:
            answer = page.goto(path)
        except PlaywrightError as failure:  # a download the link patterns did not foresee
            if "Download is starting" in str(failure):
                continue
            raise
        status = answer.status if answer else 0
        found = [] if status == 200 else [f"  answered HTTP {status}"]
        if "text/html" not in ((answer.headers.get("content-type") if answer else "") or ""):
            continue
        landed = local_path(page.url, origin) or path  # after redirects
        if landed in audited:
            continue
        audited.add(landed)
        found += audit(page, axe_check)
        found += [f"  console error: {text[:200]}" for text in errors]
        if found:
            problems[path] = found
        for href in page.eval_on_selector_all("a[href]", "links => links.map((a) => a.href)"):
            if (target := local_path(href, origin)) is not None:
                frontier.add(target)
    return frontier.visited, problems


def report(problems: dict[str, list[str]]) -> str:
    return "\n".join(f"{path}:\n" + "\n".join(found) for path, found in problems.items())


def test_every_page_of_every_role_passes_axe(page_as: PageFactory, axe_check: Axe):
    """One served world for the four roles (the suite's time budget); every problem of
    every role is reported at once."""
    problems: dict[str, list[str]] = {}
    done: set[str] = set()
    for login in ("alice", "coord", "admin", "emilie"):
        page = page_as(login, axe=True)
        menu = page.locator("nav a").count()
        visited, found = crawl(page, axe_check, done)
        print(f"{login}: {len(visited)} pages: {' '.join(visited)}")
        assert len(visited) >= menu, f"{login} reached only {visited}"
        done.update(shape(path) for path in visited)
        problems.update({f"{path} ({login})": lines for path, lines in found.items()})
        page.context.close()
    assert not problems, f"{len(problems)} pages with problems:\n" + report(problems)


def test_login_and_error_pages_pass_axe(new_page: PageFactory, page_as: PageFactory, axe_check):
    anonymous = new_page(viewport=PHONE, axe=True)
    problems: dict[str, list[str]] = {}
    for path, status in (("/login", 200), ("/no-such-page", 404)):
        answer = anonymous.goto(path)
        assert answer is not None and answer.status == status
        if found := audit(anonymous, axe_check):
            problems[f"{path} (anonymous)"] = found
    tutor = page_as("alice", axe=True)
    for path, status in (("/no-such-page", 404), ("/admin/accounts", 403)):
        answer = tutor.goto(path)
        assert answer is not None and answer.status == status
        assert tutor.get_by_role("heading", level=1).inner_text() == f"Erreur {status}"
        if found := audit(tutor, axe_check):
            problems[f"{path} (alice)"] = found
    assert not problems, report(problems)


def test_axe_reports_what_it_finds(new_page: PageFactory, axe_check):
    """The harness can fail: a field without its label is a WCAG violation."""
    page = new_page(axe=True)
    page.goto("/login")
    page.evaluate("() => document.querySelector('label[for=login]').remove()")
    violations = axe_check(page)
    assert [item["id"] for item in violations] == ["label"]
    assert describe(violations).splitlines()[1].strip().startswith("#login:")


def test_the_skip_link_shows_when_focused_and_leads_to_the_content(new_page: PageFactory):
    page = new_page(viewport=PHONE)
    page.goto("/no-such-page")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Aller au contenu")
    assert skip.evaluate("(e) => e === document.activeElement")
    box = skip.bounding_box()
    assert box is not None and box["x"] >= 0 and box["y"] >= 0, "the focused skip link is hidden"
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "content"
