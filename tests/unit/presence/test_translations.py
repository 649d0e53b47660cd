"""Every user-facing text of the presence modules has a French translation."""

import ast
from pathlib import Path

import pytest

from server.i18n import _catalogue
from server.services.presence.presence import _EFFECTS, _UNKNOWN

ROOT = Path(__file__).resolve().parents[3]
MODULES = [
    "server/domain/contracts.py",
    "server/domain/sessions.py",
    "server/registry/student_repository.py",
    "server/services/presence/presence.py",
    "server/services/people/student_import.py",
    "server/services/presence/corrections.py",
    "server/services/people/enrolment.py",
    "server/services/people/calendar_admin.py",
    "server/entrypoints/presence_commands.py",
    "server/web/app.py",
    "server/web/api_presence.py",
]
TRANSLATED_CALLS = {"_", "DomainError", "RowError"}


def _messages() -> list[str]:
    found = []
    for module in MODULES:
        for node in ast.walk(ast.parse((ROOT / module).read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", None))
            first = node.args[0]
            if (
                name in TRANSLATED_CALLS
                and isinstance(first, ast.Constant)
                and isinstance(first.value, str)
            ):
                found.append(first.value)
    return sorted(set(found) | {text for _, text in _EFFECTS.values()} | {_UNKNOWN})


@pytest.mark.parametrize("message", _messages())
def test_french_translation_exists(message: str) -> None:
    assert message in _catalogue("fr")


def test_reader_texts_fit_the_display() -> None:
    french = _catalogue("fr")
    for message in [text for _, text in _EFFECTS.values()] + [_UNKNOWN]:
        assert len(french[message]) <= 64
