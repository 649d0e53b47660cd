"""Use case: tell a reader what a stored tap did (entry, exit, unknown badge…).

The ingest calls :meth:`PresenceService.taps_stored` after each stored batch and publishes
each verdict as the reader's feedback message. It must stay cheap: per batch it reads
the badges involved (one query), the campus's taps stored since the previous batch (one
event-store query per campus, which also catches taps stored by other ingest workers),
and writes only when an unknown badge was seen. Each verdict comes from the same session
rules as the weekly ledger, replayed over the person's recent door taps kept in memory.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import orm

from edge.protocol import Feedback, FeedbackResult, feedback_topic
from server.adapters.event_store import EventStore
from server.config import PresenceSettings
from server.domain.calendar import Schedule
from server.domain.events import StoredTap
from server.domain.sessions import DoorTap, ReaderMode, TapEffect, build_sessions
from server.i18n import _
from server.registry.presence_repository import BadgeHolding, PresenceRepository, Sighting
from server.services.ledger import holder_of, index_holdings, repository, session_rules, utc


class Verdict(StrEnum):
    IN = "in"
    OUT = "out"
    UNKNOWN_BADGE = "unknown_badge"
    ROOM = "room"
    IGNORED = "ignored"


@dataclass(frozen=True, slots=True)
class TapVerdict:
    """What a tap did, with a short translated line for the reader's display."""

    tap_id: str
    campus: str
    reader: str
    result: Verdict
    text: str


# Texts are msgids; translated when the verdict is made (at most 64 characters).
_EFFECTS: dict[TapEffect, tuple[Verdict, str]] = {
    TapEffect.ENTERED: (Verdict.IN, "Hello, entry recorded"),
    TapEffect.LEFT: (Verdict.OUT, "Goodbye, exit recorded"),
    TapEffect.REPEATED: (Verdict.IGNORED, "Already recorded"),
    TapEffect.ALREADY_IN: (Verdict.IGNORED, "You are already in"),
    TapEffect.NOT_IN: (Verdict.IGNORED, "No entry recorded: exit ignored"),
    TapEffect.ROOM: (Verdict.ROOM, "Room access recorded"),
}
_UNKNOWN = "Unknown badge: please see the front desk"


@dataclass
class _CampusMemory:
    """Recent door taps of one campus by badge hash, and its opening schedule."""

    taps: dict[str, dict[str, tuple[datetime, int, ReaderMode]]] = field(default_factory=dict)
    synced_at: datetime | None = None
    pruned_at: datetime | None = None
    schedule: Schedule | None = None
    schedule_at: datetime | None = None

    def add(self, tap: StoredTap, mode: ReaderMode) -> None:
        self.taps.setdefault(tap.badge, {})[tap.tap_id] = (utc(tap.ts), tap.seq, mode)

    def prune(self, before: datetime) -> None:
        for badge in list(self.taps):
            kept = {key: value for key, value in self.taps[badge].items() if value[0] >= before}
            if kept:
                self.taps[badge] = kept
            else:
                del self.taps[badge]


