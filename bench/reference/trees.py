"""What a benchmark run with ``--reference`` imports from the tree under test (first on
``sys.path``): a name that moved (issue 17 grouped the services by capability) is taken
from wherever that tree has it."""

from __future__ import annotations

import importlib
from typing import Any


def found(*places: str) -> Any:
    """The first ``module:name`` that imports."""
    for place in places:
        module, name = place.split(":")
        try:
            return getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            continue
    raise ImportError(" or ".join(places))


Actor = found("server.domain.accounts:Actor", "server.registry.student_repository:Actor")
