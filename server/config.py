"""Server configuration: defaults, then a TOML file, then ``CAMPUS_*`` environment variables.

Parsed once at start into frozen dataclasses; a bad value stops the program with one
readable :class:`ConfigError`. Secrets (MQTT password, InfluxDB token, the badge hash
secret) should come from the environment and are never included in ``repr`` or logs.

Environment overrides are named ``CAMPUS_<SECTION>_<KEY>``, for example
``CAMPUS_MQTT_PASSWORD``, ``CAMPUS_BADGES_HASH_SECRET``, ``CAMPUS_EVENTS_BACKEND``,
``CAMPUS_INFLUXDB_TOKEN``.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from edge.protocol import is_valid_id
from server.domain.errors import InvalidInput


class ConfigError(InvalidInput):
    """A configuration that cannot be used; the message says which key and why."""


@dataclass(frozen=True)
class MqttSettings:
    host: str = "127.0.0.1"
    port: int = 1883
    username: str = ""
    password: str = field(default="", repr=False)
    tls_ca_file: str = ""
    # One per ingest process on the shared group (campus-ingest-1, -2, ...): one process
    # per core at most, 2 on 2 cores; a third brought nothing (docs/scaling.md).
    client_id: str = "campus-ingest-1"
    protocol: int = 5  # 5, or 3 for MQTT 3.1.1 brokers (plain subscription, no $share)
    shared_group: str = "ingest"
    # Seconds the broker keeps our session, and the taps queued for it, while the server
    # is away. Nothing depends on it since the doors keep every tap until the server
    # confirms it (protocol v2): it only spares the doors a re-send across a quick
    # restart. Short, so that a dead worker stops holding its share of the taps of the
    # $share group after a minute (docs/scaling.md).
    session_expiry: int = 60
    keepalive: int = 30
    # Acknowledge a tap to the broker only once stored. Only the embedded default turns
    # it off: its in-process broker keeps nothing on disk and shares our process's fate,
    # and amqtt stalls on late acknowledgements.
    manual_ack: bool = True


@dataclass(frozen=True)
class InfluxSettings:
    url: str = "http://127.0.0.1:8086"
    # 1 (the default): /write (1.x; the one tested, with Debian's and Raspberry Pi OS's
    # 1.6); 2: /api/v2/write (written for 1.8+ and 2.x, untested: docs/influxdb.md)
    api_version: int = 1
    database: str = "campus"  # database (1.x) or bucket (2.x) name
    org: str = ""
    token: str = field(default="", repr=False)
    username: str = ""
    password: str = field(default="", repr=False)
    timeout_s: float = 10.0


@dataclass(frozen=True)
class EventSettings:
    backend: str = "sqlite"  # sqlite | influxdb
    sqlite_path: str = ""  # default: <data_dir>/events.sqlite3
    retention_days: int = 400


@dataclass(frozen=True)
class IngestSettings:
    # Taps per store write at most. Under a backlog, 2000 instead of 500 cut the ingest's
    # CPU per tap by 10-20 % (fewer commits and confirmations; bench/README.md, Ingest).
    batch_max: int = 2000
    batch_wait_ms: float = 5.0  # how long to gather arrivals into one write
    max_future_s: int = 86400  # a tap stamped further in the future is refused


@dataclass(frozen=True)
class WebSettings:
    host: str = "127.0.0.1"
    port: int = 8080
    # Threads of one web process running the pages. Pages are CPU work under one
    # interpreter lock: more threads only contend for it (bench/web.py: 20 users, p95
    # 406 ms with 8 threads, 215 ms with 2, two processes); more cores want more
    # processes (docs/scaling.md). Waitress reads and writes the sockets itself.
    threads: int = 2
    # Signs the session cookies; from CAMPUS_WEB_SECRET_KEY. Empty: a random key kept in
    # <data_dir>/web-secret-key (0600), so sessions survive a restart.
    secret_key: str = field(default="", repr=False)
    # Session cookies only over HTTPS. Turn off only for plain HTTP on loopback (demo).
    secure_cookies: bool = True
    session_hours: int = 12
    login_attempts_per_ip: int = 20  # failed logins per address in 15 minutes
    # Reverse proxies in front (nginx, Caddy) whose X-Forwarded-For/-Proto are trusted,
    # so throttling sees the client's address and HTTPS is known. 0: none.
    proxy_hops: int = 0
    # Bearer token that lets a client not on this machine read /metrics (Prometheus on
    # another host); from CAMPUS_WEB_METRICS_TOKEN. Empty: /metrics from loopback only.
    metrics_token: str = field(default="", repr=False)
    # Listen with SO_REUSEPORT, so that ``serve`` and ``campus-presence web`` processes
    # share host:port (the kernel spreads connections among them; docs/scaling.md).
    reuse_port: bool = False


@dataclass(frozen=True)
class PresenceSettings:
    # The one source of every campus's time zone and school-holiday zone (see
    # docs/campus-settings.md): read through ``zone`` and ``school_zone``; the registry's
    # ``campuses.timezone``/``school_zone`` columns are a copy written at every start.
    timezone: str = "Europe/Paris"
    debounce_s: int = 5  # repeated taps of one badge within this window are one
    max_session_hours: int = 12  # an open session is closed after this, unverified
    grace_minutes: int = 15  # arriving later than slot start + grace is late
    correction_window_days: int = 14  # a week is frozen this long after it ends
    school_zone: str = "A"  # French school-holiday zone (A, B, C, Corse, DOM…)
    # Calls about an absence (domain.alerts.life): an arrival within first_call_minutes
    # of the alert needed no call; "no answer" asks for another call after
    # call_again_minutes; the coordinator is told after escalate_after_calls unanswered
    # calls, or once the alert is still not closed after the campus's escalation delay
    # ("Canaux d'alerte", 30 minutes by default).
    first_call_minutes: int = 15
    call_again_minutes: int = 30
    escalate_after_calls: int = 3
    # Worker processes computing a national report's campuses (services.presence.ledger_workers;
    # bench/README.md "Ledger"): 1 computes in the web/serve process itself.
    report_processes: int = 1

    @property
    def zone(self) -> ZoneInfo:
        """The campuses' time zone: local days, week bounds, display."""
        return _zone(self.timezone)


