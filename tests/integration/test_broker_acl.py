"""The broker's access control, against a real Mosquitto.

Two brokers are used:

- one started by ``tests.services.Mosquitto`` with the repository's ACL template
  (``firmware_config/mosquitto/acl.template``) rendered for a test campus: who may
  publish and read what;
- one started from the production ``campus.conf`` itself (paths and ports moved into a
  temporary folder), with the TLS files of ``make-ca.sh`` and an account created by
  ``provision-reader.sh``: the whole setup an operator follows in the README.

Every wait has a timeout; "nothing was delivered" is proved by a later message that was
delivered on the same connection (MQTT keeps the order of one subscriber's deliveries),
not by sleeping.
"""

from __future__ import annotations

import contextlib
import queue
import re
import signal
import socket
import ssl
import subprocess
import threading
import time
import tomllib
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.reasoncodes import ReasonCode

from edge.protocol import (
    STATUS_SUBSCRIPTION,
    TAPS_SHARED_SUBSCRIPTION,
    TAPS_SUBSCRIPTION,
    Confirmation,
    Feedback,
    FeedbackResult,
    ReaderState,
    ReaderStatus,
    Tap,
    confirm_topic,
    events_topic,
    feedback_topic,
    parse_reader_topic,
    status_topic,
    taps_topic,
)
from tests.services import Mosquitto, free_port

pytestmark = pytest.mark.broker

MOSQUITTO_DIR = Path(__file__).resolve().parents[2] / "firmware_config" / "mosquitto"
CAMPUS = "test-campus"
PASSWORDS = {"reader-1": "pw-reader-1", "reader-2": "pw-reader-2", "campus-server": "pw-srv"}
TIMEOUT = 5.0
NOT_AUTHORIZED = 135
NO_MATCHING_SUBSCRIBERS = 16
ACCEPTED = (0, NO_MATCHING_SUBSCRIBERS)  # 16 only says nobody subscribed: not a failure


# --------------------------------------------------------------------------- helpers


# An MQTT 3.1.1 CONNECT packet (client id "x"), to speak plain MQTT to the TLS port.
MQTT311_CONNECT = b"\x10\x0d\x00\x04MQTT\x04\x02\x00\x3c\x00\x01x"


def first_bytes_answered(port: int, packet: bytes) -> bytes:
    """What the broker answers first to a raw packet (b"" if it closes the connection).
    A CONNACK starts with 0x20."""
    with socket.create_connection(("127.0.0.1", port), TIMEOUT) as raw:
        raw.settimeout(TIMEOUT)
        raw.sendall(packet)
        try:
            return raw.recv(64)
        except ConnectionResetError:
            return b""


def render_acl(campus: str) -> str:
    return (MOSQUITTO_DIR / "acl.template").read_text().replace("{campus}", campus)


def campus_conf_option(name: str) -> str:
    """The value an option has in the production campus.conf."""
    text = (MOSQUITTO_DIR / "campus.conf").read_text()
    match = re.search(rf"^{name}\s+(\S+)\s*$", text, re.MULTILINE)
    assert match, f"campus.conf sets no {name}"
    return match[1]


def a_confirmation() -> bytes:
    return Confirmation((uuid.uuid4().hex,)).to_json()


def a_tap(seq: int = 1) -> bytes:
    ts = datetime(2026, 11, 23, 9, 14, 3, 512000, tzinfo=UTC)
    return Tap(id=uuid.uuid4().hex, uid="04a1b2c3d4e5f6", ts=ts, seq=seq).to_json()


