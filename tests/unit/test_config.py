"""Configuration: layered defaults -> TOML -> environment, one readable error each."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.config import ConfigError, load_settings

SECRET = {"CAMPUS_BADGES_HASH_SECRET": "s" * 32}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "campus.toml"
    path.write_text(text)
    return path


def test_defaults_are_the_embedded_setup() -> None:
    settings = load_settings(environ=SECRET)
    assert settings.events.backend == "sqlite"
    assert settings.mqtt.protocol == 5 and settings.mqtt.manual_ack is True
    assert settings.registry_database_url.startswith("sqlite:///")


def test_influxdb_speaks_the_tested_api_unless_told(tmp_path: Path) -> None:
    """Debian and Raspberry Pi OS ship InfluxDB 1.6, the one server tested: a config naming
    only its URL must work with it (docs/influxdb.md)."""
    path = write(
        tmp_path, '[events]\nbackend = "influxdb"\n[events.influxdb]\nurl = "http://i:8086"\n'
    )
    assert load_settings(path, SECRET).influxdb.api_version == 1


def test_file_then_environment_override(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[mqtt]
host = "broker.campus.lan"
port = 8883
[events]
backend = "influxdb"
[events.influxdb]
url = "http://influx:8086"
api_version = 1
[[campus]]
id = "saint-marcellin"
readers = ["porte-1", "salle-a"]
""",
    )
    environ = {
        **SECRET,
        "CAMPUS_MQTT_PORT": "1883",
        "CAMPUS_INFLUXDB_TOKEN": "t0k3n",
        "CAMPUS_MQTT_MANUAL_ACK": "no",
    }
    settings = load_settings(path, environ)
    assert (settings.mqtt.host, settings.mqtt.port, settings.mqtt.manual_ack) == (
        "broker.campus.lan",
        1883,
        False,
    )
    assert (settings.influxdb.url, settings.influxdb.api_version) == ("http://influx:8086", 1)
    assert settings.influxdb.token == "t0k3n"
    assert settings.known_readers() == {
        ("saint-marcellin", "porte-1"),
        ("saint-marcellin", "salle-a"),
    }


def test_secrets_never_appear_in_repr() -> None:
    environ = {**SECRET, "CAMPUS_MQTT_PASSWORD": "hunter2-pw", "CAMPUS_INFLUXDB_TOKEN": "tok-42"}
    text = repr(load_settings(environ=environ))
    assert "hunter2-pw" not in text and "tok-42" not in text and "s" * 32 not in text


@pytest.mark.parametrize(
    ("text", "environ", "message"),
    [
        ("[mqtt]\nport = 'eighteen'", {}, "mqtt.port must be an integer"),
        ("[mqtt]\nprot = 5", {}, "unknown key(s) in [mqtt]: prot"),
        ("[events]\nbackend = 'mongodb'", {}, "events.backend"),
        ("[events.influxdb]\napi_version = 3", {}, "api_version must be 1 or 2"),
        ("[[campus]]\nid = 'Saint Marcellin'", {}, "id must match"),
        ("[[campus]]\nid = 'c1'\nreaders = ['Door 1']", {}, "readers must be ids"),
        ("[mqtt\nport = 1", {}, "not valid TOML"),
        ("[wbe]\nport = 1", {}, "unknown key(s) in [the top level]: wbe"),
        ("", {"CAMPUS_MQTT_PORT": "x"}, "mqtt.port must be an integer"),
        ("", {"CAMPUS_MQTT_MANUAL_ACK": "maybe"}, "must be true or false"),
    ],
)
def test_a_bad_value_gives_one_readable_error(
    tmp_path: Path, text: str, environ: dict, message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, text), {**SECRET, **environ})
    assert message in str(caught.value)


def test_the_badge_secret_is_required(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="CAMPUS_BADGES_HASH_SECRET"):
        load_settings(environ={})


def test_a_missing_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_settings(tmp_path / "nope.toml", SECRET)


def test_the_metrics_token_comes_from_the_file_or_the_environment(tmp_path: Path) -> None:
    config = tmp_path / "campus.toml"
    config.write_text('[web]\nmetrics_token = "from-the-file-0123456789"\n')
    environ = {"CAMPUS_BADGES_HASH_SECRET": "s" * 32}
    assert load_settings(config, environ).web.metrics_token == "from-the-file-0123456789"
    environ["CAMPUS_WEB_METRICS_TOKEN"] = "from-the-environment-0123"
    settings = load_settings(config, environ)
    assert settings.web.metrics_token == "from-the-environment-0123"
    assert "from-the" not in repr(settings)
    assert load_settings(None, {"CAMPUS_BADGES_HASH_SECRET": "s" * 32}).web.metrics_token == ""