@dataclass(frozen=True)
class PrivacySettings:
    """Who answers for the personal data, for the privacy notice (RGPD art. 13,
    ``campus-presence privacy-notice``, page ``/confidentialite``)."""

    controller: str = ""  # the responsable de traitement: the town, the university…
    address: str = ""  # its postal address
    contact: str = ""  # where to exercise one's rights (e-mail or address)
    dpo: str = ""  # the data protection officer's contact (délégué à la protection)


@dataclass(frozen=True)
class CampusSettings:
    id: str
    name: str = ""
    readers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("var")
    log_level: str = "INFO"
    badge_secret: str = field(default="", repr=False)
    api_token: str = field(default="", repr=False)  # bearer token for integrations
    registry_url: str = ""  # SQLAlchemy URL; default sqlite file in data_dir
    mqtt: MqttSettings = field(default_factory=MqttSettings)
    events: EventSettings = field(default_factory=EventSettings)
    influxdb: InfluxSettings = field(default_factory=InfluxSettings)
    ingest: IngestSettings = field(default_factory=IngestSettings)
    presence: PresenceSettings = field(default_factory=PresenceSettings)
    web: WebSettings = field(default_factory=WebSettings)
    campuses: tuple[CampusSettings, ...] = ()
    privacy: PrivacySettings = field(default_factory=PrivacySettings)

    @property
    def events_sqlite_path(self) -> Path:
        return (
            Path(self.events.sqlite_path)
            if self.events.sqlite_path
            else self.data_dir / "events.sqlite3"
        )

    @property
    def registry_database_url(self) -> str:
        return self.registry_url or f"sqlite:///{self.data_dir / 'registry.sqlite3'}"

    def known_readers(self) -> frozenset[tuple[str, str]]:
        return frozenset(
            (campus.id, reader) for campus in self.campuses for reader in campus.readers
        )