class Session:
    """A paho-mqtt 2.x MQTT 5 client that records what the broker answered."""

    def __init__(
        self,
        port: int,
        username: str | None,
        password: str | None,
        *,
        tls_ca: Path | None = None,
        will: tuple[str, bytes] | None = None,
    ) -> None:
        self.port = port
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=f"{username or 'anonymous'}-{uuid.uuid4().hex[:8]}",
            protocol=mqtt.MQTTv5,
        )
        if username is not None:
            self.client.username_pw_set(username, password)
        if tls_ca is not None:
            self.client.tls_set(ca_certs=str(tls_ca), cert_reqs=ssl.CERT_REQUIRED)
        if will is not None:
            self.client.will_set(will[0], will[1], qos=1, retain=True)
        self.messages: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        self.connack: queue.Queue[ReasonCode] = queue.Queue()
        self.disconnected = threading.Event()
        self._acks: dict[tuple[str, int], list[ReasonCode]] = {}
        self._changed = threading.Condition()
        self.client.on_connect = self._on_connect
        self.client.on_publish = self._on_publish
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = lambda _c, _u, message: self.messages.put(message)
        self.client.on_disconnect = lambda *_args: self.disconnected.set()

    # paho callbacks: record and return
    def _on_connect(self, _client, _userdata, _flags, reason_code, _properties) -> None:
        self.connack.put(reason_code)

    def _record(self, kind: str, mid: int, codes: list[ReasonCode]) -> None:
        with self._changed:
            self._acks[(kind, mid)] = codes
            self._changed.notify_all()

    def _on_publish(self, _client, _userdata, mid, reason_code, _properties) -> None:
        self._record("puback", mid, [reason_code])

    def _on_subscribe(self, _client, _userdata, mid, reason_codes, _properties) -> None:
        self._record("suback", mid, list(reason_codes))

    def _wait_ack(self, kind: str, mid: int) -> list[ReasonCode]:
        with self._changed:
            if not self._changed.wait_for(lambda: (kind, mid) in self._acks, TIMEOUT):
                raise AssertionError(f"no {kind} for message id {mid} within {TIMEOUT}s")
            return self._acks.pop((kind, mid))

    # commands
    def open(self) -> ReasonCode:
        """Connect; the CONNACK's reason code (paho keeps retrying after a refusal)."""
        self.client.connect("127.0.0.1", self.port, keepalive=30)
        self.client.loop_start()
        try:
            return self.connack.get(timeout=TIMEOUT)
        except queue.Empty:
            raise AssertionError(f"no CONNACK within {TIMEOUT}s") from None

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> int:
        """Publish with QoS 1; the PUBACK's reason code value."""
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        assert info.rc == mqtt.MQTT_ERR_SUCCESS, mqtt.error_string(info.rc)
        return self._wait_ack("puback", info.mid)[0].value

    def subscribe(self, *topics: str) -> list[int]:
        result, mid = self.client.subscribe([(topic, 1) for topic in topics])
        assert result == mqtt.MQTT_ERR_SUCCESS, mqtt.error_string(result)
        return [code.value for code in self._wait_ack("suback", mid)]

    def next_message(self) -> mqtt.MQTTMessage:
        try:
            return self.messages.get(timeout=TIMEOUT)
        except queue.Empty:
            raise AssertionError(f"no message within {TIMEOUT}s") from None

    def messages_until(self, topic: str, payload: bytes) -> list[mqtt.MQTTMessage]:
        """Every message received up to and including the marker (topic, payload)."""
        received = []
        while True:
            message = self.next_message()
            received.append(message)
            if message.topic == topic and message.payload == payload:
                return received


@contextlib.contextmanager
def session(port: int, username: str | None, password: str | None, **kwargs) -> Iterator[Session]:
    client = Session(port, username, password, **kwargs)
    try:
        reason = client.open()
        assert not reason.is_failure, f"{username} could not connect: {reason}"
        yield client
    finally:
        client.close()


def drop_uncleanly(port: int, username: str, password: str, will: tuple[str, bytes]) -> None:
    """Connect with a last will, then close the socket without DISCONNECT (no network
    thread runs, so paho neither pings nor reconnects): the broker sends the will."""
    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2,
        client_id=f"{username}-will-{uuid.uuid4().hex[:8]}",
        protocol=mqtt.MQTTv5,
    )
    client.username_pw_set(username, password)
    client.will_set(will[0], will[1], qos=1, retain=True)
    connected = threading.Event()
    client.on_connect = lambda _c, _u, _f, reason, _p: reason.is_failure or connected.set()
    try:
        client.connect("127.0.0.1", port, keepalive=30)
        deadline = time.monotonic() + TIMEOUT
        while not connected.is_set() and time.monotonic() < deadline:
            client.loop(timeout=0.05)
        assert connected.is_set(), f"{username} could not connect"
    finally:
        sock = client.socket()
        if sock is not None:
            sock.close()


@pytest.fixture
def broker(broker_dir: Path) -> Iterator[Mosquitto]:
    """Mosquitto with one account per reader, the server's account, and the ACL template
    rendered for CAMPUS. ``max_queued_messages`` is campus.conf's: the fixture default of
    0 makes Mosquitto 2.0.11 disconnect a client right after refusing its publish."""
    extra = f"max_queued_messages {campus_conf_option('max_queued_messages')}\n"
    with Mosquitto(broker_dir, passwords=PASSWORDS, acl=render_acl(CAMPUS), extra=extra) as server:
        yield server


