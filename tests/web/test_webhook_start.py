"""The server refuses to start while a campus's webhook channel is on without a secret of
at least 16 characters (the real composition, on the web tests' furnished registry)."""

from __future__ import annotations

import pytest

from server.bootstrap import build_server
from server.config import ConfigError
from server.registry.alert_models import AlertChannelSettings
from tests.web.conftest import CAMPUS


def _webhook_on(world) -> None:
    with world.registry() as session, session.begin():
        session.add(
            AlertChannelSettings(
                campus_id=CAMPUS,
                webhook_enabled=True,
                webhook_url="http://127.0.0.1:9/sms",
                webhook_secret_env="TEST_HOOK_SECRET",
            )
        )


@pytest.mark.parametrize("secret", [None, "", "fifteen-chars!!"])
def test_no_start_with_a_webhook_and_no_valid_secret(world, monkeypatch, secret) -> None:
    _webhook_on(world)
    if secret is None:
        monkeypatch.delenv("TEST_HOOK_SECRET", raising=False)
    else:
        monkeypatch.setenv("TEST_HOOK_SECRET", secret)
    with pytest.raises(ConfigError) as refused:
        build_server(world.settings, clock=world.clock)
    message = str(refused.value)
    assert f"campus {CAMPUS}" in message and "TEST_HOOK_SECRET" in message
    assert "16 characters" in message


def test_a_webhook_with_a_long_secret_starts(world, monkeypatch) -> None:
    _webhook_on(world)
    monkeypatch.setenv("TEST_HOOK_SECRET", "sixteen-chars-ok")
    server = build_server(world.settings, clock=world.clock)
    server.close()
