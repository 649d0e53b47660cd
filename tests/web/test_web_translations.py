"""Every text of the web app (views, templates, menus, error pages, account rules) has
a French translation; templates call ``_("…")`` with a literal."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from server.domain import accounts as account_rules
from server.i18n import _catalogue
from server.web.app import _MESSAGES
from server.web.navigation import MENUS

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "server" / "web"
SERVICES = ["server/services/accounts/accounts.py", "server/entrypoints/account_commands.py"]
TRANSLATED_CALLS = {"_", "gettext", "DomainError", "FieldError", "flash_error", "flash_success"}
TEMPLATE_CALL = re.compile(r"""_\(\s*(["'])(.+?)(?<!\\)\1\s*[,)]""", re.DOTALL)


def _python_messages(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        name = getattr(node.func, "id", getattr(node.func, "attr", None))
        first = node.args[1] if name == "FieldError" and len(node.args) > 1 else node.args[0]
        literal = isinstance(first, ast.Constant) and isinstance(first.value, str)
        if name in TRANSLATED_CALLS and literal:
            found.add(first.value)
    return found


def _messages() -> list[str]:
    found: set[str] = set()
    for path in [*WEB.rglob("*.py"), *(ROOT / module for module in SERVICES)]:
        found |= _python_messages(path)
    for template in WEB.rglob("*.html"):
        found |= {match[1] for match in TEMPLATE_CALL.findall(template.read_text("utf-8"))}
    found |= {entry.label for entries in MENUS.values() for entry in entries}
    found |= set(_MESSAGES.values()) | {"The request failed."}
    found |= {
        "A password needs at least 12 characters.",
        "A password has at most 256 characters.",
        "The password cannot be the login.",
        "The password repeats too few characters.",
    }
    return sorted(found)


def test_the_password_rules_are_all_listed_here() -> None:
    source = Path(account_rules.__file__).read_text(encoding="utf-8")
    assert source.count("problems.append(") == 4


def test_templates_are_found() -> None:
    assert len(_messages()) > 30


@pytest.mark.parametrize("message", _messages())
def test_french_translation_exists(message: str) -> None:
    assert message in _catalogue("fr")
