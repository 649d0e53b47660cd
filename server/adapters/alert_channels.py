"""Alert channels: e-mail over SMTP, a JSON webhook for an SMS gateway, MQTT events.

Each implements :class:`server.services.alerts.notifications.Channel`. Passwords and secrets are
read from the environment variables the campus's settings name, never stored or logged.
Errors are reported without personal data (addresses and phone numbers stay out).
The webhook's body and how a receiver checks it are described in ``docs/alerts.md``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import smtplib
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from zoneinfo import ZoneInfo

from edge.protocol import events_topic, format_timestamp
from server.domain.accounts import Role
from server.domain.alert_links import recipient_role
from server.domain.alerts import AlertKind
from server.domain.errors import InvalidInput
from server.domain.notices import (
    RAISED_AND_RESOLVED,
    Channel,
    ChannelUnavailable,
    DeliveryFailed,
    Notice,
    NoticeKind,
    TestMessage,
)
from server.domain.phones import DEFAULT_COUNTRY, InvalidPhone, e164
from server.texts import alert_texts

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Campus-Signature"
WEBHOOK_VERSION = 2
MIN_SECRET_CHARS = 16
counters = {"webhook_invalid_phone": 0, "webhook_secret_refused": 0}
_SENT_BY_MAIL = {NoticeKind.RAISED, NoticeKind.ESCALATED, NoticeKind.ARRIVED}


def _mail_worthy(notice: Notice) -> bool:
    if notice.kind in RAISED_AND_RESOLVED:
        return notice.notice in (NoticeKind.RAISED, NoticeKind.RESOLVED)
    return notice.notice in _SENT_BY_MAIL


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 587
    security: str = "starttls"  # starttls | ssl | none
    username: str = ""
    password: str = field(default="", repr=False)
    from_address: str = ""
    timeout_s: float = 10.0


class EmailChannel(Channel):
    name = "email"

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    def handles(self, notice: Notice) -> bool:
        return _mail_worthy(notice) and bool(notice.emails)

    def send(self, notice: Notice) -> None:
        message = EmailMessage()
        message["Subject"] = alert_texts.subject(notice)
        message["From"] = self.settings.from_address
        message["To"] = ", ".join(notice.emails)
        message.set_content(alert_texts.body(notice))
        message.add_alternative(alert_texts.html_body(notice), subtype="html")
        try:
            with self._connect() as client:
                if self.settings.username:
                    client.login(self.settings.username, self.settings.password)
                client.send_message(message)
        except (OSError, smtplib.SMTPException) as error:
            raise DeliveryFailed(f"SMTP: {type(error).__name__}: {_first_line(error)}") from None

    def send_test(self, message: TestMessage) -> None:
        """A test e-mail to the campus's coordinators (issue 18)."""
        if not message.coordinators:
            raise DeliveryFailed("SMTP: no coordinator address to send the test to")
        mail = EmailMessage()
        mail["Subject"] = message.subject
        mail["From"] = self.settings.from_address
        mail["To"] = ", ".join(message.coordinators)
        mail.set_content(message.text)
        try:
            with self._connect() as client:
                if self.settings.username:
                    client.login(self.settings.username, self.settings.password)
                client.send_message(mail)
        except (OSError, smtplib.SMTPException) as error:
            raise DeliveryFailed(f"SMTP: {type(error).__name__}: {_first_line(error)}") from None

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        context = ssl.create_default_context()
        if s.security == "ssl":
            return smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout_s, context=context)
        client = smtplib.SMTP(s.host, s.port, timeout=s.timeout_s)
        if s.security == "starttls":
            client.starttls(context=context)
        return client


def _first_line(error: BaseException) -> str:
    # SMTP errors may quote a recipient address back: keep the code and the first words.
    if isinstance(error, smtplib.SMTPResponseException):
        return str(error.smtp_code)
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return "recipients refused"
    return str(error).splitlines()[0][:120] if str(error) else ""


class WebhookSecretError(InvalidInput):
    """A webhook channel without a secret of at least :data:`MIN_SECRET_CHARS`."""