class PresenceService:
    def __init__(
        self,
        registry: Callable[[], orm.Session],
        events: EventStore,
        settings: PresenceSettings,
        *,
        refresh: timedelta = timedelta(minutes=1),
        overlap: timedelta = timedelta(minutes=2),
    ) -> None:
        self.registry = registry
        self.events = events
        self.settings = settings
        self.rules = session_rules(settings)
        self.refresh = refresh  # how long reader modes and calendars are cached
        self.overlap = overlap  # how far back each sync re-reads other workers' taps
        self._lock = threading.Lock()
        self._campuses: dict[str, _CampusMemory] = {}
        self._modes: dict[tuple[str, str], ReaderMode] = {}
        self._modes_at: datetime | None = None

    def taps_stored(self, taps: Sequence[StoredTap], now: datetime) -> list[TapVerdict]:
        """One verdict per tap, in order. Call after the batch is stored."""
        if not taps:
            return []
        with self._lock, self.registry() as session, session.begin():
            repo = repository(session, self.settings)
            modes = self._reader_modes(repo, now)
            door = [tap for tap in taps if self._mode(modes, tap) is not ReaderMode.ROOM]
            for campus in {tap.campus for tap in door}:
                self._sync(repo, campus, [tap for tap in door if tap.campus == campus], now)
            holdings = index_holdings(repo.holdings_for_hashes({tap.badge for tap in door}))
            verdicts, unknown = [], []
            for tap in taps:
                verdict = self._verdict(tap, modes, holdings, now)
                if verdict.result is Verdict.UNKNOWN_BADGE:
                    unknown.append(Sighting(tap.badge, tap.campus, tap.reader, utc(tap.ts)))
                verdicts.append(verdict)
            repo.note_unknown(unknown)
        return verdicts

    def _verdict(
        self,
        tap: StoredTap,
        modes: dict[tuple[str, str], ReaderMode],
        holdings: dict[str, list[BadgeHolding]],
        now: datetime,
    ) -> TapVerdict:
        if self._mode(modes, tap) is ReaderMode.ROOM:
            return _verdict(tap, *_EFFECTS[TapEffect.ROOM])
        holder = holder_of(holdings, tap.badge, tap.ts)
        if holder is None:
            return _verdict(tap, Verdict.UNKNOWN_BADGE, _UNKNOWN)
        return _verdict(tap, *_EFFECTS[self._effect(tap, holder, holdings, now)])

    def _effect(
        self,
        tap: StoredTap,
        holder: BadgeHolding,
        holdings: dict[str, list[BadgeHolding]],
        now: datetime,
    ) -> TapEffect:
        """Replay the person's recent door taps (all their badges) up to this one."""
        memory = self._campuses[tap.campus]
        recent: list[tuple[datetime, int, str, ReaderMode]] = []
        for badge, held in holdings.items():
            for holding in held:
                if holding.student_pk != holder.student_pk:
                    continue
                for tap_id, (ts, seq, mode) in memory.taps.get(badge, {}).items():
                    if holding.holds_at(ts):
                        recent.append((ts, seq, tap_id, mode))
        recent.sort()
        door = [DoorTap(ts, mode, tap_id) for ts, _, tap_id, mode in recent]
        latest = max(now, door[-1].ts) if door else now
        _, effects = build_sessions(door, rules=self.rules, schedule=memory.schedule, now=latest)
        for door_tap, effect in zip(door, effects, strict=True):
            if door_tap.tap_id == tap.tap_id:
                return effect
        return TapEffect.REPEATED  # not found: already forgotten (older than the lookback)

    def _sync(
        self, repo: PresenceRepository, campus: str, batch: list[StoredTap], now: datetime
    ) -> None:
        """Bring the campus's memory up to date with the store and this batch."""
        memory = self._campuses.setdefault(campus, _CampusMemory())
        lookback = self.rules.lookback
        start = now - lookback if memory.synced_at is None else memory.synced_at - self.overlap
        end = max([now, *(tap.ts for tap in batch)]) + timedelta(seconds=1)
        modes = self._modes
        for tap in [*self.events.taps(start, end, campus=campus), *batch]:
            mode = self._mode(modes, tap)
            if mode is not ReaderMode.ROOM:
                memory.add(tap, mode)
        memory.synced_at = now
        if memory.pruned_at is None or now - memory.pruned_at > self.refresh:
            memory.prune(now - lookback)
            memory.pruned_at = now
        if memory.schedule_at is None or now - memory.schedule_at > self.refresh:
            calendar = repo.calendar(campus)
            today = now.astimezone(calendar.tz).date()
            memory.schedule = calendar.schedule(
                today - timedelta(days=lookback.days + 1), today + timedelta(days=1)
            )
            memory.schedule_at = now

    def _reader_modes(
        self, repo: PresenceRepository, now: datetime
    ) -> dict[tuple[str, str], ReaderMode]:
        if self._modes_at is None or now - self._modes_at > self.refresh:
            self._modes = repo.reader_modes()
            self._modes_at = now
        return self._modes

    @staticmethod
    def _mode(modes: dict[tuple[str, str], ReaderMode], tap: StoredTap) -> ReaderMode:
        return modes.get((tap.campus, tap.reader), ReaderMode.TOGGLE)


def _verdict(tap: StoredTap, result: Verdict, message: str) -> TapVerdict:
    return TapVerdict(tap.tap_id, tap.campus, tap.reader, result, _(message)[:64])


# The MQTT contract v1 has no feedback result for a room pass or an ignored tap: the
# reader's own immediate feedback stands for those, so nothing is sent.
_FEEDBACK = {
    Verdict.IN: FeedbackResult.IN,
    Verdict.OUT: FeedbackResult.OUT,
    Verdict.UNKNOWN_BADGE: FeedbackResult.UNKNOWN_BADGE,
}


def to_feedback(verdict: TapVerdict) -> tuple[str, bytes] | None:
    """The reader's feedback message for a verdict, as (topic, payload), or None."""
    result = _FEEDBACK.get(verdict.result)
    if result is None:
        return None
    message = Feedback(verdict.tap_id, result, verdict.text)
    return feedback_topic(verdict.campus, verdict.reader), message.to_json()


def feedback_listener(
    presence: PresenceService,
    publish: Callable[[str, bytes], None],
    clock: Callable[[], datetime],
    *,
    refine: Callable[[TapVerdict], TapVerdict] | None = None,
) -> Callable[[Sequence[StoredTap]], None]:
    """What the composition root hands to ``IngestService.on_taps_stored``: judge each
    stored batch and publish the readers' feedback. ``refine`` lets another feature
    change a verdict's display line (occupancy: *Capacité atteinte*)."""

    def listener(taps: Sequence[StoredTap]) -> None:
        for verdict in presence.taps_stored(taps, clock()):
            message = to_feedback(refine(verdict) if refine else verdict)
            if message is not None:
                publish(*message)

    return listener
