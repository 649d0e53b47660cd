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


def people_unit_of_work(registry: Any) -> Any:
    """What the people use cases take in this tree: the people unit of work on the
    registry (issue 17), or the registry itself in a tree from before it."""
    try:
        module = importlib.import_module("server.registry.people_store")
    except ImportError:
        return registry
    return module.people_unit_of_work(registry)


Actor = found("server.domain.accounts:Actor", "server.registry.student_repository:Actor")
