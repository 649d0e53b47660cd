"""Every text of the "why this week" explanation and of slot outcomes has a French
translation, plural forms included."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from server.domain.slots import NotDue, SlotState
from server.i18n import _catalogue, _plurals, ngettext, set_language
from server.texts import week_texts

ROOT = Path(__file__).resolve().parents[3]
MODULES = ["server/texts/week_texts.py", "server/entrypoints/week_commands.py"]


def _calls(name: str) -> list[str]:
    found = set()
    for module in MODULES:
        for node in ast.walk(ast.parse((ROOT / module).read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == name:
                first = node.args[0] if node.args else None
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    found.add(first.value)
    return sorted(found)


@pytest.mark.parametrize("message", _calls("_"))
def test_french_translation_exists(message: str) -> None:
    assert message in _catalogue("fr")


def _template_plurals() -> list[str]:
    text = (ROOT / "server/web/templates/weeks/story.html").read_text(encoding="utf-8")
    return sorted(set(re.findall(r'ngettext\("([^"]+)"', text)))


@pytest.mark.parametrize("message", _calls("ngettext") + _template_plurals())
def test_plural_forms_exist(message: str) -> None:
    assert message in _plurals("fr")


def test_every_state_and_reason_has_words() -> None:
    set_language("fr")
    for state in SlotState:
        assert week_texts.slot_state(state.value) != state.value
    for reason in NotDue:
        assert week_texts.slot_reason(reason.value) != reason.value
    assert ngettext("{count} slot", "{count} slots", 1) == "1 créneau"
    assert ngettext("{count} slot", "{count} slots", 2) == "2 créneaux"
    set_language("en")
    assert ngettext("{count} slot", "{count} slots", 2) == "2 slots"
    set_language("fr")
