"""``campus-presence doctor``: is this server ready to run, and what to fix if not.

Each check is a small function returning :class:`Check` values (name, status, message,
fix). :func:`run_checks` runs them in order, reading the same configuration as
``serve``; a check that cannot even start (the configuration does not load) stops the
run, every other problem is one line and the run goes on. No check changes anything
except the InfluxDB database's setup that ``serve`` does at every start anyway; the MQTT
check connects with its own client id, so it never takes over the server's session nor
its share of the taps.

Statuses: ``ok``; ``warning`` (works, but look at it); ``FAIL`` (``serve`` will not work,
or personal data is exposed). The messages are for the operator, in English like the
other operations commands (docs/install.md)."""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import socket
import sqlite3
import ssl
import stat
import threading
import tomllib
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path

from server.config import ConfigError, Settings, load_settings

CONNECT_TIMEOUT_S = 3.0
# A reader holding a tap the server has not confirmed for longer than this is reported.
UNCONFIRMED_AFTER = timedelta(minutes=10)
TIMESYNCD_FLAG = Path("/run/systemd/timesync/synchronized")
_TIME_ERROR = 5  # adjtimex() state when the kernel clock is flagged STA_UNSYNC


class Status(StrEnum):
    OK = "ok"
    WARNING = "warning"
    FAIL = "FAIL"


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    status: Status
    message: str
    fix: str = ""

    def as_dict(self) -> dict[str, str]:
        return {
            "name": self.name,
            "status": str(self.status),
            "message": self.message,
            "fix": self.fix,
        }


def ok(name: str, message: str) -> Check:
    return Check(name, Status.OK, message)


def warning(name: str, message: str, fix: str = "") -> Check:
    return Check(name, Status.WARNING, message, fix)


def fail(name: str, message: str, fix: str) -> Check:
    return Check(name, Status.FAIL, message, fix)


@dataclass(frozen=True)
class Report:
    checks: list[Check]
    config_loaded: bool

    @property
    def exit_code(self) -> int:
        """0: no FAIL; 1: at least one FAIL; 2: the configuration cannot be loaded."""
        if not self.config_loaded:
            return 2
        return 1 if any(check.status is Status.FAIL for check in self.checks) else 0


# -- configuration and secrets -----------------------------------------------------------


def check_config(path: Path | None, environ: Mapping[str, str]) -> tuple[Check, Settings | None]:
    """The configuration loads as ``serve`` loads it (secret aside: see check_secrets)."""
    try:
        settings = load_settings(path, environ, require_secret=False)
    except ConfigError as error:
        return (
            fail(
                "config",
                str(error),
                "correct the file (docs/install.md shows a complete example), then run "
                "doctor again",
            ),
            None,
        )
    if path is None:
        return (
            warning(
                "config",
                "no --config given: defaults and CAMPUS_* environment variables only",
                "pass --config /etc/campus-presence/config.toml, as the service does",
            ),
            settings,
        )
    return ok("config", f"{path} loads"), settings


_SECRET_KEYS = {
    ("badges", "hash_secret"): "CAMPUS_BADGES_HASH_SECRET",
    ("mqtt", "password"): "CAMPUS_MQTT_PASSWORD",
    ("server", "api_token"): "CAMPUS_SERVER_API_TOKEN",
    ("web", "secret_key"): "CAMPUS_WEB_SECRET_KEY",
}


def secrets_in_file(path: Path | None) -> list[str]:
    """The ``CAMPUS_*`` variables whose secret is written in the config file itself."""
    if path is None:
        return []
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return []
    found = [
        variable
        for (section, key), variable in _SECRET_KEYS.items()
        if isinstance(raw.get(section), dict) and raw[section].get(key)
    ]
    influx = (
        raw.get("events", {}).get("influxdb", {}) if isinstance(raw.get("events"), dict) else {}
    )
    if isinstance(influx, dict):
        found += [
            f"CAMPUS_INFLUXDB_{key.upper()}" for key in ("token", "password") if influx.get(key)
        ]
    return found


