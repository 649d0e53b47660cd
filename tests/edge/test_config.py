"""Config files: the example loads, and each kind of mistake gives one readable error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from edge.config import PASSWORD_ENV, load_config
from edge.errors import ConfigError
from tests.edge.conftest import ROOT

EXAMPLE = ROOT / "firmware_config" / "edge.example.toml"


def write(tmp_path: Path, text: str, name: str = "edge.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def minimal(tmp_path: Path, extra_mqtt: str = "", extra: str = "") -> str:
    return f"""
campus = "c1"
reader = "door-1"
{extra}
[mqtt]
host = "127.0.0.1"
tls = false
{extra_mqtt}
[outbox]
path = "{tmp_path}/outbox.sqlite3"
"""


def error_of(path: Path, environ: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ=environ or {})
    return str(caught.value)


def test_the_example_config_is_valid_once_its_paths_exist(tmp_path: Path, ca_file: Path) -> None:
    text = EXAMPLE.read_text()
    text = text.replace("/etc/campus-edge/ca.crt", str(ca_file))
    text = text.replace("/var/lib/campus-edge/", f"{tmp_path}/")
    config = load_config(write(tmp_path, text), environ={})

    assert (config.campus, config.reader) == ("paris-13", "porte-1")
    assert config.mqtt.tls and config.mqtt.ca_file == str(ca_file)
    assert config.nfc.targets == ("106A", "212F") and config.nfc.debounce_s == 5.0
    assert (config.feedback.green, config.feedback.red, config.feedback.buzzer) == (17, 27, 23)
    assert config.outbox.max_taps == 100_000


def test_defaults_fill_a_minimal_file(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, minimal(tmp_path)), environ={})

    assert config.mqtt.port == 1883 and config.mqtt.username == "door-1"
    assert config.mqtt.heartbeat_s == 60 and config.feedback.server_wait_s == 1.0
    assert config.feedback.green is None and config.clock.timezone == "Europe/Paris"


def test_the_password_comes_from_the_environment_and_never_shows(tmp_path: Path) -> None:
    path = write(tmp_path, minimal(tmp_path, 'password = "from-file"'))

    config = load_config(path, environ={PASSWORD_ENV: "s3cret-env"})

    assert config.mqtt.password == "s3cret-env"
    assert "s3cret" not in repr(config) and "from-file" not in repr(config)


def test_a_password_file_is_read(tmp_path: Path) -> None:
    secret = write(tmp_path, "from-credential\n", "password")
    config = load_config(
        write(tmp_path, minimal(tmp_path, f'password_file = "{secret}"')), environ={}
    )
    assert config.mqtt.password == "from-credential"


def test_missing_keys_are_named(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, '[mqtt]\ntls = false\n[outbox]\npath = "x"\n'))

    assert message.startswith(f"config file {tmp_path}/edge.toml is invalid:")
    assert "campus: missing key" in message
    assert "reader: missing key" in message
    assert "mqtt.host: missing key" in message


def test_a_missing_mqtt_table_is_named(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, 'campus = "c1"\nreader = "r1"\n'))
    assert "[mqtt]: missing table" in message


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('port = "1883"', "mqtt.port: expected an integer, got '1883'"),
        ("port = 70000", "mqtt.port: expected a number from 1 to 65535, got 70000"),
        ("keepalive_s = 2.5", "mqtt.keepalive_s: expected an integer, got 2.5"),
        ("protocol = 4", "mqtt.protocol: expected 3 or 5, got 4"),
        ("password = 12345", "mqtt.password: expected a string, got a secret value"),
        ("max_unacked = 70000", "mqtt.max_unacked: expected a number from 1 to 60000"),
        ("colour = 1", "mqtt.colour: unknown key"),
    ],
)
def test_wrong_types_and_values_are_explained(tmp_path: Path, line: str, expected: str) -> None:
    message = error_of(write(tmp_path, minimal(tmp_path, line)))
    assert expected in message
    assert "12345" not in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('campus = "C1"\nreader = "r"', "campus: expected an id matching [a-z0-9-]{1,64}"),
        ('campus = "c1"\nreader = "door 1"', "reader: expected an id matching"),
    ],
)
def test_bad_ids_are_refused(tmp_path: Path, text: str, expected: str) -> None:
    body = minimal(tmp_path).replace('campus = "c1"\nreader = "door-1"', text)
    assert expected in error_of(write(tmp_path, body))


@pytest.mark.parametrize(
    ("pins", "expected"),
    [
        ("green = 40", "feedback.green: expected a BCM GPIO number 0-27"),
        ('red = "GPIO99"', "feedback.red: expected a BCM GPIO number"),
        ("buzzer = true", "feedback.buzzer: expected an integer or a string, got True"),
        ('green = 17\nred = "GPIO17"', "feedback.pins: green, red, amber and buzzer must be"),
    ],
)
def test_bad_pins_are_refused(tmp_path: Path, pins: str, expected: str) -> None:
    body = minimal(tmp_path) + f"[feedback]\n{pins}\n"
    assert expected in error_of(write(tmp_path, body))


def test_bad_nfc_and_clock_values_are_refused(tmp_path: Path) -> None:
    body = minimal(tmp_path) + (
        '[nfc]\ndevice = "bluetooth"\ntargets = ["106A", "999X"]\n'
        '[clock]\ntimezone = "Mars/Olympus"\nsync_check = "sometimes"\n'
    )
    message = error_of(write(tmp_path, body))

    assert "nfc.device: expected an nfcpy path such as usb" in message
    assert "nfc.targets: expected a non-empty list of 106A, 106B, 212F, 424F" in message
    assert "clock.timezone: expected e.g. Europe/Paris, got 'Mars/Olympus'" in message
    assert "clock.sync_check: expected auto|adjtimex|timesyncd|assume-synced" in message


def test_an_unreadable_ca_file_is_refused(tmp_path: Path) -> None:
    body = minimal(tmp_path).replace("tls = false", f'ca_file = "{tmp_path}/missing.crt"')
    message = error_of(write(tmp_path, body))
    assert f"mqtt.ca_file: cannot read CA file {tmp_path}/missing.crt" in message


def test_a_ca_file_that_is_no_certificate_is_refused(tmp_path: Path) -> None:
    junk = write(tmp_path, "not a certificate\n", "junk.crt")
    body = minimal(tmp_path).replace("tls = false", f'ca_file = "{junk}"')
    assert f"mqtt.ca_file: {junk} holds no PEM CA certificate" in error_of(write(tmp_path, body))


def test_an_outbox_in_a_missing_folder_is_refused(tmp_path: Path) -> None:
    body = minimal(tmp_path).replace(f"{tmp_path}/outbox", f"{tmp_path}/nowhere/outbox")
    assert f"outbox.path: folder {tmp_path}/nowhere does not exist" in error_of(
        write(tmp_path, body)
    )


def test_unreadable_or_broken_files_are_one_line(tmp_path: Path) -> None:
    assert error_of(tmp_path / "absent.toml") == (
        f"cannot read config file {tmp_path}/absent.toml: No such file or directory"
    )
    message = error_of(write(tmp_path, "campus = \n"))
    assert message.startswith(f"config file {tmp_path}/edge.toml is not valid TOML")


def test_the_cli_prints_one_readable_error_and_exits_2(tmp_path: Path) -> None:
    path = write(tmp_path, minimal(tmp_path, 'port = "x"'))
    result = subprocess.run(
        [sys.executable, "-m", "edge.cli", "--config", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr == (
        f"campus-edge: config file {path} is invalid:\n"
        "  - mqtt.port: expected an integer, got 'x'\n"
    )
    assert "Traceback" not in result.stderr


def test_the_cli_check_option_validates_without_running(tmp_path: Path) -> None:
    path = write(tmp_path, minimal(tmp_path))
    result = subprocess.run(
        [sys.executable, "-m", "edge.cli", "--config", str(path), "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "is valid" in result.stdout