def login(broker: Mosquitto, user: str, **kwargs) -> contextlib.AbstractContextManager[Session]:
    return session(broker.port, user, PASSWORDS[user], **kwargs)


# --------------------------------------------------------------------------- ACL


def test_reader_publishes_its_own_taps_and_the_server_receives_them(broker: Mosquitto) -> None:
    with login(broker, "campus-server") as server, login(broker, "reader-1") as reader:
        assert server.subscribe(TAPS_SHARED_SUBSCRIPTION, f"$share/ingest/{STATUS_SUBSCRIPTION}")
        payload = a_tap()
        assert reader.publish(taps_topic(CAMPUS, "reader-1"), payload) == 0
        message = server.next_message()
        assert message.payload == payload
        where = parse_reader_topic(message.topic)
        assert (where.campus, where.reader) == (CAMPUS, "reader-1")
        assert Tap.from_json(message.payload).seq == 1

        status = ReaderStatus(state=ReaderState.ONLINE, ts=datetime.now(UTC)).to_json()
        assert reader.publish(status_topic(CAMPUS, "reader-1"), status, retain=True) == 0
        assert server.next_message().payload == status


def test_spoofed_topics_get_reason_135_and_are_not_delivered(broker: Mosquitto) -> None:
    with login(broker, "campus-server") as server, login(broker, "reader-1") as reader:
        server.subscribe(TAPS_SUBSCRIPTION, STATUS_SUBSCRIPTION)
        offline = ReaderStatus(state=ReaderState.OFFLINE, ts=datetime.now(UTC)).to_json()
        forbidden = [
            (taps_topic(CAMPUS, "reader-2"), a_tap()),  # another reader's taps
            (status_topic(CAMPUS, "reader-2"), offline),  # another reader's status
            (taps_topic("other-campus", "reader-1"), a_tap()),  # its id, another campus
            (feedback_topic(CAMPUS, "reader-1"), b"{}"),  # feedback is the server's
            (confirm_topic(CAMPUS, "reader-1"), a_confirmation()),  # its own confirmation
            (confirm_topic(CAMPUS, "reader-2"), a_confirmation()),  # another's
            (feedback_topic(CAMPUS, "reader-2"), b"{}"),
            (events_topic(CAMPUS, "alerts"), b"{}"),
            (f"campus/{CAMPUS}/readers/reader-1/taps/extra", a_tap()),
            ("campus-server/anything", b"{}"),
        ]
        for topic, payload in forbidden:
            assert reader.publish(topic, payload) == NOT_AUTHORIZED, topic

        # Still connected, and its own taps still go through, after the refusals.
        marker = a_tap(seq=99)
        assert reader.publish(taps_topic(CAMPUS, "reader-1"), marker) == 0
        received = server.messages_until(taps_topic(CAMPUS, "reader-1"), marker)
        assert [m.topic for m in received] == [taps_topic(CAMPUS, "reader-1")]

    # The refused status was retained nowhere: a new subscriber gets reader-1's only.
    with login(broker, "campus-server") as late, login(broker, "reader-1") as reader:
        online = ReaderStatus(state=ReaderState.ONLINE, ts=datetime.now(UTC)).to_json()
        assert reader.publish(status_topic(CAMPUS, "reader-1"), online, retain=True) in ACCEPTED
        late.subscribe(status_topic(CAMPUS, "reader-2"), status_topic(CAMPUS, "reader-1"))
        assert late.next_message().topic == status_topic(CAMPUS, "reader-1")
        assert late.messages.empty()


def test_reader_reads_only_its_own_feedback(broker: Mosquitto) -> None:
    with (
        login(broker, "campus-server") as server,
        login(broker, "reader-1") as reader_1,
        login(broker, "reader-2") as reader_2,
    ):
        granted = reader_1.subscribe(
            feedback_topic(CAMPUS, "reader-2"),
            f"campus/{CAMPUS}/readers/+/feedback",
            TAPS_SUBSCRIPTION,
            "campus/#",
        )
        # Mosquitto 2.0 grants these (QoS 1) and filters deliveries; a broker refusing
        # them in the SUBACK (>= 128) would be as good. Either way nothing arrives below.
        assert all(code in (1, NOT_AUTHORIZED) for code in granted)

        others = Feedback(id="b" * 32, result=FeedbackResult.OUT, text="reader-2").to_json()
        assert server.publish(feedback_topic(CAMPUS, "reader-2"), others) == 0
        assert reader_2.publish(taps_topic(CAMPUS, "reader-2"), a_tap()) in ACCEPTED
        own = Feedback(id="a" * 32, result=FeedbackResult.IN, text="reader-1").to_json()
        assert server.publish(feedback_topic(CAMPUS, "reader-1"), own) == 0

        received = reader_1.messages_until(feedback_topic(CAMPUS, "reader-1"), own)
        # Overlapping subscriptions may deliver the own feedback more than once (MQTT 5).
        assert {(m.topic, m.payload) for m in received} == {
            (feedback_topic(CAMPUS, "reader-1"), own)
        }