def check_secrets(settings: Settings, path: Path | None) -> list[Check]:
    checks: list[Check] = []
    if len(settings.badge_secret) < 16:
        checks.append(
            fail(
                "badge secret",
                "the badge hash secret is missing or shorter than 16 characters: serve "
                "refuses to start",
                "set CAMPUS_BADGES_HASH_SECRET in /etc/campus-presence/secrets.env (0600) to "
                "a random value, e.g. `openssl rand -hex 32`, and never change it afterwards",
            )
        )
    else:
        checks.append(ok("badge secret", "set (at least 16 characters)"))
    mqtt = settings.mqtt
    if not mqtt.username:
        checks.append(
            warning(
                "mqtt account",
                "no [mqtt] username: only a broker open to anonymous clients accepts the "
                "server (campus.conf refuses them)",
                'set [mqtt] username = "campus-server" and CAMPUS_MQTT_PASSWORD',
            )
        )
    elif not mqtt.password:
        checks.append(
            fail(
                "mqtt account",
                f"[mqtt] username is {mqtt.username!r} but no password is set",
                "set CAMPUS_MQTT_PASSWORD in /etc/campus-presence/secrets.env (the password "
                f"given to `mosquitto_passwd` for {mqtt.username})",
            )
        )
    else:
        checks.append(ok("mqtt account", f"user {mqtt.username!r} with a password"))
    secrets_file = path.parent / "secrets.env" if path is not None else None
    if secrets_file is not None and secrets_file.exists():
        mode = _mode(secrets_file)
        if mode & 0o077:
            checks.append(
                fail(
                    "secrets file",
                    f"{secrets_file} is readable by other users (mode {mode:04o})",
                    f"chmod 0600 {secrets_file} (systemd reads it as root)",
                )
            )
        else:
            checks.append(ok("secrets file", f"{secrets_file} (mode {mode:04o})"))
    in_file = secrets_in_file(path)
    if in_file and path is not None:
        readable = _mode(path) & 0o077
        checks.append(
            (fail if readable else warning)(
                "secrets in config",
                f"{path} holds secrets ({', '.join(in_file)})"
                + (f" and is readable by others (mode {_mode(path):04o})" if readable else ""),
                "move them to /etc/campus-presence/secrets.env (mode 0600) as "
                + ", ".join(in_file),
            )
        )
    return checks


# -- files holding personal data ---------------------------------------------------------


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _owner_problem(path: Path, uid: int) -> str:
    owner = path.stat().st_uid
    if uid == 0 or owner == uid:
        return ""
    return f"owned by uid {owner}, not by the user running this (uid {uid})"


def check_files(settings: Settings, *, uid: int | None = None) -> list[Check]:
    """The data folder 0700 and the files holding personal data or secrets 0600, owned by
    the service's user (doctor runs as that user: ``sudo -u campus-presence``)."""
    from server.registry import database

    uid = os.geteuid() if uid is None else uid
    checks: list[Check] = []
    data_dir = settings.data_dir
    if uid == 0:
        checks.append(
            warning(
                "user",
                "running as root: owners cannot be checked and files root creates are root's",
                "run doctor as the service's user, with its secrets: "
                "sudo campus-presence-admin doctor (docs/install.md)",
            )
        )
    if not data_dir.exists():
        checks.append(
            warning(
                "data folder",
                f"{data_dir} does not exist yet",
                "the service's StateDirectory= creates it (0700); by hand: "
                f"install -d -m 0700 -o campus-presence -g campus-presence {data_dir}",
            )
        )
        return checks
    problems = []
    if _mode(data_dir) & 0o077:
        problems.append(f"mode {_mode(data_dir):04o}")
    if owner := _owner_problem(data_dir, uid):
        problems.append(owner)
    if problems:
        checks.append(
            warning(
                "data folder",
                f"{data_dir}: {', '.join(problems)}",
                f"chmod 0700 {data_dir} (and chown it to the service's user)",
            )
        )
    else:
        checks.append(ok("data folder", f"{data_dir} (0700)"))
    private: list[Path] = []
    registry_file = _registry_file(settings.registry_database_url, database)
    if registry_file is not None:
        private.append(registry_file)
    if settings.events.backend == "sqlite":
        private.append(settings.events_sqlite_path)
    private.append(data_dir / "web-secret-key")
    for base in private:
        for path in (base, Path(f"{base}-wal"), Path(f"{base}-shm")):
            if not path.exists():
                continue
            mode, owner = _mode(path), _owner_problem(path, uid)
            if mode & 0o077:
                checks.append(
                    fail(
                        "file modes",
                        f"{path} is readable by other users (mode {mode:04o}): it holds "
                        "personal data or a secret",
                        f"chmod 0600 {path}",
                    )
                )
            elif owner:
                checks.append(
                    warning("file modes", f"{path}: {owner}", f"chown campus-presence: {path}")
                )
    if not any(check.name == "file modes" for check in checks):
        checks.append(ok("file modes", "files holding personal data are 0600"))
    return checks


