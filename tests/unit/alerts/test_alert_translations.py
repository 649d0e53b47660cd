"""Every user-facing text of the alert modules has a French translation."""

import ast
from pathlib import Path

import pytest

from server.i18n import _catalogue
from server.texts import alert_texts

ROOT = Path(__file__).resolve().parents[3]
MODULES = [
    "server/domain/alerts.py",
    "server/services/alerts/alerts.py",
    "server/texts/alert_texts.py",
    "server/web/api_alerts.py",
    "server/entrypoints/alert_commands.py",
]


def _messages() -> list[str]:
    found = {"there is no such alert"}
    for module in MODULES:
        for node in ast.walk(ast.parse((ROOT / module).read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", None))
            first = node.args[0]
            constant = isinstance(first, ast.Constant) and isinstance(first.value, str)
            if name in {"_", "DomainError"} and constant:
                found.add(first.value)
    found |= set(alert_texts._SUBJECTS.values()) | set(alert_texts._BODIES.values())
    return sorted(found | {alert_texts._ESCALATED_BODY})


@pytest.mark.parametrize("message", _messages())
def test_french_translation_exists(message: str) -> None:
    assert message in _catalogue("fr")