def webhook_secret_problem(secret: str) -> str | None:
    """What is wrong with a webhook secret (``None``: nothing)."""
    if not secret:
        return "is not set"
    if len(secret) < MIN_SECRET_CHARS:
        return f"is shorter than {MIN_SECRET_CHARS} characters"
    return None


def _utc_now() -> datetime:
    return datetime.now(UTC)


class WebhookChannel(Channel):
    """POSTs a JSON notice (:func:`webhook_payload`), signed with HMAC-SHA256 of the body
    in ``X-Campus-Signature: sha256=<hex>``, retrying a few times with a growing pause;
    later retries are the delivery job's. Refuses to exist without a secret of at least
    16 characters (:class:`WebhookSecretError`)."""

    name = "webhook"

    def __init__(
        self,
        url: str,
        secret: str,
        *,
        attempts: int = 3,
        pause_s: float = 0.5,
        timeout_s: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], datetime] = _utc_now,
        country: str = DEFAULT_COUNTRY,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError("a webhook URL must start with http:// or https://")
        problem = webhook_secret_problem(secret)
        if problem:
            raise WebhookSecretError(f"the webhook secret {problem}")
        self.url = url
        self._secret = secret.encode()
        self.attempts = attempts
        self.pause_s = pause_s
        self.timeout_s = timeout_s
        self._sleep = sleep
        self._clock = clock
        self.country = country

    def __repr__(self) -> str:
        return f"WebhookChannel(url={self.url!r})"

    def handles(self, notice: Notice) -> bool:
        return _mail_worthy(notice)

    def send(self, notice: Notice) -> None:
        payload = webhook_payload(notice, at=self._clock(), country=self.country)
        if not payload["to"]:
            raise DeliveryFailed(
                "webhook: no valid phone number to text (the tutor's, or the campus "
                "coordinators' accounts)"
            )
        body = json.dumps(payload, ensure_ascii=False).encode()
        signature = hmac.new(self._secret, body, hashlib.sha256).hexdigest()
        request = urllib.request.Request(  # noqa: S310 (http/https checked at build)
            self.url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", SIGNATURE_HEADER: f"sha256={signature}"},
        )
        problem = ""
        for attempt in range(self.attempts):
            if attempt:
                self._sleep(self.pause_s * 2 ** (attempt - 1))
            try:
                with urllib.request.urlopen(request, timeout=self.timeout_s) as answer:  # noqa: S310
                    if 200 <= answer.status < 300:
                        return
                    problem = f"HTTP {answer.status}"
            except urllib.error.HTTPError as error:
                problem = f"HTTP {error.code}"
            except OSError as error:
                problem = f"{type(error).__name__}"
        raise DeliveryFailed(f"webhook: {problem} after {self.attempts} attempts")

    def send_test(self, message: TestMessage) -> None:
        """One signed POST of a test message (``"kind": "test"``, nobody to text), no
        retry: the admin sees the answer at once (issue 18)."""
        payload = {
            "v": WEBHOOK_VERSION,
            "id": message.id,
            "ts": format_timestamp(self._clock().astimezone(UTC)),
            "kind": "test",
            "campus": message.campus,
            "to": [],
            "text": message.text,
        }
        body = json.dumps(payload, ensure_ascii=False).encode()
        signature = hmac.new(self._secret, body, hashlib.sha256).hexdigest()
        request = urllib.request.Request(  # noqa: S310 (http/https checked at build)
            self.url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", SIGNATURE_HEADER: f"sha256={signature}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as answer:  # noqa: S310
                if not 200 <= answer.status < 300:
                    raise DeliveryFailed(f"webhook: HTTP {answer.status}")
        except urllib.error.HTTPError as error:
            raise DeliveryFailed(f"webhook: HTTP {error.code}") from None
        except OSError as error:
            raise DeliveryFailed(f"webhook: {type(error).__name__}") from None


class RefusedChannel(Channel):
    """A configured channel that cannot work (a webhook without a valid secret): it
    takes the notices its real twin would and fails each with the reason, so the failure
    shows with the deliveries instead of vanishing."""

    def __init__(self, name: str, reason: str, handles: Callable[[Notice], bool]) -> None:
        self.name = name
        self.reason = reason
        self._handles = handles

    def handles(self, notice: Notice) -> bool:
        return self._handles(notice)

    def send(self, notice: Notice) -> None:
        raise DeliveryFailed(f"{self.name}: {self.reason}")

    def send_test(self, message: TestMessage) -> None:
        raise DeliveryFailed(f"{self.name}: {self.reason}")


def delivery_id(notice: Notice) -> str:
    """The id of the webhook delivery of this step of this alert: the same on every
    retry (a receiver drops a delivery it already handled), different for every other
    delivery (an alert has one delivery per step and channel)."""
    return f"{notice.alert_id}.{notice.notice.value}"


def sms_recipients(notice: Notice, *, country: str = DEFAULT_COUNTRY) -> list[str]:
    """Whom the gateway texts, in E.164: the tutor, or the campus's coordinators for an
    escalation, an incident about the place or a student without a tutor (the same
    people the e-mail goes to). A number that cannot be read is left out, logged and
    counted (without the number)."""
    has_tutor = bool(notice.tutor and notice.tutor.email)
    escalated = notice.notice is NoticeKind.ESCALATED
    role = recipient_role(notice.kind, escalated=escalated, has_tutor=has_tutor)
    if role is Role.TUTOR:
        typed: tuple[str, ...] = (
            (notice.tutor.phone,) if notice.tutor and notice.tutor.phone else ()
        )
    else:
        typed = notice.coordinator_phones
    numbers: list[str] = []
    for phone in typed:
        try:
            number = e164(phone, country)
        except InvalidPhone as problem:
            counters["webhook_invalid_phone"] += 1
            log.warning(
                "webhook of alert %s: a %s's phone number is left out: %s",
                notice.alert_id,
                role.value,
                problem,
            )
            continue
        if number not in numbers:
            numbers.append(number)
    return numbers


def webhook_payload(
    notice: Notice, *, at: datetime, country: str = DEFAULT_COUNTRY
) -> dict[str, object]:
    """What the SMS gateway receives, and no more: whom to text (E.164), the text (with
    the link to the alert's page), the alert's identity, and for replay protection the
    time of sending and the delivery's id, all inside the signed body. No e-mail."""
    return {
        "v": WEBHOOK_VERSION,
        "id": delivery_id(notice),
        "ts": format_timestamp(at.astimezone(UTC)),
        "alert": notice.alert_id,
        "kind": notice.kind.value,
        "notice": notice.notice.value,
        "campus": notice.campus,
        "to": sms_recipients(notice, country=country),
        "text": alert_texts.sms(notice),
        "url": notice.url or None,
    }


class MqttChannel(Channel):
    """``campus/{campus}/events/alerts`` as ``docs/protocol.md`` describes: only opaque
    ids (the alert's); no student id (the spreadsheet's is not opaque), no names, no phone
    numbers."""

    name = "mqtt"

    def __init__(self, publish: Callable[[str, bytes], None] | None) -> None:
        self._publish = publish

    def handles(self, notice: Notice) -> bool:
        return notice.notice is not NoticeKind.ESCALATED

    def send(self, notice: Notice) -> None:
        if self._publish is None:
            raise ChannelUnavailable("no MQTT client in this process")
        payload = json.dumps(mqtt_event(notice), separators=(", ", ": ")).encode()
        try:
            self._publish(events_topic(notice.campus, "alerts"), payload)
        except Exception as error:
            raise DeliveryFailed(f"MQTT: {type(error).__name__}") from None

    def send_test(self, message: TestMessage) -> None:
        """A test event on ``campus/{campus}/events/test`` (issue 18)."""
        if self._publish is None:
            raise DeliveryFailed("MQTT: no MQTT client in this process")
        event = {"v": 1, "kind": "test", "id": message.id, "campus": message.campus}
        try:
            self._publish(events_topic(message.campus, "test"), json.dumps(event).encode())
        except Exception as error:
            raise DeliveryFailed(f"MQTT: {type(error).__name__}") from None


def mqtt_event(notice: Notice) -> dict[str, object]:
    tz = ZoneInfo(notice.timezone)

    def stamp(moment):  # type: ignore[no-untyped-def]
        return format_timestamp(moment.astimezone(tz)) if moment is not None else None

    kind = AlertKind.SHORTFALL if notice.kind is AlertKind.EARLY_WARNING else notice.kind
    event: dict[str, object] = {
        "v": 1,
        "kind": kind.value,
        "id": notice.alert_id,
        "ts": stamp(notice.ts),
        "campus": notice.campus,
        "state": "raised" if notice.notice is NoticeKind.RAISED else "resolved",
    }
    if kind is AlertKind.ABSENCE:
        event.update(slot_start=stamp(notice.slot_start), slot_end=stamp(notice.slot_end))
    elif kind is AlertKind.SHORTFALL:
        event.update(
            week=notice.week,
            expected_minutes=notice.expected_minutes,
            recorded_minutes=notice.recorded_minutes,
        )
        if notice.kind is AlertKind.EARLY_WARNING:
            event["early"] = True
    elif kind is AlertKind.READER_DOWN:
        event.update(reader=notice.reader, reader_state=notice.reader_state)
        if notice.reader_last_seen is not None:
            event["last_seen"] = stamp(notice.reader_last_seen)
    elif kind is AlertKind.CAPACITY:
        event.update(room=notice.room, count=notice.count, capacity=notice.capacity)
    if notice.url:
        event["url"] = notice.url
    return event


@dataclass(frozen=True)
class CampusChannelConfig:
    """A campus's channel settings as stored in the registry (no secrets)."""

    email_enabled: bool = False
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_security: str = "starttls"
    smtp_username: str = ""
    smtp_password_env: str = "CAMPUS_SMTP_PASSWORD"  # noqa: S105 (a variable's name)
    from_address: str = ""
    webhook_enabled: bool = False
    webhook_url: str = ""
    webhook_secret_env: str = "CAMPUS_WEBHOOK_SECRET"  # noqa: S105 (a variable's name)
    mqtt_enabled: bool = True


def check_webhook_secrets(webhooks: Mapping[str, str], environ: Mapping[str, str]) -> None:
    """At start: every campus whose webhook channel is on (campus -> the NAME of the
    variable holding its secret) has a secret of at least 16 characters in
    ``environ``; raises :class:`WebhookSecretError` naming the campus and the variable."""
    for campus, variable in sorted(webhooks.items()):
        problem = webhook_secret_problem(environ.get(variable, ""))
        if problem:
            raise WebhookSecretError(
                f"campus {campus}: the webhook channel is on but {variable} {problem}; set "
                f"it to a random secret of at least {MIN_SECRET_CHARS} characters shared with "
                "the receiver, or turn the webhook off on the admin page 'Canaux d'alerte'"
            )


def build_channels(
    config: CampusChannelConfig,
    *,
    publish: Callable[[str, bytes], None] | None,
    environ: Mapping[str, str],
) -> dict[str, Channel]:
    """The enabled channels of one campus, secrets taken from ``environ``."""
    channels: dict[str, Channel] = {}
    if config.email_enabled and config.smtp_host:
        smtp = SmtpSettings(
            host=config.smtp_host,
            port=config.smtp_port,
            security=config.smtp_security,
            username=config.smtp_username,
            password=environ.get(config.smtp_password_env, ""),
            from_address=config.from_address,
        )
        channels["email"] = EmailChannel(smtp)
    if config.webhook_enabled and config.webhook_url:
        secret = environ.get(config.webhook_secret_env, "")
        try:
            channels["webhook"] = WebhookChannel(config.webhook_url, secret)
        except WebhookSecretError:
            counters["webhook_secret_refused"] += 1
            reason = (
                f"{config.webhook_secret_env} {webhook_secret_problem(secret)}: no message is "
                "sent without a secret of at least 16 characters"
            )
            log.error("webhook channel refused: %s", reason)
            channels["webhook"] = RefusedChannel("webhook", reason, _mail_worthy)
    if config.mqtt_enabled:
        channels["mqtt"] = MqttChannel(publish)
    return channels
