"""The notification port: one :class:`Channel` interface for every way an alert is sent
(e-mail, SMS webhook, MQTT event), the :class:`Notice` they all render, and the
delivery records each notice leaves per channel (stored, retried, never lost).

A failing channel never blocks the others, nor another alert: every delivery (alert ×
channel) is recorded first (the web list is a channel too, recorded as sent at once),
then claimed in the registry and sent by the lane of its campus and channel
(``server.services.alerts.delivery_workers``), with the channel's own timeout; a failure is
stored with its error (no personal data) and retried with a growing delay, from the
registry, so a restart loses nothing and two processes never send one twice. Each
outcome updates the channel's health (``server.domain.deliveries``).
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta

from server.domain.deliveries import scrub
from server.domain.notices import Channel, ChannelUnavailable, DeliveryFailed, NoticeKind
from server.ports.alerts import AlertsUnitOfWork, DeliveryState, DuplicateDelivery

log = logging.getLogger(__name__)

WEB = "web"
MAX_ATTEMPTS = 10
FIRST_RETRY = timedelta(seconds=30)
SEND_LEASE = timedelta(minutes=5)  # longer than any channel takes to send (SMTP, webhook)
# (SMTP: 10 s a command; webhook: 3 tries of 5 s): a claim left by a crash runs out then
LONGEST_RETRY = timedelta(hours=1)


ChannelFactory = Callable[[str], Mapping[str, Channel]]  # campus id -> enabled channels
Clock = Callable[[], datetime]
Waker = Callable[[str, str], None]  # (campus, channel): a delivery is due on that lane


def backoff(attempts: int) -> timedelta:
    """Delay before the next try after ``attempts`` failed ones: 30 s, 1 min, 2 min…"""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_RETRY)


def process_name() -> str:
    """Who claims a delivery: this host and process, and a random part (a pid reused
    after a restart is another claimant)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"