def _registry_file(url: str, database) -> Path | None:
    try:
        return database.sqlite_file(url)
    except Exception:
        return None


# -- the broker --------------------------------------------------------------------------


def check_broker(settings: Settings, *, wait_s: float = 1.0) -> list[Check]:
    """TCP, TLS (the CA of ``[mqtt] tls_ca_file`` verifies the broker), MQTT CONNECT with
    the server's account, its subscriptions granted, and the readers' retained statuses
    delivered (proof that the account may read them)."""
    mqtt_settings = settings.mqtt
    where = f"{mqtt_settings.host}:{mqtt_settings.port}"
    try:
        raw = socket.create_connection(
            (mqtt_settings.host, mqtt_settings.port), timeout=CONNECT_TIMEOUT_S
        )
    except OSError as error:
        return [
            fail(
                "broker",
                f"cannot reach the MQTT broker at {where}: {error.strerror or error}",
                "start Mosquitto (systemctl status mosquitto; journalctl -u mosquitto) or "
                "correct [mqtt] host and port",
            )
        ]
    checks = [ok("broker", f"{where} accepts connections")]
    if mqtt_settings.tls_ca_file:
        try:
            context = ssl.create_default_context(cafile=mqtt_settings.tls_ca_file)
        except (OSError, ssl.SSLError) as error:
            raw.close()
            return [
                *checks,
                fail(
                    "broker TLS",
                    f"cannot read [mqtt] tls_ca_file {mqtt_settings.tls_ca_file}: {error}",
                    "copy the campus CA (/etc/mosquitto/campus/ca.crt, make-ca.sh) there, "
                    "readable by the service's user",
                ),
            ]
        try:
            with context.wrap_socket(raw, server_hostname=mqtt_settings.host):
                pass
        except (ssl.SSLError, OSError) as error:
            if isinstance(error, ssl.SSLCertVerificationError):
                why = (
                    f"the broker's certificate does not verify with {mqtt_settings.tls_ca_file}"
                    f": {error.verify_message}"
                )
            else:
                why = f"TLS to {where} fails: {error}"
            return [
                *checks,
                fail(
                    "broker TLS",
                    why,
                    "use the TLS port (8883) and a host name that is in the broker's "
                    "certificate (make-ca.sh HOST ALT_NAME…), with the campus CA as "
                    "tls_ca_file",
                ),
            ]
        checks.append(ok("broker TLS", "the broker's certificate verifies with the CA"))
    else:
        raw.close()
        if mqtt_settings.host not in ("127.0.0.1", "localhost", "::1"):
            checks.append(
                warning(
                    "broker TLS",
                    f"plain MQTT to {mqtt_settings.host}: passwords and taps cross the "
                    "network unencrypted",
                    "use port 8883 with [mqtt] tls_ca_file (firmware_config/mosquitto/)",
                )
            )
    checks += _mqtt_session_checks(settings, wait_s=wait_s)
    return checks


