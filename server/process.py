"""What every long-running process of the server does once it has started: the ``serve``
and ``web`` commands, and the ledger's worker processes after their warm-up."""

from __future__ import annotations

import gc


def keep_startup_objects() -> None:
    """What a server process built to start (modules, mappers, settings, statements,
    caches) lives as long as it does: moved out of the cyclic collector's way, a full
    collection (which could land inside a report: bench/README.md, issue 16) no longer
    walks it."""
    gc.collect()
    gc.freeze()
