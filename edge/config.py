"""Agent configuration: one TOML file, validated at start into frozen dataclasses.

Every problem found is reported at once in one :class:`ConfigError` whose message names
the file and the keys (``mqtt.port: expected an integer, got 'abc'``). Unknown keys are
errors too, so a typo does not silently fall back to a default. The MQTT password may
come from ``CAMPUS_EDGE_MQTT_PASSWORD`` or a ``password_file`` (systemd credentials) and
never appears in a ``repr`` or a log line.
"""

from __future__ import annotations

import os
import re
import ssl
import tomllib
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge.errors import ConfigError
from edge.protocol import is_valid_id

PASSWORD_ENV = "CAMPUS_EDGE_MQTT_PASSWORD"  # noqa: S105 (a variable name)
NFC_TARGETS = ("106A", "106B", "212F", "424F")
SYNC_CHECKS = ("auto", "adjtimex", "timesyncd", "assume-synced")
_DEVICE = re.compile(r"(usb|udp)(:[^\s]*)?|(tty|com):[^\s]+")
_PIN_NAME = re.compile(r"(GPIO|BCM)(\d{1,2})|(BOARD|J8:)(\d{1,2})")
_MISSING = object()


@dataclass(frozen=True, slots=True)
class MqttConfig:
    host: str
    port: int = 8883
    tls: bool = True
    ca_file: str = ""  # empty: the system's CA store
    cert_file: str = ""
    key_file: str = ""
    username: str = ""
    password: str = field(default="", repr=False)
    protocol: int = 5  # 5, or 3 for MQTT 3.1.1 (no reason codes: refusals are invisible)
    keepalive_s: int = 30
    heartbeat_s: int = 60
    reconnect_min_s: int = 1
    reconnect_max_s: int = 60
    max_unacked: int = 250  # taps handed to the broker and not yet confirmed by the server
    refused_retry_s: float = 300.0
    # A tap not confirmed by the server this long after it was sent is sent again; the
    # wait doubles at each re-send, up to confirm_retry_max_s.
    confirm_timeout_s: float = 10.0
    confirm_retry_max_s: float = 120.0


@dataclass(frozen=True, slots=True)
class NfcConfig:
    device: str = "usb"
    targets: tuple[str, ...] = ("106A", "212F")
    debounce_s: float = 5.0
    retry_min_s: float = 1.0
    retry_max_s: float = 60.0


@dataclass(frozen=True, slots=True)
class FeedbackConfig:
    enabled: bool = True
    active_high: bool = True
    green: int | str | None = None  # a pin left out is not driven
    red: int | str | None = None
    amber: int | str | None = None
    buzzer: int | str | None = None
    server_wait_s: float = 1.0


@dataclass(frozen=True, slots=True)
class OutboxConfig:
    path: str = "/var/lib/campus-edge/outbox.sqlite3"
    max_taps: int = 100_000


@dataclass(frozen=True, slots=True)
class ClockConfig:
    timezone: str = "Europe/Paris"
    sync_check: str = "auto"


@dataclass(frozen=True, slots=True)
class Config:
    campus: str
    reader: str
    mqtt: MqttConfig
    nfc: NfcConfig = NfcConfig()
    feedback: FeedbackConfig = FeedbackConfig()
    outbox: OutboxConfig = OutboxConfig()
    clock: ClockConfig = ClockConfig()
    log_level: str = "INFO"


