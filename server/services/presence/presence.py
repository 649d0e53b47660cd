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

from edge.protocol import Feedback, FeedbackResult, feedback_topic
from server.adapters.event_store import EventStore
from server.config import PresenceSettings
from server.domain.calendar import Schedule
from server.domain.events import StoredTap
from server.domain.sessions import DoorTap, ReaderMode, SessionReplay, TapEffect
from server.i18n import _
from server.ports.presence import BadgeHolding, PresenceStore, PresenceUnitOfWork, Sighting
from server.services.presence.ledger import holder_of, index_holdings, session_rules, utc


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


_Entry = tuple[datetime, int, str, ReaderMode]  # ts, seq, tap id, mode


@dataclass
class _CampusMemory:
    """Recent door taps of one campus by badge hash, and its opening schedule.

    ``arrivals`` lists each badge's taps in the order they became known (what a person's
    replay has not fed yet is at its end); ``generation`` changes when taps are forgotten,
    which makes the replays start again."""

    taps: dict[str, dict[str, tuple[datetime, int, ReaderMode]]] = field(default_factory=dict)
    arrivals: dict[str, list[_Entry]] = field(default_factory=dict)
    generation: int = 0
    synced_at: datetime | None = None
    pruned_at: datetime | None = None
    schedule: Schedule | None = None
    schedule_at: datetime | None = None

    def add(self, tap: StoredTap, mode: ReaderMode) -> None:
        known = self.taps.setdefault(tap.badge, {})
        if tap.tap_id in known:
            return
        ts = utc(tap.ts)
        known[tap.tap_id] = (ts, tap.seq, mode)
        self.arrivals.setdefault(tap.badge, []).append((ts, tap.seq, tap.tap_id, mode))

    def prune(self, before: datetime) -> None:
        for badge in list(self.taps):
            kept = {key: value for key, value in self.taps[badge].items() if value[0] >= before}
            if kept:
                self.taps[badge] = kept
                self.arrivals[badge] = [
                    (ts, seq, key, mode) for key, (ts, seq, mode) in kept.items()
                ]
            else:
                del self.taps[badge]
                self.arrivals.pop(badge, None)
        self.generation += 1


@dataclass
class _PersonReplay:
    """A person's recent door taps (all their badges) fed so far to the session rules,
    and what each did: a new tap is fed on instead of replaying the person's day."""

    replay: SessionReplay
    badges: frozenset[str]
    generation: int
    schedule: Schedule | None
    fed: dict[str, int] = field(default_factory=dict)  # per badge: arrivals fed
    last: tuple[datetime, int, str] | None = None
    effects: dict[str, TapEffect] = field(default_factory=dict)


class PresenceService:
    def __init__(
        self,
        units: Callable[[], PresenceUnitOfWork],
        events: EventStore,
        settings: PresenceSettings,
        *,
        refresh: timedelta = timedelta(minutes=1),
        overlap: timedelta = timedelta(minutes=2),
    ) -> None:
        self.units = units
        self.events = events
        self.settings = settings
        self.rules = session_rules(settings)
        self.refresh = refresh  # how long reader modes and calendars are cached
        self.overlap = overlap  # how far back each sync re-reads other workers' taps
        self._lock = threading.Lock()
        self._campuses: dict[str, _CampusMemory] = {}
        self._replays: dict[tuple[str, int], _PersonReplay] = {}
        self._modes: dict[tuple[str, str], ReaderMode] = {}
        self._modes_at: datetime | None = None

    def taps_stored(self, taps: Sequence[StoredTap], now: datetime) -> list[TapVerdict]:
        """One verdict per tap, in order. Call after the batch is stored."""
        if not taps:
            return []
        with self._lock, self.units() as uow:
            repo = uow.presence
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
            uow.commit()
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
        """What the tap did, from the person's recent door taps (all their badges)
        replayed in order; only the taps not fed yet are fed (all again after a late tap,
        a forgotten one, another badge or a new schedule)."""
        memory = self._campuses[tap.campus]
        held = [
            (badge, holding)
            for badge, holdings_of_badge in holdings.items()
            for holding in holdings_of_badge
            if holding.student_pk == holder.student_pk
        ]
        key = (tap.campus, holder.student_pk)
        person = self._replays.get(key)
        badges = frozenset(badge for badge, _ in held)
        if (
            person is None
            or person.badges != badges
            or person.generation != memory.generation
            or person.schedule is not memory.schedule
        ):
            person = self._new_replay(key, badges, memory)
        new = self._unfed(person, held, memory)
        if new and person.last is not None and new[0][:3] < person.last:
            person = self._new_replay(key, badges, memory)  # a late tap: replay all
            new = self._unfed(person, held, memory)
        for ts, seq, tap_id, mode in new:
            person.effects[tap_id] = person.replay.feed(DoorTap(ts, mode, tap_id))
            person.last = (ts, seq, tap_id)
        # not found: already forgotten (older than the lookback)
        return person.effects.get(tap.tap_id, TapEffect.REPEATED)

    def _new_replay(
        self, key: tuple[str, int], badges: frozenset[str], memory: _CampusMemory
    ) -> _PersonReplay:
        replay = SessionReplay(rules=self.rules, schedule=memory.schedule)
        person = _PersonReplay(replay, badges, memory.generation, memory.schedule)
        self._replays[key] = person
        return person

    @staticmethod
    def _unfed(
        person: _PersonReplay, held: list[tuple[str, BadgeHolding]], memory: _CampusMemory
    ) -> list[_Entry]:
        """The person's taps not fed yet, in order (those of a badge they held then)."""
        new: dict[str, _Entry] = {}
        for badge, holding in held:
            arrivals = memory.arrivals.get(badge, [])
            for entry in arrivals[person.fed.get(badge, 0) :]:
                if holding.holds_at(entry[0]):
                    new[entry[2]] = entry
        for badge in person.badges:
            person.fed[badge] = len(memory.arrivals.get(badge, []))
        return sorted(new.values())

    def _sync(
        self, repo: PresenceStore, campus: str, batch: list[StoredTap], now: datetime
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
            self._replays = {key: value for key, value in self._replays.items() if key[0] != campus}
        if memory.schedule_at is None or now - memory.schedule_at > self.refresh:
            calendar = repo.calendar(campus)
            today = now.astimezone(calendar.tz).date()
            memory.schedule = calendar.schedule(
                today - timedelta(days=lookback.days + 1), today + timedelta(days=1)
            )
            memory.schedule_at = now

    def _reader_modes(
        self, repo: PresenceStore, now: datetime
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
