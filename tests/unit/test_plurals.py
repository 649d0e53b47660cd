"""Counts shown to people take the plural form of their language (French: 0 and 1 are
singular), from the catalogues' ``msgid_plural`` entries."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from server.i18n import _plurals, ngettext

TEMPLATES = Path(__file__).resolve().parents[2] / "server" / "web" / "templates"
CALL = re.compile(r"""ngettext\(\s*"([^"]+)",\s*"([^"]+)\"""")


def _template_plurals() -> list[tuple[str, str]]:
    found = set()
    for template in TEMPLATES.rglob("*.html"):
        found |= set(CALL.findall(template.read_text("utf-8")))
    return sorted(found)


def test_templates_use_plurals() -> None:
    assert len(_template_plurals()) >= 2


@pytest.mark.parametrize(("singular", "plural"), _template_plurals())
def test_each_plural_of_the_templates_is_translated(singular: str, plural: str) -> None:
    assert len(_plurals("fr")[singular]) == 2


def test_french_and_english_forms() -> None:
    one, many = "{count} failed attempt in a row", "{count} failed attempts in a row"
    assert ngettext(one, many, 0, language="fr") == "0 tentative échouée d’affilée"
    assert ngettext(one, many, 1, language="fr") == "1 tentative échouée d’affilée"
    assert ngettext(one, many, 2, language="fr") == "2 tentatives échouées d’affilée"
    assert ngettext(one, many, 0, language="en") == "0 failed attempts in a row"
    assert ngettext(one, many, 1, language="en") == "1 failed attempt in a row"
    assert ngettext("{count} new", "{count} new ones", 3, language="fr") == "3 new ones"  # no entry


ONE, MANY = "{count} call without answer", "{count} calls without answer"


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
    assert ngettext(ONE, MANY, count, language=language) == text