def _mqtt_session_checks(settings: Settings, *, wait_s: float) -> list[Check]:
    import paho.mqtt.client as mqtt

    from edge.protocol import STATUS_SUBSCRIPTION, TAPS_SUBSCRIPTION

    mqtt_settings = settings.mqtt
    v5 = mqtt_settings.protocol == 5
    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2,
        # Never the server's id: the broker would cut the running server's session.
        client_id=f"campus-doctor-{uuid.uuid4().hex[:8]}",
        protocol=mqtt.MQTTv5 if v5 else mqtt.MQTTv311,
    )
    if mqtt_settings.username:
        client.username_pw_set(mqtt_settings.username, mqtt_settings.password or None)
    if mqtt_settings.tls_ca_file:
        client.tls_set(ca_certs=mqtt_settings.tls_ca_file, tls_version=ssl.PROTOCOL_TLS_CLIENT)
    connected = threading.Event()
    subscribed = threading.Event()
    answer: dict[str, object] = {}
    statuses: set[str] = set()

    def on_connect(_client, _userdata, _flags, reason_code, _properties) -> None:
        answer["connack"] = reason_code
        connected.set()

    def on_subscribe(_client, _userdata, _mid, reason_codes, _properties) -> None:
        answer["suback"] = list(reason_codes)
        subscribed.set()

    def on_message(_client, _userdata, message) -> None:
        if message.topic.endswith("/status"):
            statuses.add(message.topic)

    client.on_connect, client.on_subscribe, client.on_message = on_connect, on_subscribe, on_message
    name = "broker login"
    try:
        client.connect(mqtt_settings.host, mqtt_settings.port, keepalive=10)
    except (OSError, ssl.SSLError) as error:
        return [fail(name, f"MQTT connection failed: {error}", "see the broker line above")]
    client.loop_start()
    try:
        if not connected.wait(CONNECT_TIMEOUT_S):
            return [
                fail(
                    name,
                    "no CONNACK from the broker within 3 s",
                    "is this port an MQTT listener? (TLS port without tls_ca_file?)",
                )
            ]
        connack = answer["connack"]
        if connack.is_failure:  # type: ignore[attr-defined]
            return [
                fail(
                    name,
                    f"the broker refused {mqtt_settings.username or 'an anonymous client'}: "
                    f"{connack}",
                    "check CAMPUS_MQTT_PASSWORD against the broker's account "
                    "(mosquitto_passwd /etc/mosquitto/campus/passwords "
                    f"{mqtt_settings.username or 'campus-server'})",
                )
            ]
        checks = [ok(name, f"logged in as {mqtt_settings.username or '(anonymous)'}")]
        # Plain subscriptions, not the server's $share group: a share would take taps
        # away from the running server. Same topics, same ACL.
        client.subscribe([(TAPS_SUBSCRIPTION, 0), (STATUS_SUBSCRIPTION, 0)])
        if not subscribed.wait(CONNECT_TIMEOUT_S):
            return [*checks, fail("subscription", "no SUBACK within 3 s", "see the broker log")]
        codes = answer["suback"]
        refused = [
            topic
            for topic, code in zip((TAPS_SUBSCRIPTION, STATUS_SUBSCRIPTION), codes, strict=False)  # type: ignore[call-overload]
            if _code_value(code) >= 0x80
        ]
        if refused:
            checks.append(
                fail(
                    "subscription",
                    f"the broker refused the subscription to {', '.join(refused)}",
                    "give the server's account read rights (acl.template: user campus-server, "
                    "topic readwrite campus/+/readers/+/taps, topic read …/status) and "
                    "systemctl reload mosquitto",
                )
            )
            return checks
        checks.append(ok("subscription", "taps and statuses subscriptions granted"))
        threading.Event().wait(wait_s)  # retained statuses arrive right after the SUBACK
        if statuses:
            checks.append(ok("broker ACL", f"reader statuses delivered ({len(statuses)} retained)"))
        elif settings.known_readers():
            checks.append(
                warning(
                    "broker ACL",
                    "no reader status delivered: no reader has connected yet, or the ACL "
                    "does not let the server's account read campus/+/readers/+/status "
                    "(Mosquitto grants the subscription and then delivers nothing)",
                    "start a reader, and check the ACL (firmware_config/mosquitto/"
                    "acl.template) was rendered for this campus",
                )
            )
        return checks
    finally:
        client.disconnect()
        client.loop_stop()