def test_server_account_publishes_feedback_and_events_but_not_taps(broker: Mosquitto) -> None:
    with login(broker, "campus-server") as server, login(broker, "reader-1") as reader:
        reader.subscribe(feedback_topic(CAMPUS, "reader-1"))
        feedback = Feedback(id="a" * 32, result=FeedbackResult.IN, text="Bonjour").to_json()
        assert server.publish(feedback_topic(CAMPUS, "reader-1"), feedback) == 0
        assert Feedback.from_json(reader.next_message().payload).result is FeedbackResult.IN

        alert = b'{"v":1,"kind":"reader_down"}'
        assert server.publish(events_topic(CAMPUS, "alerts"), alert) in ACCEPTED
        assert server.publish(events_topic("another-campus", "occupancy"), b"{}") in ACCEPTED

        # The server cannot forge a reader's status. It may write on taps topics, only to
        # clear a retained tap (an empty retained message): it stores the taps anyway.
        assert server.publish(status_topic(CAMPUS, "reader-1"), b"{}") == NOT_AUTHORIZED
        assert server.publish(taps_topic(CAMPUS, "reader-1"), b"", retain=True) in ACCEPTED


def test_reader_reads_only_its_own_confirmations_and_only_the_server_sends_them(
    broker: Mosquitto,
) -> None:
    with (
        login(broker, "campus-server") as server,
        login(broker, "reader-1") as reader_1,
        login(broker, "reader-2") as reader_2,
    ):
        granted = reader_1.subscribe(
            confirm_topic(CAMPUS, "reader-1"),
            confirm_topic(CAMPUS, "reader-2"),
            f"campus/{CAMPUS}/readers/+/confirm",
        )
        assert all(code in (1, NOT_AUTHORIZED) for code in granted)
        # A reader account cannot confirm taps, its own or another's.
        assert reader_2.publish(confirm_topic(CAMPUS, "reader-1"), a_confirmation()) == 135
        assert reader_2.publish(confirm_topic(CAMPUS, "reader-2"), a_confirmation()) == 135
        assert server.publish(confirm_topic(CAMPUS, "reader-2"), a_confirmation()) in ACCEPTED
        own = a_confirmation()
        assert server.publish(confirm_topic(CAMPUS, "reader-1"), own) == 0

        received = reader_1.messages_until(confirm_topic(CAMPUS, "reader-1"), own)
        assert {(m.topic, m.payload) for m in received} == {
            (confirm_topic(CAMPUS, "reader-1"), own)
        }


def test_last_will_is_published_only_on_the_readers_own_status(broker: Mosquitto) -> None:
    offline = ReaderStatus(state=ReaderState.OFFLINE, ts=datetime.now(UTC), detail="lost")
    with login(broker, "campus-server") as server:
        server.subscribe(STATUS_SUBSCRIPTION)
        spoofed = (status_topic(CAMPUS, "reader-2"), offline.to_json())
        drop_uncleanly(broker.port, "reader-1", PASSWORDS["reader-1"], spoofed)
        own = (status_topic(CAMPUS, "reader-1"), offline.to_json())
        drop_uncleanly(broker.port, "reader-1", PASSWORDS["reader-1"], own)

        message = server.next_message()
        assert message.topic == own[0]
        assert ReaderStatus.from_json(message.payload).state is ReaderState.OFFLINE
    with login(broker, "campus-server") as late:  # and only the own will was retained
        late.subscribe(status_topic(CAMPUS, "reader-2"), status_topic(CAMPUS, "reader-1"))
        assert late.next_message().topic == own[0]
        assert late.messages.empty()


