"""Counts on real pages agree with their noun, in French and in English (the French
catalogue's plural entries, rendered by the real app on a real SQLite registry)."""

from __future__ import annotations

import html
import re

import pytest


def _agree(text: str, pattern: str, singular: str, plural: str) -> list[int]:
    """Every number found by ``pattern`` (number, noun) with its noun in the right form
    for French (0 and 1 singular); returns the numbers seen."""
    seen = []
    for number, noun in re.findall(pattern, text):
        seen.append(int(number))
        assert noun == (singular if int(number) <= 1 else plural), (number, noun)
    return seen


def test_the_admin_lists_count_accounts_in_the_right_form(world, client_as) -> None:
    page = html.unescape(client_as("admin").get("/admin/accounts").get_data(as_text=True))
    assert _agree(page, r"(\d+) (comptes?)\b", "compte", "comptes")


def test_the_student_data_page_counts_sessions_and_days(world, client_as) -> None:
    page = html.unescape(client_as("emilie").get("/me/data").get_data(as_text=True))
    assert _agree(page, r"(\d+) (séances?) sur les", "séance", "séances")
    assert "conservés 400 jours" in page and "(s)" not in page


@pytest.mark.parametrize("path", ["/admin/accounts", "/admin/students?campus=test-campus"])
def test_no_plural_hack_on_admin_pages(world, client_as, path: str) -> None:
    page = html.unescape(client_as("admin").get(path).get_data(as_text=True))
    assert re.search(r"\w\((?:s|x|e|es)\)", page) is None


def test_english_pages_use_the_english_plural(world, client_as) -> None:
    client = client_as("admin")
    every = client.get("/admin/students?campus=test-campus&lang=en").get_data(as_text=True)
    assert re.search(r"\b4 students\b", html.unescape(every))
    one = client.get("/admin/students?campus=test-campus&q=E001&lang=en").get_data(as_text=True)
    assert re.search(r"\b1 student\b", html.unescape(one))