def _code_value(code: object) -> int:
    value = getattr(code, "value", code)
    return int(value) if isinstance(value, int) else 0x80


# -- the event store ---------------------------------------------------------------------


def check_event_store(settings: Settings) -> list[Check]:
    if settings.events.backend == "sqlite":
        return [_check_sqlite_events(settings.events_sqlite_path)]
    return [_check_influx(settings)]


def _check_sqlite_events(path: Path) -> Check:
    name = "event store"
    if not path.exists():
        folder = path.parent
        if folder.exists() and not os.access(folder, os.W_OK | os.X_OK):
            return fail(
                name,
                f"{path} does not exist and {folder} is not writable by this user",
                "chown the folder to the service's user, or set [events] sqlite_path",
            )
        return warning(name, f"{path} does not exist yet", "serve creates it at start")
    try:
        connection = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=2)
        try:
            connection.execute("BEGIN IMMEDIATE")  # takes the write lock, writes nothing
            connection.execute("ROLLBACK")
            connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
        finally:
            connection.close()
    except sqlite3.Error as error:
        return fail(
            name,
            f"SQLite events {path}: {error}",
            "the file must be a database writable by the service's user (chown, chmod 0600); "
            "'database is locked' for long means another program holds it",
        )
    return ok(name, f"SQLite {path} writable")


def _check_influx(settings: Settings) -> Check:
    from server.adapters.event_store import EventStoreError
    from server.bootstrap import build_event_store

    name = "event store"
    influx = settings.influxdb
    try:
        store = build_event_store(settings)
    except (ValueError, OSError) as error:
        return fail(name, f"InfluxDB settings: {error}", "correct [events.influxdb]")
    try:
        store.setup()  # what serve does at start: database/bucket and retention policy
        store.latest_statuses()
    except EventStoreError as error:
        return fail(
            name,
            str(error),
            f"check that influxd runs (systemctl status influxdb), that [events.influxdb] url "
            f"{influx.url} is right, and that its user or token may create and write "
            f"{influx.database!r}",
        )
    finally:
        store.close()
    return ok(name, f"InfluxDB {influx.url} database {influx.database!r}: set up and readable")


# -- the registry ------------------------------------------------------------------------


@dataclass
class RegistryState:
    sessions: object | None = None  # sessionmaker of a registry at head
    dispose: Callable[[], None] = lambda: None


def check_registry(settings: Settings, state: RegistryState) -> list[Check]:
    from server.registry import database

    url = settings.registry_database_url
    name = "registry"
    try:
        path = database.sqlite_file(url)
        if path is not None and not path.exists():
            return [
                fail(
                    name,
                    f"no registry at {path} yet",
                    "sudo campus-presence-admin db upgrade (docs/install.md)",
                )
            ]
        engine = database.make_engine(url)
        current = database.current_revisions(engine)
    except database.RegistryError as error:
        return [fail(name, str(error), "correct [registry] url or CAMPUS_REGISTRY_URL")]
    heads = database.head_revisions()
    shown = database.safe_url(url)
    if current != heads:
        engine.dispose()
        pending = ", ".join(sorted(heads - current))
        return [
            warning(
                name,
                f"{shown}: migrations pending ({pending})",
                "sudo campus-presence-admin db upgrade (serve also applies them at start)",
            )
        ]
    state.sessions = database.session_factory(engine)
    state.dispose = engine.dispose
    return [ok(name, f"{shown}: schema up to date")]


def check_webhook_secrets(state: RegistryState, environ: Mapping[str, str]) -> list[Check]:
    from server.adapters.alert_channels import webhook_secret_problem
    from server.registry.alert_repository import AlertRepository

    if state.sessions is None:
        return []
    with state.sessions() as session:  # type: ignore[operator]
        webhooks = AlertRepository(session).enabled_webhooks()
    checks = []
    for campus, variable in sorted(webhooks.items()):
        problem = webhook_secret_problem(environ.get(variable, ""))
        if problem:
            checks.append(
                fail(
                    "webhook secret",
                    f"campus {campus}: the webhook channel is on but {variable} {problem}: "
                    "serve refuses to start",
                    f"set {variable} (at least 16 random characters shared with the SMS "
                    "gateway) in secrets.env, or turn the webhook off in 'Canaux d'alerte'",
                )
            )
    if webhooks and not checks:
        checks.append(ok("webhook secret", f"set for {_count(len(webhooks), 'webhook channel')}"))
    return checks


