"""``campus-presence doctor`` against real services: Mosquitto with the repository's
campus.conf (TLS listener with make-ca.sh's certificates, passwords, the ACL template),
real SQLite files, a real influxd. A good installation gives no FAIL and exit 0; each
broken part gives its FAIL line with a fix and exit 1 (2 for a config that does not
load), never a traceback."""

from __future__ import annotations

import json
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from edge.protocol import status_topic
from server.adapters.sqlite_events import SqliteEventStore
from server.config import load_settings
from server.domain.events import ReaderStatusRecord
from server.entrypoints.cli import main
from server.entrypoints.doctor_checks import Status, run_checks
from server.registry.alert_models import AlertChannelSettings
from server.registry.database import open_registry
from server.registry.people_store import people_unit_of_work
from server.services.people.campuses import sync_campuses
from tests.conftest import new_postgres_database
from tests.integration.test_broker_acl import CampusBroker, render_acl, run_script
from tests.services import Influxd, Postgres, free_port

pytestmark = pytest.mark.broker

CAMPUS = "test-campus"
SECRET = "b" * 32
SERVER_PASSWORD = "pw-server-0123456789"
READER_PASSWORD = "pw-door-1-0123456789"


@dataclass
class Install:
    folder: Path
    broker: CampusBroker
    ca: Path

    def config(self, *, tls: bool = False, extra: str = "", **mqtt: object) -> Path:
        values: dict[str, object] = {
            "host": "127.0.0.1",
            "port": self.broker.tls_port if tls else self.broker.port,
            "username": "campus-server",
            "client_id": "doctor-test-server",
        }
        if tls:
            values["tls_ca_file"] = str(self.ca)
        values.update(mqtt)
        lines = "\n".join(f"{key} = {json.dumps(value)}" for key, value in values.items())
        path = self.folder / "config.toml"
        path.write_text(
            f'[server]\ndata_dir = "{self.folder / "data"}"\n'
            f"[mqtt]\n{lines}\n"
            f"[web]\nport = {self.web_port}\n"
            f'[[campus]]\nid = "{CAMPUS}"\nreaders = ["door-1"]\n{extra}'
        )
        return path

    web_port: int = 0


def passwd(etc: Path, user: str, password: str) -> None:
    subprocess.run(
        ["mosquitto_passwd", "-b", str(etc / "passwords"), user, password],
        check=True,
        capture_output=True,
        timeout=30,
    )


@pytest.fixture
def install(broker_dir: Path, tmp_path: Path, monkeypatch) -> Iterator[Install]:
    """Mosquitto as firmware_config/mosquitto sets it up (CA, TLS, accounts, ACL), a
    migrated SQLite registry, an event store where door-1 said it is online, and door-1's
    retained status on the broker."""
    etc = broker_dir
    made = run_script("make-ca.sh", "-d", str(etc), "localhost", "127.0.0.1")
    assert made.returncode == 0, made.stderr
    (etc / "passwords").write_text("")
    passwd(etc, "campus-server", SERVER_PASSWORD)
    passwd(etc, "door-1", READER_PASSWORD)
    (etc / "acl").write_text(render_acl(CAMPUS))
    monkeypatch.setenv("CAMPUS_BADGES_HASH_SECRET", SECRET)
    monkeypatch.setenv("CAMPUS_MQTT_PASSWORD", SERVER_PASSWORD)
    with CampusBroker(etc) as broker:
        setup = Install(tmp_path, broker, etc / "ca.crt", web_port=free_port())
        config = setup.config()
        assert main(["--config", str(config), "db", "upgrade"]) == 0
        now = datetime.now(UTC)
        with SqliteEventStore(tmp_path / "data" / "events.sqlite3") as store:
            store.setup()
            store.write_statuses(
                [ReaderStatusRecord(CAMPUS, "door-1", "online", now, now, heartbeat=600)]
            )
        reader = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        reader.username_pw_set("door-1", READER_PASSWORD)
        reader.connect("127.0.0.1", broker.port)
        reader.loop_start()
        reader.publish(status_topic(CAMPUS, "door-1"), b'{"state":"online"}', qos=1, retain=True)
        reader.disconnect()
        reader.loop_stop()
        yield setup


