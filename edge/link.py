"""The reader's MQTT link (paho-mqtt 2.x): TLS, credentials, last will, reconnect.

paho's network thread runs the callbacks below; each one only turns what happened into
an :mod:`edge.events` value and hands it to the agent (``handoff``). The feedback topic
and confirmation topics are subscribed in ``on_connect`` so that every reconnect
restores them. paho keeps QoS 1
messages it was given across reconnects and re-sends them in order, so a tap is handed
to paho once per process; the agent limits how many are unacknowledged at a time.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.reasoncodes import ReasonCode

from edge.config import MqttConfig
from edge.errors import EdgeError
from edge.events import (
    BadMessage,
    ConfirmArrived,
    Event,
    FeedbackArrived,
    LinkConnected,
    LinkLost,
    PublishAcked,
)
from edge.protocol import Confirmation, Feedback, ProtocolError

log = logging.getLogger(__name__)

PAHO_INFLIGHT = 100  # PUBLISH packets on the wire at once; the rest wait inside paho


class LinkError(EdgeError):
    """The MQTT client cannot be set up (TLS files, bad options)."""


class MqttLink:
    """One paho client, named after the reader, publishing taps and status."""

    def __init__(
        self,
        config: MqttConfig,
        *,
        client_id: str,
        feedback_topic: str,
        confirm_topic: str,
        will_topic: str,
        will_payload: bytes,
        handoff: Callable[[Event], None],
    ) -> None:
        self.config = config
        self.feedback_topic = feedback_topic
        self.confirm_topic = confirm_topic
        self.will_topic = will_topic
        self._handoff = handoff
        self._connected = False
        self._closed = False
        protocol = mqtt.MQTTv5 if config.protocol == 5 else mqtt.MQTTv311
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=protocol
        )
        self._configure(will_payload)

    def _configure(self, will_payload: bytes) -> None:
        client, config = self.client, self.config
        if config.username:
            client.username_pw_set(config.username, config.password or None)
        if config.tls:
            try:
                client.tls_set(
                    ca_certs=config.ca_file or None,
                    certfile=config.cert_file or None,
                    keyfile=config.key_file or None,
                    cert_reqs=ssl.CERT_REQUIRED,
                )
            except (OSError, ssl.SSLError, ValueError) as error:
                raise LinkError(f"cannot set up TLS: {error}") from error
        self.set_will(will_payload)
        client.reconnect_delay_set(config.reconnect_min_s, config.reconnect_max_s)
        client.max_inflight_messages_set(PAHO_INFLIGHT)
        client.max_queued_messages_set(0)
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        client.on_message = self._on_message

    # ------------------------------------------------------------------ commands

    def start(self) -> None:
        """Connect in the background; paho retries with backoff until it succeeds."""
        # A fresh session each time: feedback older than a second is useless, and paho
        # itself re-sends the taps it holds.
        kwargs: dict[str, Any] = {"clean_start": True} if self.config.protocol == 5 else {}
        self.client.connect_async(
            self.config.host, self.config.port, keepalive=self.config.keepalive_s, **kwargs
        )
        self.client.loop_start()

    def set_will(self, payload: bytes) -> None:
        """The status the broker publishes if this connection drops (used on reconnect)."""
        self.client.will_set(self.will_topic, payload, qos=1, retain=True)

    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> int | None:
        """Hand a QoS 1 message to paho; its mid, or None when paho refused it (full).

        paho accepts it while disconnected too, and sends it after the reconnect."""
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        if info.rc in (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_NO_CONN):
            return info.mid
        log.warning("paho refused a publish: %s", mqtt.error_string(info.rc))
        return None

    def publish_and_wait(self, topic: str, payload: bytes, *, timeout: float) -> bool:
        """Publish retained and wait for the PUBACK (used for the final status)."""
        if not self._connected:
            return False
        info = self.client.publish(topic, payload, qos=1, retain=True)
        try:
            info.wait_for_publish(timeout)
        except (RuntimeError, ValueError):
            return False
        return info.is_published()

    @property
    def connected(self) -> bool:
        return self._connected

    # ------------------------------------------------------------------ paho callbacks

    def _on_connect(self, client, userdata, flags, reason_code: ReasonCode, properties) -> None:
        if reason_code.is_failure:
            self._handoff(LinkLost(f"broker refused the connection: {reason_code}"))
            return
        self._connected = True
        client.subscribe([(self.feedback_topic, 1), (self.confirm_topic, 1)])
        self._handoff(LinkConnected())

    def _on_connect_fail(self, client, userdata) -> None:
        self._handoff(LinkLost("cannot reach the broker"))

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        self._connected = False
        self._handoff(LinkLost(str(reason_code)))

    def _on_publish(self, client, userdata, mid: int, reason_code: ReasonCode, properties) -> None:
        code = int(getattr(reason_code, "value", 0))
        self._handoff(PublishAcked(mid, reason_code.is_failure, str(reason_code), code))

    def _on_message(self, client, userdata, message: mqtt.MQTTMessage) -> None:
        """Only the reader's own feedback and confirm topics are subscribed; anything
        that does not parse is handed over as :class:`BadMessage` (the agent counts it)."""
        confirm = message.topic == self.confirm_topic
        kind = "confirm" if confirm else "feedback"
        try:
            if confirm:
                self._handoff(ConfirmArrived(Confirmation.from_json(message.payload).ids))
            else:
                self._handoff(FeedbackArrived(Feedback.from_json(message.payload)))
        except ProtocolError as error:
            log.warning("ignored a malformed %s message (%s)", kind, error.reason)
            self._handoff(BadMessage(kind, error.reason.value))

    # ------------------------------------------------------------------ lifetime

    def close(self, *, final_status: bytes | None = None, timeout: float = 2.0) -> None:
        """Publish ``final_status`` (retained) if connected, disconnect cleanly, stop."""
        if self._closed:
            return
        self._closed = True
        if final_status is not None:
            self.publish_and_wait(self.will_topic, final_status, timeout=timeout)
        self.client.disconnect()
        self.client.loop_stop()
        self._connected = False

    def __enter__(self) -> MqttLink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else ("connected" if self._connected else "connecting")
        return f"<MqttLink {self.config.host}:{self.config.port} {state}>"