class NotificationService:
    """Records deliveries and sends claimed ones. Sending is driven from outside: the
    server's :class:`~server.services.alerts.delivery_workers.DeliveryWorkers` (one lane of
    threads per campus and channel, woken through :attr:`wake`), or :meth:`retry_due`
    in the caller's thread (one-shot commands, tests)."""

    def __init__(
        self,
        unit_of_work: Callable[[], AlertsUnitOfWork],
        channels: ChannelFactory,
        *,
        owner: str | None = None,
    ) -> None:
        self.unit_of_work = unit_of_work
        self.channels = channels
        self.owner = owner or process_name()
        self.wake: Waker | None = None

    def notify(
        self, alert_pk: int, notice: NoticeKind, now: datetime, *, send_now: bool = True
    ) -> int:
        """Record one delivery per channel that handles this step, in one transaction
        (once: a repeated call adds nothing): "web" as sent, the others pending. Unless
        ``send_now`` is false, wake their lanes; nothing is sent in the caller's thread,
        so no channel holds the caller (nor the next alert) back. Returns how many
        deliveries to send were recorded."""
        with self.unit_of_work() as uow:
            (built,) = uow.alerts.notices([(alert_pk, notice)])
        channels = self.channels(built.campus)
        names = [name for name, channel in channels.items() if channel.handles(built)]
        created = self._record(alert_pk, notice, names, now)
        if send_now and self.wake is not None:
            for name in names:
                self.wake(built.campus, name)
        return created

    def _record(self, alert_pk: int, notice: NoticeKind, names: list[str], now: datetime) -> int:
        try:
            with self.unit_of_work() as uow:
                known = uow.deliveries.known([alert_pk])
                added = [
                    _delivery(alert_pk, notice, name, now)
                    for name in [WEB, *names]
                    if (alert_pk, notice.value, name) not in known
                ]
                uow.deliveries.add(added)
                uow.commit()
                return sum(item.channel != WEB for item in added)
        except DuplicateDelivery:
            return 0  # recorded meanwhile by another process (a repeated notice)

    def record(
        self,
        uow: AlertsUnitOfWork,
        steps: Sequence[tuple[int, NoticeKind]],
        now: datetime,
        channels: Mapping[str, Mapping[str, Channel]],
    ) -> set[tuple[str, str]]:
        """:meth:`notify`'s bookkeeping for many steps at once, in the caller's unit of
        work (the caller commits): one delivery per channel that handles each step
        ("web" as sent, the others pending), once; ``channels`` holds each campus's
        (read before the transaction). Returns the lanes to :meth:`wake_lanes` once it is
        committed."""
        if not steps:
            return set()
        notices = uow.alerts.notices(steps)
        known = uow.deliveries.known({pk for pk, _ in steps})
        added: list[DeliveryState] = []
        lanes: set[tuple[str, str]] = set()
        for (alert_pk, kind), built in zip(steps, notices, strict=True):
            names = [
                name
                for name, channel in channels.get(built.campus, {}).items()
                if channel.handles(built)
            ]
            for name in [WEB, *names]:
                if (alert_pk, kind.value, name) in known:
                    continue
                known.add((alert_pk, kind.value, name))
                added.append(_delivery(alert_pk, kind, name, now))
                if name != WEB:
                    lanes.add((built.campus, name))
        uow.deliveries.add(added)
        return lanes

    def wake_lanes(self, lanes: set[tuple[str, str]]) -> None:
        """Wake the lanes of deliveries :meth:`record`-ed and committed."""
        if self.wake is not None:
            for campus, name in sorted(lanes):
                self.wake(campus, name)

    def due_lanes(self, now: datetime) -> set[tuple[str, str]]:
        """The (campus, channel) lanes with a delivery to try now."""
        with self.unit_of_work() as uow:
            return uow.deliveries.due_lanes(now)

    def claim_next(
        self, now: datetime, campus: str | None = None, channel: str | None = None
    ) -> int | None:
        """Take the next due delivery (of a lane, or any) for this process: an UPDATE
        that only succeeds while it is still due and unclaimed, so two processes (or two
        threads) never send the same one. The claim holds for :data:`SEND_LEASE`."""
        for _ in range(5):  # another claimant won the candidate: take the next one
            with self.unit_of_work() as uow:
                candidate = uow.deliveries.next_due(now, campus, channel)
                if candidate is None:
                    return None
                claimed = uow.deliveries.claim(candidate, now, self.owner, now + SEND_LEASE)
                uow.commit()
            if claimed:
                return candidate
        return None

    def retry_due(self, now: datetime) -> int:
        """Try every due delivery, one after another in this thread (one-shot commands,
        tests); returns how many were sent. The server's workers do it per lane."""
        sent = 0
        with self.unit_of_work() as uow:
            limit = uow.deliveries.count_due(now)
        for _ in range(limit):
            claimed = self.claim_next(now)
            if claimed is None:
                break
            sent += self.send_claimed(claimed, lambda: now)
        return sent

    def send_claimed(self, delivery_id: int, clock: Clock) -> bool:
        """Send a delivery this process claimed and store the outcome (and the channel's
        health); ``clock`` gives the instant the attempt ended."""
        try:
            with self.unit_of_work() as uow:
                found = uow.deliveries.get(delivery_id)
                assert found is not None
                name, step = found.channel, found.notice
                (notice,) = uow.alerts.notices([(found.alert_pk, NoticeKind(step))])
            channel = self.channels(notice.campus).get(name)
            if channel is None:
                self._store(delivery_id, notice.campus, "", clock(), disabled=True)
                return False
            error, counted = "", True
            try:
                channel.send(notice)
            except ChannelUnavailable as failure:
                error, counted = str(failure) or "unavailable", False
            except DeliveryFailed as failure:
                error = str(failure) or "failed"
            self._store(delivery_id, notice.campus, error, clock(), counted=counted)
        except Exception:
            log.exception("delivery %d could not be attempted", delivery_id)
            self._release(delivery_id)
            return False
        if not error:
            log.info("alert %s: %s notice sent by %s", notice.alert_id, step, name)
        else:
            log.warning("alert %s: %s by %s failed: %s", notice.alert_id, step, name, error)
        return not error

    def _store(
        self,
        delivery_id: int,
        campus: str,
        error: str,
        now: datetime,
        *,
        counted: bool = True,
        disabled: bool = False,
    ) -> None:
        with self.unit_of_work() as uow:
            row = uow.deliveries.get(delivery_id)
            assert row is not None
            _attempted(row, uow, campus, error, now, counted=counted, disabled=disabled)
            uow.deliveries.save(row)
            uow.commit()

    def _release(self, delivery_id: int) -> None:
        """An attempt that broke before any outcome: free the claim (tried again later)."""
        try:
            with self.unit_of_work() as uow:
                uow.deliveries.release(delivery_id, self.owner)
                uow.commit()
        except Exception:
            log.exception("delivery %d: its claim could not be released", delivery_id)


def _attempted(
    row: DeliveryState,
    uow: AlertsUnitOfWork,
    campus: str,
    error: str,
    now: datetime,
    *,
    counted: bool,
    disabled: bool,
) -> None:
    """An attempt's outcome onto the delivery (and the channel's health)."""
    row.claimed_by, row.claimed_until, row.last_attempt_at = None, None, now
    if row.status == "sent":
        return  # sent meanwhile by another claimant whose claim outlived ours
    if disabled:  # switched off after the notice was recorded: nothing to retry
        row.status, row.next_attempt_at = "failed", None
        row.last_error = "channel disabled for this campus"
        return
    if not counted:
        row.last_error, row.next_attempt_at = scrub(error), now + FIRST_RETRY
        return
    row.attempts += 1
    uow.channel_health.record_outcome(campus, row.channel, error, now)
    if not error:
        row.status, row.sent_at, row.next_attempt_at, row.last_error = "sent", now, None, ""
        return
    row.last_error = scrub(error)
    if row.attempts >= MAX_ATTEMPTS:
        row.status, row.next_attempt_at = "failed", None  # given up: shown as failed
    else:
        row.status, row.next_attempt_at = "failed", now + backoff(row.attempts)


def _delivery(alert_pk: int, notice: NoticeKind, channel: str, now: datetime) -> DeliveryState:
    web = channel == WEB  # the web list shows the alert as soon as it is stored
    return DeliveryState(
        alert_pk=alert_pk,
        notice=notice.value,
        channel=channel,
        status="sent" if web else "pending",
        attempts=1 if web else 0,
        last_error="",
        created_at=now,
        next_attempt_at=None if web else now,
        sent_at=now if web else None,
        last_attempt_at=now if web else None,
    )