# -- clock -------------------------------------------------------------------------------


def clock_synchronised() -> bool | None:
    """True/False when known (systemd-timesyncd's flag, or the kernel's STA_UNSYNC via a
    read-only adjtimex, as the door agent asks); None when neither can be asked."""
    if TIMESYNCD_FLAG.exists():
        return True
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        adjtimex = ctypes.CDLL(name, use_errno=True).adjtimex
    except (OSError, AttributeError):
        return None
    buffer = ctypes.create_string_buffer(512)  # struct timex with modes=0: read only
    state = adjtimex(buffer)
    if state < 0:
        return None
    return state != _TIME_ERROR


def check_clock(synchronised: Callable[[], bool | None] = clock_synchronised) -> Check:
    verdict = synchronised()
    if verdict:
        return ok("clock", "synchronised (NTP)")
    fix = (
        "enable NTP: timedatectl set-ntp true (systemd-timesyncd) or apt-get install chrony; "
        "timedatectl status shows the result"
    )
    if verdict is None:
        return warning("clock", "cannot tell whether the clock is synchronised", fix)
    return warning(
        "clock",
        "the clock is not synchronised: taps, alerts and week bounds use it",
        fix,
    )


# -- readers -----------------------------------------------------------------------------


def check_readers(settings: Settings, now: datetime) -> list[Check]:
    """Readers of the configuration against what they last said (their statuses in the
    event store): silent, degraded, holding unconfirmed taps, or unknown to the config."""
    from server.adapters.event_store import EventStoreError
    from server.bootstrap import build_event_store
    from server.domain.reader_health import Health
    from server.services.occupancy.reader_health import ReaderHealthService

    known = settings.known_readers()
    if not known:
        return [
            warning(
                "readers",
                "no [[campus]] with readers in the configuration: every tap will be rejected",
                'add [[campus]] id = "…" readers = ["door-1", …] (docs/install.md)',
            )
        ]
    if settings.events.backend == "sqlite" and not settings.events_sqlite_path.exists():
        return [warning("readers", f"{len(known)} configured, none heard of yet")]
    try:
        store = build_event_store(settings)
        try:
            healths = ReaderHealthService(store).current(now, known=known)
        finally:
            store.close()
    except (EventStoreError, sqlite3.Error) as error:
        return [warning("readers", f"cannot read the readers' statuses: {error}")]
    zone = settings.presence.zone
    checks: list[Check] = []
    for item in healths:
        name = f"reader {item.campus}/{item.reader}"
        seen = f"{item.last_seen.astimezone(zone):%Y-%m-%d %H:%M %Z}" if item.last_seen else ""
        if (item.campus, item.reader) not in known:
            checks.append(
                warning(
                    name,
                    "sends statuses but is not in the configuration: its taps are rejected "
                    "(unknown_reader)",
                    f"add {item.reader!r} to the readers of [[campus]] {item.campus!r}, or "
                    "remove its broker account",
                )
            )
        elif item.health is Health.UNKNOWN:
            checks.append(
                warning(
                    name,
                    "never heard of",
                    "install and start campus-edge on it (docs/edge.md) with this campus and "
                    "reader id",
                )
            )
        elif item.health is Health.OFFLINE:
            checks.append(
                warning(
                    name,
                    f"silent or offline since {seen}",
                    "check its power, network and journalctl -u campus-edge on the reader",
                )
            )
        elif item.health is Health.DEGRADED:
            checks.append(
                warning(name, f"degraded: {item.detail or 'no detail'}", "see docs/edge.md")
            )
        elif item.oldest is not None and now - item.oldest > UNCONFIRMED_AFTER:
            checks.append(
                warning(
                    name,
                    f"holds {_count(item.queued, 'tap')} not confirmed since "
                    f"{item.oldest.astimezone(zone):%Y-%m-%d %H:%M %Z}",
                    "is serve running and subscribed? (campus-presence rejections lists "
                    "refused messages)",
                )
            )
        else:
            checks.append(ok(name, f"online, last status {seen}"))
    return checks


