"""``campus-presence create-admin``: the first account, whose password never appears on
the command line; the web app then accepts it."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest

from server.config import load_settings
from server.entrypoints.cli import main
from server.registry.account_store import accounts_unit_of_work
from server.registry.database import open_registry
from server.services.accounts.accounts import AccountService, LoginOutcome

SECRET = "a-test-secret-of-32-characters!!"


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CAMPUS_BADGES_HASH_SECRET", SECRET)
    path = tmp_path / "campus.toml"
    path.write_text(
        f'[server]\ndata_dir = "{tmp_path / "var"}"\n\n'
        '[[campus]]\nid = "campus-a"\nname = "Campus A"\nreaders = ["door-1"]\n',
        encoding="utf-8",
    )
    return path


def _create(config: Path, monkeypatch: pytest.MonkeyPatch, password: str, login: str) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    argv = ["--config", str(config), "create-admin", "--login", login, "--password-stdin"]
    return main(argv)


def test_the_first_admin_is_created_and_can_log_in(config, monkeypatch, capsys) -> None:
    assert _create(config, monkeypatch, "a long admin pass phrase", "Chef@Campus.fr") == 0
    assert "chef@campus.fr" in capsys.readouterr().out
    engine, registry = open_registry(load_settings(config).registry_database_url)
    try:
        result = AccountService(accounts_unit_of_work(registry)).authenticate(
            "chef@campus.fr", "a long admin pass phrase", datetime.now(UTC)
        )
        assert result.outcome is LoginOutcome.OK
        assert result.principal is not None and result.principal.role.value == "admin"
    finally:
        engine.dispose()


def test_a_weak_password_or_a_taken_login_is_refused(config, monkeypatch, capsys) -> None:
    assert _create(config, monkeypatch, "short", "chef@campus.fr") == 1
    assert "12" in capsys.readouterr().err
    assert _create(config, monkeypatch, "a long admin pass phrase", "chef@campus.fr") == 0
    assert _create(config, monkeypatch, "another long pass phrase", "chef@campus.fr") == 1
    assert "chef@campus.fr" in capsys.readouterr().err