def doctor(config: Path, capsys, *argv: str) -> tuple[int, str]:
    code = main(["--config", str(config), "doctor", *argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out


def statuses(report) -> dict[str, Status]:
    return {check.name: check.status for check in report.checks}


# Running the tests as root or without NTP gives these two warnings, nothing else.
ENVIRONMENT_WARNINGS = {"user", "clock"}


@pytest.mark.parametrize("tls", [False, True], ids=["loopback", "tls"])
def test_a_good_installation_has_no_fail(install: Install, tls: bool, capsys) -> None:
    report = run_checks(install.config(tls=tls))
    found = statuses(report)
    for name in [
        "config",
        "badge secret",
        "mqtt account",
        "broker",
        "broker login",
        "subscription",
        "broker ACL",
        "event store",
        "registry",
        "data folder",
        "file modes",
        f"reader {CAMPUS}/door-1",
        "web",
    ]:
        assert found.get(name) is Status.OK, (name, report.checks)
    if tls:
        assert found["broker TLS"] is Status.OK
    others = {name for name, status in found.items() if status is not Status.OK}
    assert others <= ENVIRONMENT_WARNINGS, report.checks
    assert report.exit_code == 0
    code, out = doctor(install.config(tls=tls), capsys)
    assert code == 0
    assert "0 FAIL" in out.splitlines()[-1]


def fail_line(out: str, name: str) -> str:
    lines = out.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("FAIL") and line.split()[1:][: len(name.split())] == name.split():
            assert lines[index + 1].strip().startswith("fix: "), lines[index + 1]
            return line
    raise AssertionError(f"no FAIL line for {name!r} in:\n{out}")


def test_a_broken_config_file_exits_2(install: Install, capsys) -> None:
    config = install.folder / "broken.toml"
    config.write_text('[mqtt]\nport = "not a number"\n')
    code, out = doctor(config, capsys)
    assert code == 2
    assert "mqtt.port must be an integer" in fail_line(out, "config")
    config.write_text("[mqtt\n")
    code, out = doctor(config, capsys, "--format", "json")
    assert code == 2
    answer = json.loads(out)
    assert answer["exit_code"] == 2
    assert answer["checks"][0]["status"] == "FAIL" and "not valid TOML" in out
    assert doctor(install.folder / "missing.toml", capsys)[0] == 2


def test_missing_secrets(install: Install, capsys, monkeypatch) -> None:
    monkeypatch.delenv("CAMPUS_BADGES_HASH_SECRET")
    monkeypatch.delenv("CAMPUS_MQTT_PASSWORD")
    code, out = doctor(install.config(), capsys)
    assert code == 1
    assert "shorter than 16 characters" in fail_line(out, "badge secret")
    assert "no password" in fail_line(out, "mqtt account")
    # and the broker says so too: the server's account without its password
    assert "refused campus-server" in fail_line(out, "broker login")


def test_a_wrong_mqtt_password(install: Install, capsys, monkeypatch) -> None:
    monkeypatch.setenv("CAMPUS_MQTT_PASSWORD", "not-the-password")
    code, out = doctor(install.config(), capsys)
    assert code == 1
    assert "refused campus-server" in fail_line(out, "broker login")


def test_an_unreachable_broker(install: Install, capsys) -> None:
    code, out = doctor(install.config(port=free_port()), capsys)
    assert code == 1
    assert "cannot reach the MQTT broker" in fail_line(out, "broker")


def test_tls_with_a_missing_or_foreign_ca(install: Install, capsys, broker_dir: Path) -> None:
    code, out = doctor(install.config(tls=True, tls_ca_file=str(broker_dir / "nope.crt")), capsys)
    assert code == 1
    assert "cannot read [mqtt] tls_ca_file" in fail_line(out, "broker TLS")
    other = install.folder / "other-ca"
    assert run_script("make-ca.sh", "-d", str(other), "localhost").returncode == 0
    code, out = doctor(install.config(tls=True, tls_ca_file=str(other / "ca.crt")), capsys)
    assert code == 1
    assert "certificate does not verify" in fail_line(out, "broker TLS")
    # plain MQTT on the TLS port: no CONNACK ever comes
    code, out = doctor(install.config(port=install.broker.tls_port), capsys)
    assert code == 1
    assert "no CONNACK" in fail_line(out, "broker login")


def test_a_wrong_registry_url(install: Install, capsys, monkeypatch) -> None:
    monkeypatch.setenv("CAMPUS_REGISTRY_URL", "not a url")
    code, out = doctor(install.config(), capsys)
    assert code == 1
    assert "is not a database URL" in fail_line(out, "registry")
    closed = f"postgresql+psycopg://campus:secret@127.0.0.1:{free_port()}/campus"
    monkeypatch.setenv("CAMPUS_REGISTRY_URL", closed)
    code, out = doctor(install.config(), capsys)
    assert code == 1
    line = fail_line(out, "registry")
    assert "cannot use the registry" in line and "secret" not in line
    monkeypatch.setenv("CAMPUS_REGISTRY_URL", f"sqlite:///{install.folder / 'none.sqlite3'}")
    code, out = doctor(install.config(), capsys)
    assert "db upgrade" in out and code == 1


def test_a_world_readable_registry(install: Install, capsys) -> None:
    registry = install.folder / "data" / "registry.sqlite3"
    registry.chmod(0o644)
    code, out = doctor(install.config(), capsys)
    assert code == 1
    assert f"{registry} is readable by other users" in fail_line(out, "file modes")
    assert f"chmod 0600 {registry}" in out


def test_secrets_in_a_readable_config_file(install: Install, capsys) -> None:
    config = install.config(password=SERVER_PASSWORD)
    config.chmod(0o644)
    code, out = doctor(config, capsys)
    assert code == 1
    assert "CAMPUS_MQTT_PASSWORD" in fail_line(out, "secrets in config")
    assert SERVER_PASSWORD not in out


def test_a_readable_secrets_file(install: Install, capsys) -> None:
    secrets = install.folder / "secrets.env"  # next to the config, as in /etc/campus-presence
    secrets.write_text(f"CAMPUS_MQTT_PASSWORD={SERVER_PASSWORD}\n")
    secrets.chmod(0o600)
    code, out = doctor(install.config(), capsys)
    assert code == 0 and "secrets file" in out
    secrets.chmod(0o644)
    code, out = doctor(install.config(), capsys)
    assert code == 1
    assert f"{secrets} is readable by other users" in fail_line(out, "secrets file")


def test_a_webhook_without_its_secret(install: Install, capsys, monkeypatch) -> None:
    config = install.config()
    settings = load_settings(config)
    engine, registry = open_registry(settings.registry_database_url)
    try:
        sync_campuses(people_unit_of_work(registry), settings)
        with registry() as session, session.begin():
            session.add(
                AlertChannelSettings(
                    campus_id=CAMPUS,
                    webhook_enabled=True,
                    webhook_url="http://127.0.0.1:9/sms",
                    webhook_secret_env="DOCTOR_HOOK_SECRET",
                )
            )
    finally:
        engine.dispose()
    monkeypatch.delenv("DOCTOR_HOOK_SECRET", raising=False)
    code, out = doctor(config, capsys)
    assert code == 1
    assert "DOCTOR_HOOK_SECRET is not set" in fail_line(out, "webhook secret")
    monkeypatch.setenv("DOCTOR_HOOK_SECRET", "h" * 20)
    assert doctor(config, capsys)[0] == 0


def test_the_web_port_held_by_another_program(install: Install, capsys) -> None:
    with socket.create_server(("127.0.0.1", install.web_port)):
        code, out = doctor(install.config(), capsys)
    assert code == 1
    assert "another program listens" in fail_line(out, "web")


def test_silent_and_unconfigured_readers_are_warnings(install: Install) -> None:
    now = datetime.now(UTC)
    long_ago = now - timedelta(hours=3)
    with SqliteEventStore(install.folder / "data" / "events.sqlite3") as store:
        store.write_statuses(
            [
                ReaderStatusRecord(CAMPUS, "door-1", "offline", now, now),  # its last will
                ReaderStatusRecord(CAMPUS, "door-9", "online", long_ago, long_ago),
            ]
        )
    report = run_checks(install.config(), now=lambda: datetime.now(UTC))
    by_name = {check.name: check for check in report.checks}
    assert by_name[f"reader {CAMPUS}/door-1"].status is Status.WARNING
    assert "silent or offline since" in by_name[f"reader {CAMPUS}/door-1"].message
    assert "not in the configuration" in by_name[f"reader {CAMPUS}/door-9"].message
    assert report.exit_code == 0  # warnings only


@pytest.mark.influxdb
def test_influxdb_events(install: Install, influxd: Influxd, capsys) -> None:
    influx = (
        '[events]\nbackend = "influxdb"\n[events.influxdb]\n'
        f'url = "{influxd.url}"\napi_version = 1\ndatabase = "doctor_test"\n'
    )
    config = install.config()
    config.write_text(config.read_text() + influx)
    report = run_checks(config)
    assert statuses(report)["event store"] is Status.OK, report.checks
    closed = influx.replace(influxd.url, f"http://127.0.0.1:{free_port()}")
    config.write_text(install.config().read_text() + closed)
    code, out = doctor(config, capsys)
    assert code == 1
    assert "InfluxDB at" in fail_line(out, "event store")


def test_a_postgresql_registry(install: Install, postgres: Postgres, monkeypatch) -> None:
    monkeypatch.setenv("CAMPUS_REGISTRY_URL", new_postgres_database(postgres))
    report = run_checks(install.config())
    (registry,) = [check for check in report.checks if check.name == "registry"]
    assert registry.status is Status.WARNING and "migrations pending" in registry.message
    assert "db upgrade" in registry.fix
    assert report.exit_code == 0  # serve applies them at start
    monkeypatch.setenv(
        "CAMPUS_REGISTRY_URL", new_postgres_database(postgres, migrate_template(postgres))
    )
    report = run_checks(install.config())
    assert statuses(report)["registry"] is Status.OK, report.checks


def migrate_template(postgres: Postgres) -> str:
    from server.registry.database import migrate

    name = "doctor_migrated"
    migrate(postgres.create_database(name))
    return name
