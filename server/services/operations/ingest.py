"""Ingest use case: judge a batch of MQTT messages, store what is valid, say what to ack.

The MQTT adapter hands a batch in and acknowledges exactly the messages this returns as
acknowledgeable, and only after :meth:`IngestService.handle_batch` returned: a tap
acknowledged is a tap stored. When the event store is unavailable nothing of the batch
is acknowledged and :class:`~server.adapters.event_store.EventStoreUnavailable`
propagates, so the caller retries the same batch (or, if it dies, the broker redelivers).

Once the batch is written, each reader gets a confirmation (protocol v2) naming its taps
that are stored, now or before (a re-sent tap): the door removes a tap from its outbox
only then. A tap refused is not confirmed. A tap delivered retained (a replay kept by the
broker) is refused as ``retained`` and cleared from the broker with an empty retained
message on its topic.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from edge.protocol import (
    Confirmation,
    ProtocolError,
    Reason,
    TopicKind,
    confirm_topic,
    parse_reader_topic,
)
from server.adapters.event_store import EventStore
from server.domain.events import (
    InboundMessage,
    ReaderStatusRecord,
    Rejection,
    StoredTap,
    WriteOutcome,
)
from server.domain.intake import Intake, conflict_rejection, judge_message

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class BatchResult:
    stored: list[StoredTap]  # newly stored taps, in arrival order
    duplicates: int
    rejected: list[Rejection]
    statuses: list[ReaderStatusRecord]
    confirmed: int = 0  # taps confirmed to their readers (stored now or before)


@dataclass
class IngestCounters:
    """Running totals, read by the live summary and the web app (thread-safe)."""

    received: int = 0
    stored: int = 0
    duplicates: int = 0
    statuses: int = 0
    store_failures: int = 0
    confirmed: int = 0
    retained_cleared: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, result: BatchResult, received: int) -> None:
        with self._lock:
            self.received += received
            self.stored += len(result.stored)
            self.duplicates += result.duplicates
            self.statuses += len(result.statuses)
            self.confirmed += result.confirmed
            self.rejected.update(rejection.reason for rejection in result.rejected)

    def store_failed(self) -> None:
        with self._lock:
            self.store_failures += 1

    def snapshot(self) -> dict[str, object]:
        with self._lock:
            return {
                "received": self.received,
                "stored": self.stored,
                "duplicates": self.duplicates,
                "statuses": self.statuses,
                "store_failures": self.store_failures,
                "confirmed": self.confirmed,
                "retained_cleared": self.retained_cleared,
                "rejected": dict(self.rejected),
                "rejected_total": sum(self.rejected.values()),
            }


StoredListener = Callable[[Sequence[StoredTap]], None]
Publish = Callable[..., None]  # (topic, payload, *, retain=False), from any thread


class IngestService:
    def __init__(self, store: EventStore, intake: Intake) -> None:
        self._store = store
        self._intake = intake
        self.counters = IngestCounters()
        self._listeners: list[StoredListener] = []
        self._before_ack: list[StoredListener] = []
        self._publish: Publish | None = None

    def publish_with(self, publish: Publish) -> None:
        """Where confirmations (and retained-tap clears) go: the MQTT adapter's publish."""
        self._publish = publish

    def before_ack(self, hook: StoredListener) -> None:
        """Call ``hook`` with every tap written by a batch (newly stored or already
        stored), after the write and before the batch is acknowledged: a hook that fails
        fails the batch, which is retried (the ledger re-opens frozen weeks this way)."""
        self._before_ack.append(hook)

    def on_taps_stored(self, listener: StoredListener) -> None:
        """Call ``listener`` with each batch of newly stored taps (after the write)."""
        self._listeners.append(listener)

    def handle_batch(self, messages: Sequence[InboundMessage]) -> BatchResult:
        taps: list[tuple[StoredTap, str]] = []
        statuses: list[ReaderStatusRecord] = []
        rejected: list[Rejection] = []
        for message in messages:
            judged = judge_message(
                message.topic,
                message.payload,
                message.received_at,
                self._intake,
                retained=message.retained,
            )
            if isinstance(judged, StoredTap):
                taps.append((judged, message.topic))
            elif isinstance(judged, ReaderStatusRecord):
                statuses.append(judged)
            else:
                rejected.append(judged)
        try:
            stored, duplicates, conflicts = self._write_taps(taps)
            duplicates_count = len(duplicates)
            for hook in self._before_ack:
                hook([tap for tap, _ in taps])
            rejected += conflicts
            if statuses:
                self._store.write_statuses(statuses)
            if rejected:
                self._store.write_rejections(rejected)
        except Exception:
            self.counters.store_failed()
            raise
        confirmed = self._confirm(stored + duplicates)
        result = BatchResult(stored, duplicates_count, rejected, statuses, confirmed)
        self.counters.add(result, received=len(messages))
        self._log_rejections(rejected)
        self._clear_retained(messages, rejected)
        self._notify(stored)
        return result

    def _write_taps(
        self, taps: list[tuple[StoredTap, str]]
    ) -> tuple[list[StoredTap], list[StoredTap], list[Rejection]]:
        """(newly stored, already stored with the same content, id conflicts)."""
        if not taps:
            return [], [], []
        outcomes = self._store.write_taps([tap for tap, _ in taps])
        stored: list[StoredTap] = []
        duplicates: list[StoredTap] = []
        conflicts: list[Rejection] = []
        for (tap, topic), outcome in zip(taps, outcomes, strict=True):
            if outcome is WriteOutcome.STORED:
                stored.append(tap)
            elif outcome is WriteOutcome.DUPLICATE:
                duplicates.append(tap)
            else:
                conflicts.append(conflict_rejection(tap, topic))
        return stored, duplicates, conflicts

    def _confirm(self, taps: list[StoredTap]) -> int:
        """Tell each reader which of its taps are stored: called once the batch's writes
        (and the hooks run before acknowledging) returned. A lost confirmation costs a
        re-send, which is confirmed again."""
        if self._publish is None or not taps:
            return 0
        by_reader: dict[tuple[str, str], list[str]] = {}
        for tap in taps:
            by_reader.setdefault((tap.campus, tap.reader), []).append(tap.tap_id)
        sent = 0
        for (campus, reader), ids in by_reader.items():
            topic = confirm_topic(campus, reader)
            for message in Confirmation.batches(list(dict.fromkeys(ids))):
                try:
                    self._publish(topic, message.to_json())
                except Exception:
                    log.exception("could not publish a confirmation on %s", topic)
                    continue
                sent += len(message.ids)
        return sent

    def _clear_retained(
        self, messages: Sequence[InboundMessage], rejected: list[Rejection]
    ) -> None:
        """Remove from the broker the taps it keeps retained (they hold a raw UID and would
        be replayed to every new subscriber): an empty retained message on the topic. The
        empty message comes back retained too; it is counted, not cleared again."""
        if self._publish is None or not any(r.reason == Reason.RETAINED for r in rejected):
            return
        for message in messages:
            if not (message.retained and message.payload) or not _is_taps(message.topic):
                continue
            try:
                self._publish(message.topic, b"", retain=True)
            except Exception:
                log.exception("could not clear a retained tap on %s", message.topic)
                continue
            with self.counters._lock:
                self.counters.retained_cleared += 1
            log.warning("cleared a retained tap from the broker on %s", message.topic)

    def _log_rejections(self, rejected: list[Rejection]) -> None:
        # No payload and no UID in the log line: reason, topic and the parser's message.
        for rejection in rejected:
            log.warning(
                "rejected message on %s: %s (%s, %d bytes)",
                rejection.topic,
                rejection.reason,
                rejection.detail,
                rejection.size,
            )

    def _notify(self, stored: list[StoredTap]) -> None:
        if not stored:
            return
        for listener in self._listeners:
            try:
                listener(stored)
            except Exception:
                # The taps are stored: a failing listener must not make us redeliver them.
                log.exception("listener for stored taps failed")


def _is_taps(topic: str) -> bool:
    try:
        return parse_reader_topic(topic).kind is TopicKind.TAPS
    except ProtocolError:
        return False