@pytest.mark.parametrize(
    ("user", "password"),
    [(None, None), ("reader-1", "wrong"), ("nobody", "pw-reader-1"), ("reader-1", "")],
)
def test_unknown_or_anonymous_clients_are_refused(
    broker: Mosquitto, user: str | None, password: str | None
) -> None:
    client = Session(broker.port, user, password)
    try:
        assert client.open().value == NOT_AUTHORIZED
    finally:
        client.close()


# --------------------------------------------------------------------------- campus.conf


def render_campus_conf(etc: Path, data: Path, plain_port: int, tls_port: int) -> str:
    """The production campus.conf with its paths and ports moved into a temp folder."""
    text = (MOSQUITTO_DIR / "campus.conf").read_text()
    replacements = {
        "/etc/mosquitto/campus/": f"{etc}/",
        "log_dest file /var/log/mosquitto/mosquitto.log": "log_dest stdout",
        "/var/lib/mosquitto/": f"{data}/",
        "/run/mosquitto/mosquitto.pid": f"{data}/mosquitto.pid",
        "\nlistener 8883\n": f"\nlistener {tls_port} 127.0.0.1\n",
        "\nlistener 1883 127.0.0.1\n": f"\nlistener {plain_port} 127.0.0.1\n",
    }
    for old, new in replacements.items():
        assert old in text, f"campus.conf no longer contains {old!r}: update this test"
        text = text.replace(old, new)
    settings = [line for line in text.splitlines() if line and not line.startswith("#")]
    leftovers = [line for line in settings if re.search(r"\s/(etc|var|run)/", line)]
    assert not leftovers, f"system paths left in the rendered config: {leftovers}"
    return text


class CampusBroker(Mosquitto):
    """Mosquitto running the repository's campus.conf (TLS listener + loopback one)."""

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)  # writes a test config, replaced below
        self.tls_port = free_port()
        self.config.write_text(render_campus_conf(folder, folder, self.port, self.tls_port))
        self._give_to_mosquitto_user()

    def reload(self) -> None:
        """What `systemctl reload mosquitto` does: re-read passwords and ACL."""
        assert self.process is not None
        self.process.send_signal(signal.SIGHUP)


