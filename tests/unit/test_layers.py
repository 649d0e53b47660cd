"""The layers of docs/architecture.md, checked on the imports of every server module:
nothing imports upwards."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SERVER = Path(__file__).resolve().parents[2] / "server"

# module prefix -> prefixes it must not import (anything of the server above it)
FORBIDDEN = {
    "server.domain": ("server.",),  # but server.domain itself, see ALLOWED
    "server.ports": ("server.",),
    "server.texts": ("server.",),
    "server.registry": (
        "server.services",
        "server.web",
        "server.entrypoints",
        "server.bootstrap",
        "server.container",
        "server.adapters",
    ),
    "server.adapters": (
        "server.services",
        "server.web",
        "server.entrypoints",
        "server.bootstrap",
        "server.container",
        "server.registry",
    ),
    "server.services": ("server.web", "server.entrypoints", "server.bootstrap"),
}
ALLOWED = {
    "server.domain": ("server.domain",),
    "server.ports": ("server.domain", "server.ports"),
    "server.texts": ("server.domain", "server.texts", "server.i18n"),
}


def _modules() -> list[tuple[str, Path]]:
    found = []
    for path in sorted(SERVER.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        parts = path.relative_to(SERVER.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found.append((name, path))
    return found


def _imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
        elif isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
    return names


def _layer(module: str) -> str | None:
    return next((layer for layer in FORBIDDEN if module.startswith(layer)), None)


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_no_layer_imports_upwards(layer: str) -> None:
    wrong = []
    for module, path in _modules():
        if _layer(module) != layer:
            continue
        for imported in _imports(path):
            if not imported.startswith(FORBIDDEN[layer]):
                continue
            if imported.startswith(ALLOWED.get(layer, ())):
                continue
            wrong.append(f"{module} imports {imported}")
    assert wrong == []


def test_the_domain_shares_only_the_protocol_with_the_edge() -> None:
    edge = {
        imported
        for module, path in _modules()
        for imported in _imports(path)
        if imported.startswith("edge")
    }
    assert edge == {"edge.protocol"}


# Capabilities whose use cases reach storage only through their ports (server/ports):
# no SQLAlchemy and no registry in any of their modules, even for typing (issue 17).
PORTED = (
    "accounts",
    "alerts",
    "occupancy",
    "operations",
    "people",
    "presence",
    "privacy",
    "reporting",
    "screens",
)


def _storage_imports(path: Path) -> list[str]:
    return [
        name
        for name in _imports(path)
        if name.split(".")[0] == "sqlalchemy" or name.startswith("server.registry")
    ]


@pytest.mark.parametrize("package", PORTED)
def test_ported_capabilities_import_neither_sqlalchemy_nor_the_registry(package: str) -> None:
    modules = [
        (module, path)
        for module, path in _modules()
        if module == f"server.services.{package}"
        or module.startswith(f"server.services.{package}.")
    ]
    assert modules, f"no module in server/services/{package}"
    wrong = [
        f"{module} imports {name}" for module, path in modules for name in _storage_imports(path)
    ]
    assert wrong == []


# Packages that reach storage only through the container the composition root fills
# (server/bootstrap.py): the web app's views and hooks (issue 17).
NO_STORAGE = ("server.web",)


@pytest.mark.parametrize("package", NO_STORAGE)
def test_the_web_imports_neither_sqlalchemy_nor_the_registry(package: str) -> None:
    modules = [
        (module, path)
        for module, path in _modules()
        if module == package or module.startswith(f"{package}.")
    ]
    assert modules, f"no module in {package}"
    wrong = [
        f"{module} imports {name}" for module, path in modules for name in _storage_imports(path)
    ]
    assert wrong == []
