"""The annual report's print-ready page in a real Chromium: printed (print media), the
menus, forms and buttons are gone and the grid stays; "print to PDF" gives a document;
no accessibility violation (axe)."""

from __future__ import annotations

import pytest

from tests.browser.conftest import PageFactory, describe

pytestmark = pytest.mark.browser


def test_the_print_ready_annual_report_prints_the_grid_alone(page_as: PageFactory, axe_check):
    page = page_as("coord", axe=True)
    page.goto("/coordinator/annual/")
    assert page.locator("#criterion-min_students").is_visible()
    page.get_by_role("link", name="Version à imprimer").click()
    page.wait_for_url("**/coordinator/annual/print**")
    violations = axe_check(page)
    assert not violations, describe(violations)
    page.emulate_media(media="print")
    assert page.locator("#criterion-min_students").is_visible()
    assert page.locator("#indicator-headcount").is_visible()
    assert not page.locator(".annual-report .actions").first.is_visible()
    assert not page.locator(".site-header nav").first.is_visible()
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF") and len(pdf) > 5_000
