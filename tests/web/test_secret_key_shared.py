"""The session-signing key kept in the data folder is one key for every web process
started on that folder, even when they start together."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

from server.config import Settings
from server.web.app import _secret_key


def test_processes_starting_together_sign_with_the_same_key(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    keys: list[str] = []
    start = threading.Barrier(8)

    def start_one() -> None:
        start.wait()
        keys.append(_secret_key(settings))

    threads = [threading.Thread(target=start_one) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    key_file = tmp_path / "data" / "web-secret-key"
    assert len(keys) == 8 and set(keys) == {key_file.read_text().strip()}
    assert len(keys[0]) == 64
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert sorted(path.name for path in key_file.parent.iterdir()) == ["web-secret-key"]


def test_configured_key_wins_and_no_file_is_written(tmp_path: Path) -> None:
    from dataclasses import replace

    settings = Settings(data_dir=tmp_path)
    settings = replace(settings, web=replace(settings.web, secret_key="configured-key-123"))
    assert _secret_key(settings) == "configured-key-123"
    assert not (tmp_path / "web-secret-key").exists()
