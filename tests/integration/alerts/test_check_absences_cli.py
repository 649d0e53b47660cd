"""``campus-presence check-absences --at``: the absences it raises go out by every
channel at once, each on its own lane; a hanging SMTP server holds back neither the
webhooks nor the command for longer than its wait (``SEND_WAIT_S``)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from server.adapters.sqlite_events import SqliteEventStore
from server.config import load_settings
from server.entrypoints import alert_commands
from server.entrypoints.cli import main
from server.registry.database import open_registry
from server.registry.people_store import people_unit_of_work
from server.services.people.campuses import sync_campuses
from tests.alert_receivers import (
    WEBHOOK_SECRET,
    SmtpServer,
    WebhookReceiver,
    absent_students,
    doors_online,
)
from tests.integration.alerts.test_delivery_lanes import NOTICED

SECRET = "a-test-secret-of-32-characters!!"


def test_check_absences_sends_webhooks_while_smtp_hangs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setenv("CAMPUS_BADGES_HASH_SECRET", SECRET)
    monkeypatch.setenv("CAMPUS_WEBHOOK_SECRET", WEBHOOK_SECRET)
    monkeypatch.setattr(alert_commands, "SEND_WAIT_S", 3.0)
    config = tmp_path / "campus.toml"
    config.write_text(
        f'[server]\ndata_dir = "{tmp_path / "var"}"\n\n'
        '[[campus]]\nid = "campus-a"\nname = "Campus A"\nreaders = ["door-1"]\n',
        encoding="utf-8",
    )
    settings = load_settings(config)
    engine, registry = open_registry(settings.registry_database_url)
    smtp, webhook = SmtpServer(hang=True), WebhookReceiver()
    try:
        sync_campuses(people_unit_of_work(registry), settings)
        absent_students(
            registry,
            "campus-a",
            4,
            secret=SECRET.encode(),
            smtp_port=smtp.port,
            webhook_url=webhook.url,
        )
        store = SqliteEventStore(settings.events_sqlite_path)
        store.setup()
        doors_online(store, "campus-a", ("door-1",), NOTICED)
        store.close()
        began = time.monotonic()
        code = main(["--config", str(config), "check-absences", "--at", NOTICED.isoformat()])
        took = time.monotonic() - began
    finally:
        smtp.close()
        webhook.close()
        engine.dispose()
    assert code == 0 and "4 absences constatées" in capsys.readouterr().out
    assert len(webhook.received) == 4
    assert took < 8.0  # the e-mails hang 10 s each; the command waits 3 s at most for them