# -- web ---------------------------------------------------------------------------------


def check_web(settings: Settings) -> Check:
    """The web port is free (serve will listen there) or answers ``/healthz`` (serve
    already runs); anything else holding it stops serve from starting."""
    web = settings.web
    host = "127.0.0.1" if web.host in ("0.0.0.0", "") else web.host  # noqa: S104
    host = "::1" if host == "::" else host
    where = f"{web.host}:{web.port}"
    try:
        with socket.create_connection((host, web.port), timeout=CONNECT_TIMEOUT_S):
            pass
    except OSError:
        return ok("web", f"{where} is free: serve will listen there")
    url = f"http://{'[' + host + ']' if ':' in host else host}:{web.port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=CONNECT_TIMEOUT_S) as response:
            body = json.loads(response.read() or b"{}")
        if isinstance(body, dict) and "status" in body:
            return ok("web", f"a campus-presence server answers {url}: {body['status']}")
    except (OSError, ValueError, urllib.error.URLError):
        pass
    return fail(
        "web",
        f"another program listens on {where}: serve cannot start its web app there",
        f"stop it (ss -ltnp 'sport = :{web.port}' shows which) or set [web] port",
    )


# -- all ---------------------------------------------------------------------------------


def _guarded(name: str, check: Callable[[], list[Check]]) -> list[Check]:
    """A check that crashes is one FAIL line, never a traceback that hides the others."""
    try:
        return check()
    except Exception as error:
        return [
            fail(
                name,
                f"the check itself failed: {type(error).__name__}: {error}",
                "report this with the line above",
            )
        ]


def run_checks(
    path: Path | None,
    environ: Mapping[str, str] | None = None,
    *,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    clock_check: Callable[[], bool | None] = clock_synchronised,
) -> Report:
    environ = os.environ if environ is None else environ
    config, settings = check_config(path, environ)
    if settings is None:
        return Report([config], config_loaded=False)
    checks = [config]
    checks += _guarded("secrets", lambda: check_secrets(settings, path))
    checks += _guarded("files", lambda: check_files(settings))
    checks += _guarded("broker", lambda: check_broker(settings))
    checks += _guarded("event store", lambda: check_event_store(settings))
    state = RegistryState()
    try:
        checks += _guarded("registry", lambda: check_registry(settings, state))
        checks += _guarded("webhook secret", lambda: check_webhook_secrets(state, environ))
    finally:
        state.dispose()
    checks += _guarded("clock", lambda: [check_clock(clock_check)])
    checks += _guarded("readers", lambda: check_readers(settings, now()))
    checks += _guarded("web", lambda: [check_web(settings)])
    return Report(checks, config_loaded=True)


def _count(n: int, noun: str) -> str:
    """``1 tap``, ``2 taps``: the operator's lines are English (no catalogue)."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def render_text(report: Report) -> Iterator[str]:
    width = max((len(check.name) for check in report.checks), default=0)
    for check in report.checks:
        yield f"{check.status!s:<8} {check.name:<{width}}  {check.message}"
        if check.fix and check.status is not Status.OK:
            yield f"{'':<8} {'':<{width}}  fix: {check.fix}"
    fails = sum(check.status is Status.FAIL for check in report.checks)
    warnings = sum(check.status is Status.WARNING for check in report.checks)
    oks = len(report.checks) - fails - warnings
    yield f"{fails} FAIL, {_count(warnings, 'warning')}, {oks} ok"


def render_json(report: Report) -> str:
    return json.dumps(
        {
            "checks": [check.as_dict() for check in report.checks],
            "exit_code": report.exit_code,
        },
        ensure_ascii=False,
        indent=2,
    )