_SECTIONS = {
    "server",
    "badges",
    "registry",
    "mqtt",
    "events",
    "ingest",
    "presence",
    "web",
    "campus",
    "privacy",
}


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def load_settings(
    path: Path | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    require_secret: bool = True,
) -> Settings:
    """Build :class:`Settings` from an optional TOML file and the environment."""
    environ = os.environ if environ is None else environ
    raw: dict[str, Any] = {}
    if path is not None:
        try:
            raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as error:
            raise ConfigError(f"cannot read config file {path}: {error.strerror}") from None
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"config file {path} is not valid TOML: {error}") from None
    server = _section(raw, "server")
    badges = _section(raw, "badges")
    registry = _section(raw, "registry")
    top = {
        "data_dir": _env(environ, "SERVER", "DATA_DIR", server.get("data_dir", "var")),
        "log_level": _env(environ, "SERVER", "LOG_LEVEL", server.get("log_level", "INFO")),
        "badge_secret": _env(environ, "BADGES", "HASH_SECRET", badges.get("hash_secret", "")),
        "registry_url": _env(environ, "REGISTRY", "URL", registry.get("url", "")),
        "api_token": _env(environ, "SERVER", "API_TOKEN", server.get("api_token", "")),
    }
    _no_unknown_keys(raw, _SECTIONS, "the top level")
    _no_unknown_keys(server, {"data_dir", "log_level", "api_token"}, "server")
    _no_unknown_keys(badges, {"hash_secret"}, "badges")
    _no_unknown_keys(registry, {"url"}, "registry")
    events_raw = _section(raw, "events")
    influx_raw = dict(_section(events_raw, "influxdb", prefix="events."))
    events_raw = {key: value for key, value in events_raw.items() if key != "influxdb"}
    settings = Settings(
        data_dir=Path(top["data_dir"]),
        log_level=str(top["log_level"]).upper(),
        badge_secret=str(top["badge_secret"]),
        registry_url=str(top["registry_url"]),
        api_token=str(top["api_token"]),
        mqtt=_build(MqttSettings, _section(raw, "mqtt"), "mqtt", environ, "MQTT"),
        events=_build(EventSettings, events_raw, "events", environ, "EVENTS"),
        influxdb=_build(InfluxSettings, influx_raw, "events.influxdb", environ, "INFLUXDB"),
        ingest=_build(IngestSettings, _section(raw, "ingest"), "ingest", environ, "INGEST"),
        presence=_build(
            PresenceSettings, _section(raw, "presence"), "presence", environ, "PRESENCE"
        ),
        web=_build(WebSettings, _section(raw, "web"), "web", environ, "WEB"),
        campuses=_campuses(raw.get("campus", [])),
        privacy=_build(PrivacySettings, _section(raw, "privacy"), "privacy", environ, "PRIVACY"),
    )
    _validate(settings, require_secret=require_secret)
    return settings


def _section(raw: Mapping[str, Any], name: str, prefix: str = "") -> Mapping[str, Any]:
    value = raw.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(f"[{prefix}{name}] must be a table")
    return value


def _env(environ: Mapping[str, str], section: str, key: str, default: Any) -> Any:
    return environ.get(f"CAMPUS_{section}_{key}", default)


def _no_unknown_keys(raw: Mapping[str, Any], known: set[str], where: str) -> None:
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ConfigError(f"unknown key(s) in [{where}]: {', '.join(unknown)}")


def _build(kind: type, raw: Mapping[str, Any], where: str, environ: Mapping[str, str], env: str):
    known = {item.name: item for item in fields(kind)}
    _no_unknown_keys(raw, set(known), where)
    values: dict[str, Any] = {}
    for name, item in known.items():
        value = _env(environ, env, name.upper(), raw.get(name, item.default))
        values[name] = _coerce(value, type(item.default), f"{where}.{name}")
    return kind(**values)


