"""Texts with a number take the plural form their language needs (server.i18n.ngettext):
French says "0 appel", "1 appel", "2 appels"; English "0 calls", "1 call"."""

from __future__ import annotations

import pytest

from server.i18n import ngettext

ONE, MANY = "{num} call without answer", "{num} calls without answer"


@pytest.mark.parametrize(
    ("count", "language", "text"),
    [
        (0, "fr", "0 appel sans réponse"),
        (1, "fr", "1 appel sans réponse"),
        (2, "fr", "2 appels sans réponse"),
        (0, "en", "0 calls without answer"),
        (1, "en", "1 call without answer"),
        (3, "en", "3 calls without answer"),
    ],
)
def test_the_form_follows_the_number_and_the_language(count: int, language: str, text: str):
    assert ngettext(ONE, MANY, count, language) == text


def test_an_untranslated_text_falls_back_to_english_forms() -> None:
    assert ngettext("{num} thing", "{num} things", 2, "fr") == "2 things"