def load_config(path: str | Path, *, environ: Mapping[str, str] | None = None) -> Config:
    """Read and validate ``path``; raise :class:`ConfigError` listing every problem."""
    environ = os.environ if environ is None else environ
    try:
        with Path(path).open("rb") as file:
            raw = tomllib.load(file)
    except OSError as error:
        raise ConfigError(f"cannot read config file {path}: {error.strerror}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"config file {path} is not valid TOML: {error}") from None
    problems: list[str] = []
    config = _build(raw, problems, environ)
    if problems:
        listed = "\n".join(f"  - {problem}" for problem in problems)
        raise ConfigError(f"config file {path} is invalid:\n{listed}")
    assert config is not None
    return config


def _build(raw: dict[str, Any], problems: list[str], environ: Mapping[str, str]) -> Config | None:
    top = _Section("", raw, problems)
    campus = top.get("campus", str, check=is_valid_id, hint="an id matching [a-z0-9-]{1,64}")
    reader = top.get("reader", str, check=is_valid_id, hint="an id matching [a-z0-9-]{1,64}")
    log_level = top.get("log_level", str, "INFO", check=_is_level, hint="DEBUG|INFO|WARNING")
    mqtt = _mqtt(top.section("mqtt", required=True), reader, environ)
    nfc = _nfc(top.section("nfc"))
    feedback = _feedback(top.section("feedback"))
    outbox = _outbox(top.section("outbox"))
    clock = _clock(top.section("clock"))
    top.reject_unknown()
    if problems:
        return None
    return Config(campus, reader, mqtt, nfc, feedback, outbox, clock, log_level.upper())


def _mqtt(s: _Section, reader: Any, environ: Mapping[str, str]) -> MqttConfig:
    host = s.get("host", str, check=bool, hint="a host name")
    tls = s.get("tls", bool, True)
    port = s.get("port", int, 8883 if tls else 1883, check=_between(1, 65535))
    ca_file = s.get("ca_file", str, "")
    cert_file = s.get("cert_file", str, "")
    key_file = s.get("key_file", str, "")
    if tls is True:
        _check_tls_files(s, ca_file, cert_file, key_file)
    password = s.get("password", str, "", secret=True)
    password_file = s.get("password_file", str, "")
    if password_file:
        password = _read_secret(s, "password_file", password_file)
    password = environ.get(PASSWORD_ENV) or password
    username = s.get("username", str, reader if isinstance(reader, str) else "")
    config = MqttConfig(
        host=host,
        port=port,
        tls=tls,
        ca_file=ca_file,
        cert_file=cert_file,
        key_file=key_file,
        username=username,
        password=password,
        protocol=s.get("protocol", int, 5, check=lambda v: v in (3, 5), hint="3 or 5"),
        keepalive_s=s.get("keepalive_s", int, 30, check=_between(5, 3600)),
        heartbeat_s=s.get("heartbeat_s", int, 60, check=_between(1, 3600)),
        reconnect_min_s=s.get("reconnect_min_s", int, 1, check=_between(1, 3600)),
        reconnect_max_s=s.get("reconnect_max_s", int, 60, check=_between(1, 3600)),
        max_unacked=s.get("max_unacked", int, 250, check=_between(1, 60_000)),
        refused_retry_s=s.get("refused_retry_s", float, 300.0, check=_between(1, 86400)),
        confirm_timeout_s=s.get("confirm_timeout_s", float, 10.0, check=_between(0.1, 3600)),
        confirm_retry_max_s=s.get("confirm_retry_max_s", float, 120.0, check=_between(0.1, 86400)),
    )
    if config.confirm_retry_max_s < config.confirm_timeout_s:
        s.problem("confirm_retry_max_s", "must be at least confirm_timeout_s")
    s.reject_unknown()
    return config


def _check_tls_files(s: _Section, ca_file: Any, cert_file: Any, key_file: Any) -> None:
    if isinstance(ca_file, str) and ca_file:
        try:
            ssl.create_default_context(cafile=ca_file)
        except ssl.SSLError:  # before OSError, of which it is a subclass
            s.problem("ca_file", f"{ca_file} holds no PEM CA certificate")
        except OSError as error:
            s.problem("ca_file", f"cannot read CA file {ca_file}: {error.strerror or error}")
    if bool(cert_file) != bool(key_file):
        s.problem("cert_file", "cert_file and key_file go together (client certificate)")
    for key, value in (("cert_file", cert_file), ("key_file", key_file)):
        if isinstance(value, str) and value and not os.access(value, os.R_OK):
            s.problem(key, f"cannot read {value}")


def _read_secret(s: _Section, key: str, path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as error:
        s.problem(key, f"cannot read {path}: {getattr(error, 'strerror', None) or error}")
        return ""


def _nfc(s: _Section) -> NfcConfig:
    targets = s.get("targets", list, ["106A", "212F"])
    if isinstance(targets, list):
        bad = [t for t in targets if t not in NFC_TARGETS]
        if bad or not targets:
            s.problem("targets", f"expected a non-empty list of {', '.join(NFC_TARGETS)}")
    config = NfcConfig(
        device=s.get("device", str, "usb", check=_DEVICE.fullmatch, hint=_DEVICE_HINT),
        targets=tuple(targets) if isinstance(targets, list) else (),
        debounce_s=s.get("debounce_s", float, 5.0, check=_between(0, 3600)),
        retry_min_s=s.get("retry_min_s", float, 1.0, check=_between(0.01, 3600)),
        retry_max_s=s.get("retry_max_s", float, 60.0, check=_between(0.01, 3600)),
    )
    s.reject_unknown()
    return config


_DEVICE_HINT = "an nfcpy path such as usb, usb:054c:06c3, tty:AMA0:pn532, udp:127.0.0.1:54321"


def _feedback(s: _Section) -> FeedbackConfig:
    pins = {
        name: s.get(name, (int, str), None, check=_is_pin, hint=_PIN_HINT)
        for name in ("green", "red", "amber", "buzzer")
    }
    used = [_pin_key(pin) for pin in pins.values() if pin is not None]
    if len(set(used)) != len(used):
        s.problem("pins", "green, red, amber and buzzer must be different pins")
    config = FeedbackConfig(
        enabled=s.get("enabled", bool, True),
        active_high=s.get("active_high", bool, True),
        server_wait_s=s.get("server_wait_s", float, 1.0, check=_between(0.05, 10)),
        **pins,
    )
    s.reject_unknown()
    return config


_PIN_HINT = "a BCM GPIO number 0-27 or a gpiozero pin name such as GPIO17 or BOARD11"


def _outbox(s: _Section) -> OutboxConfig:
    path = s.get("path", str, OutboxConfig.path, check=bool, hint="a file path")
    if isinstance(path, str) and path and not Path(path).parent.is_dir():
        s.problem("path", f"folder {Path(path).parent} does not exist")
    config = OutboxConfig(
        path=path, max_taps=s.get("max_taps", int, 100_000, check=_between(1, 10_000_000))
    )
    s.reject_unknown()
    return config


def _clock(s: _Section) -> ClockConfig:
    config = ClockConfig(
        timezone=s.get("timezone", str, "Europe/Paris", check=_is_zone, hint="e.g. Europe/Paris"),
        sync_check=s.get(
            "sync_check", str, "auto", check=SYNC_CHECKS.__contains__, hint="|".join(SYNC_CHECKS)
        ),
    )
    s.reject_unknown()
    return config


# --------------------------------------------------------------------------- checks


def _between(low: float, high: float):
    def check(value: float) -> bool:
        return low <= value <= high

    check.hint = f"a number from {low} to {high}"  # type: ignore[attr-defined]
    return check


def _is_pin(value: int | str | None) -> bool:
    if value is None:
        return True
    if isinstance(value, int):
        return 0 <= value <= 27
    match = _PIN_NAME.fullmatch(value)
    if match is None:
        return False
    if match.group(2) is not None:
        return 0 <= int(match.group(2)) <= 27
    return 1 <= int(match.group(4)) <= 40


def _pin_key(value: int | str) -> str:
    """GPIO17, BCM17 and 17 name the same pin."""
    match = _PIN_NAME.fullmatch(value) if isinstance(value, str) else None
    return str(int(match.group(2))) if match and match.group(2) else str(value)


def _is_zone(value: str) -> bool:
    try:
        zoneinfo.ZoneInfo(value)
    except (ValueError, zoneinfo.ZoneInfoNotFoundError):
        return False
    return True


def _is_level(value: str) -> bool:
    return value.upper() in ("DEBUG", "INFO", "WARNING", "ERROR")


class _Section:
    """Reads typed keys of one TOML table, recording problems instead of raising."""

    def __init__(self, name: str, table: Any, problems: list[str]) -> None:
        self.name = name
        self.table = table if isinstance(table, dict) else {}
        self.problems = problems
        self.seen: set[str] = set()

    def key(self, key: str) -> str:
        return f"{self.name}.{key}" if self.name else key

    def problem(self, key: str, text: str) -> None:
        self.problems.append(f"{self.key(key)}: {text}")

    def section(self, name: str, *, required: bool = False) -> _Section:
        self.seen.add(name)
        table = self.table.get(name, _MISSING)
        if table is _MISSING:
            if required:
                self.problems.append(f"[{name}]: missing table")
            table = {}
        elif not isinstance(table, dict):
            self.problem(name, "expected a table")
        return _Section(self.key(name), table, self.problems)

    def get(
        self, key: str, kind: Any, default: Any = _MISSING, *, check=None, hint="", secret=False
    ) -> Any:
        self.seen.add(key)
        value = self.table.get(key, default)
        if value is _MISSING:
            self.problem(key, "missing key")
            return None
        if value is None and default is None:
            return None
        if kind is float and type(value) is int:
            value = float(value)
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if type(value) not in kinds:
            shown = "a secret value" if secret else _shown(value)
            self.problem(key, f"expected {_kind_name(kinds)}, got {shown}")
            return default if default is not _MISSING else None
        if check is not None and not check(value):
            hint = hint or getattr(check, "hint", "another value")
            self.problem(key, f"expected {hint}, got {_shown(value)}")
        return value

    def reject_unknown(self) -> None:
        for key in sorted(self.table.keys() - self.seen):
            self.problem(key, "unknown key")


def _kind_name(kinds: tuple[type, ...]) -> str:
    names = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}
    names |= {list: "a list"}
    return " or ".join(names.get(kind, kind.__name__) for kind in kinds)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