_KIND_NAMES = {int: "an integer", float: "a number", bool: "true or false", str: "a string"}


def _coerce(value: Any, kind: type, key: str) -> Any:
    """Values from TOML keep their type; values from the environment are strings."""
    if isinstance(value, str) and kind is bool:
        lowered = value.strip().lower()
        if lowered not in {"true", "false", "1", "0", "yes", "no"}:
            raise ConfigError(f"{key} must be true or false, got {value!r}")
        value = lowered in {"true", "1", "yes"}
    if isinstance(value, str) and kind is not str:
        try:
            value = float(value) if kind is float else int(value)
        except ValueError:
            raise ConfigError(f"{key} must be {_KIND_NAMES[kind]}, got {value!r}") from None
    if kind is float and type(value) is int:
        value = float(value)
    if type(value) is not kind:
        raise ConfigError(f"{key} must be {_KIND_NAMES[kind]}, got {value!r}")
    return value


def _campuses(raw: Any) -> tuple[CampusSettings, ...]:
    if not isinstance(raw, list):
        raise ConfigError("[[campus]] must be an array of tables")
    campuses = []
    for index, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            raise ConfigError(f"[[campus]] #{index} must be a table")
        _no_unknown_keys(item, {"id", "name", "readers"}, f"campus #{index}")
        campus_id = item.get("id")
        if not isinstance(campus_id, str) or not is_valid_id(campus_id):
            raise ConfigError(f"[[campus]] #{index}: id must match [a-z0-9-]{{1,64}}")
        readers = item.get("readers", [])
        if not isinstance(readers, list) or not all(
            isinstance(reader, str) and is_valid_id(reader) for reader in readers
        ):
            raise ConfigError(f"[[campus]] {campus_id}: readers must be ids like 'door-1'")
        campuses.append(CampusSettings(campus_id, str(item.get("name", "")), tuple(readers)))
    return tuple(campuses)


def _validate(settings: Settings, *, require_secret: bool) -> None:
    if settings.events.backend not in {"sqlite", "influxdb"}:
        raise ConfigError("events.backend must be 'sqlite' or 'influxdb'")
    if settings.influxdb.api_version not in {1, 2}:
        raise ConfigError("events.influxdb.api_version must be 1 or 2")
    if settings.mqtt.protocol not in {3, 5}:
        raise ConfigError("mqtt.protocol must be 5 (MQTT 5) or 3 (MQTT 3.1.1)")
    if settings.events.retention_days < 1:
        raise ConfigError("events.retention_days must be at least 1")
    if settings.ingest.batch_max < 1:
        raise ConfigError("ingest.batch_max must be at least 1")
    presence = settings.presence
    try:
        presence.zone  # noqa: B018  (validates the name)
    except (ValueError, ZoneInfoNotFoundError):
        raise ConfigError(
            f"presence.timezone must be a time zone like Europe/Paris, got {presence.timezone!r}"
        ) from None
    if not presence.school_zone.strip():
        raise ConfigError("presence.school_zone must name a school-holiday zone (A, B, C…)")
    if presence.first_call_minutes < 0 or presence.call_again_minutes < 1:
        raise ConfigError(
            "presence.first_call_minutes must be at least 0 and presence.call_again_minutes "
            "at least 1"
        )
    if presence.escalate_after_calls < 1:
        raise ConfigError("presence.escalate_after_calls must be at least 1")
    if settings.log_level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise ConfigError("server.log_level must be DEBUG, INFO, WARNING or ERROR")
    if require_secret and len(settings.badge_secret) < 16:
        raise ConfigError(
            "the badge hash secret is missing or shorter than 16 characters: "
            "set CAMPUS_BADGES_HASH_SECRET (never commit it to the config file)"
        )
