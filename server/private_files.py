"""Files holding personal data (the registry, the event store, backups) are readable by
the service's user only: the file 0600, its folder 0700 when this code creates it."""

from __future__ import annotations

import os
from pathlib import Path

FILE_MODE = 0o600
FOLDER_MODE = 0o700


def private_folder(path: Path) -> None:
    """Create ``path`` (0700) and its missing parents; an existing folder keeps its mode."""
    if not path.exists():
        path.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)


def create_private_file(path: Path) -> None:
    """Create ``path`` empty (0600), in a private folder made if missing. An existing file
    keeps its mode (an operator may have chosen another one)."""
    private_folder(path.parent)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, FILE_MODE))