def run_script(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(MOSQUITTO_DIR / name), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_campus_conf_has_no_dangerous_settings() -> None:
    settings = [
        line.split()
        for line in (MOSQUITTO_DIR / "campus.conf").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert ["allow_anonymous", "false"] in settings
    assert ["log_type", "all"] not in settings
    listeners = [line[1:] for line in settings if line[0] == "listener"]
    assert listeners == [["8883"], ["1883", "127.0.0.1"]]
    assert int(campus_conf_option("max_queued_messages")) > 0
    assert campus_conf_option("persistence") == "true"
    assert campus_conf_option("password_file") and campus_conf_option("acl_file")


def test_campus_conf_with_tls_ca_and_a_provisioned_reader(broker_dir: Path) -> None:
    etc = broker_dir
    made = run_script("make-ca.sh", "-d", str(etc), "localhost", "127.0.0.1")
    assert made.returncode == 0, made.stderr
    config_file = etc / "reader.toml"
    made = run_script(
        "provision-reader.sh", "-d", str(etc), "-H", "127.0.0.1", "-p", "8883",
        "-o", str(config_file), CAMPUS, "door-1",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert made.stdout == ""  # with -o the secret goes to the file only
    reader_config = tomllib.loads(config_file.read_text())
    password = reader_config["mqtt"]["password"]
    assert password not in made.stderr
    assert config_file.stat().st_mode & 0o777 == 0o600
    assert (reader_config["campus"], reader_config["reader"]) == (CAMPUS, "door-1")
    assert reader_config["mqtt"]["username"] == "door-1"
    subprocess.run(
        ["mosquitto_passwd", str(etc / "passwords"), "campus-server"],
        input="pw-srv\npw-srv\n",
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )

    with CampusBroker(etc) as broker:
        ca = etc / "ca.crt"
        with (
            session(broker.port, "campus-server", "pw-srv") as server,
            session(broker.tls_port, "door-1", password, tls_ca=ca) as reader,
        ):
            server.subscribe(TAPS_SHARED_SUBSCRIPTION)
            payload = a_tap()
            assert reader.publish(taps_topic(CAMPUS, "door-1"), payload) == 0
            assert server.next_message().payload == payload
            assert reader.publish(taps_topic(CAMPUS, "door-2"), a_tap()) == NOT_AUTHORIZED

        # Anonymous clients are refused on both listeners; plain MQTT on the TLS port
        # never gets a CONNACK; a broker certificate from another CA is refused.
        for port, ca_file in [(broker.port, None), (broker.tls_port, ca)]:
            anonymous = Session(port, None, None, tls_ca=ca_file)
            try:
                assert anonymous.open().value == NOT_AUTHORIZED
            finally:
                anonymous.close()
        assert first_bytes_answered(broker.port, MQTT311_CONNECT).startswith(b"\x20")
        assert not first_bytes_answered(broker.tls_port, MQTT311_CONNECT).startswith(b"\x20")
        other_ca = etc / "other-ca"
        assert run_script("make-ca.sh", "-d", str(other_ca), "localhost").returncode == 0
        # (With the ssl module directly: paho leaks the socket when the handshake fails.)
        stranger = ssl.create_default_context(cafile=other_ca / "ca.crt")
        with (
            pytest.raises(ssl.SSLCertVerificationError),
            socket.create_connection(("127.0.0.1", broker.tls_port), TIMEOUT) as raw,
            stranger.wrap_socket(raw, server_hostname="127.0.0.1"),
        ):
            pass
        campus_ca = ssl.create_default_context(cafile=ca)
        with (
            socket.create_connection(("127.0.0.1", broker.tls_port), TIMEOUT) as raw,
            campus_ca.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
        ):
            assert tls.version() in ("TLSv1.2", "TLSv1.3")


def test_provisioning_is_idempotent_and_rotation_takes_effect_on_reload(
    broker_dir: Path,
) -> None:
    etc = broker_dir
    assert run_script("make-ca.sh", "-d", str(etc), "127.0.0.1").returncode == 0
    first = run_script("provision-reader.sh", "-d", str(etc), CAMPUS, "door-1")
    assert first.returncode == 0, first.stderr
    old_password = tomllib.loads(first.stdout)["mqtt"]["password"]
    assert re.fullmatch(r"[0-9a-f]{48}", old_password)
    assert old_password not in first.stderr
    passwords = (etc / "passwords").read_bytes()
    acl = (etc / "acl").read_text()
    assert acl == render_acl(CAMPUS)

    again = run_script("provision-reader.sh", "-d", str(etc), CAMPUS, "door-1")
    assert again.returncode == 0, again.stderr
    assert again.stdout == ""  # no secret shown twice
    assert (etc / "passwords").read_bytes() == passwords
    assert (etc / "acl").read_text() == acl

    other = run_script("provision-reader.sh", "-d", str(etc), "another-campus", "door-9")
    assert other.returncode == 3  # the ACL is for CAMPUS: refuse, change nothing
    assert (etc / "passwords").read_bytes() == passwords
    for bad in (["Door-1"], ["door/1"], ["campus-server"], ["+"]):
        refused = run_script("provision-reader.sh", "-d", str(etc), CAMPUS, *bad)
        assert refused.returncode == 2, bad

    second = run_script("provision-reader.sh", "-d", str(etc), CAMPUS, "door-2")
    door_2_password = tomllib.loads(second.stdout)["mqtt"]["password"]

    with (
        CampusBroker(etc) as broker,
        session(broker.tls_port, "door-1", old_password, tls_ca=etc / "ca.crt") as stolen,
        session(broker.tls_port, "door-2", door_2_password, tls_ca=etc / "ca.crt") as other,
    ):
        ca = etc / "ca.crt"
        rotated = run_script("provision-reader.sh", "-d", str(etc), "--rotate", CAMPUS, "door-1")
        assert rotated.returncode == 0, rotated.stderr
        new_password = tomllib.loads(rotated.stdout)["mqtt"]["password"]
        assert new_password != old_password
        broker.reload()
        # Mosquitto 2.0 checks connected clients again on reload: the old password's
        # connection is cut at once, the other reader's stays up.
        assert stolen.disconnected.wait(TIMEOUT), "the old password's connection survived"
        assert other.publish(taps_topic(CAMPUS, "door-2"), a_tap()) in ACCEPTED
        assert not other.disconnected.is_set()
        deadline = time.monotonic() + TIMEOUT
        while True:  # the reload is asynchronous: wait until the old password fails
            client = Session(broker.tls_port, "door-1", old_password, tls_ca=ca)
            try:
                refused = client.open().value == NOT_AUTHORIZED
            finally:
                client.close()
            if refused or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert refused, "the old password still works after the reload"
        with session(broker.tls_port, "door-1", new_password, tls_ca=ca):
            pass
