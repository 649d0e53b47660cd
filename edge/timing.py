"""Pure timing rules of the agent: tap debounce and retry backoff (clock injected)."""

from __future__ import annotations

import random
from collections.abc import Callable


class Debouncer:
    """One badge held on the reader, or tapped again within ``window_s`` of the last
    time it was seen, is one tap. The window slides: a held badge keeps being seen."""

    def __init__(self, *, window_s: float = 5.0, max_badges: int = 256) -> None:
        self.window_s = window_s
        self._max_badges = max_badges
        self._last_seen: dict[str, float] = {}

    def seen(self, uid: str, now: float, *, arriving: bool = True) -> bool:
        """Record a sighting at monotonic time ``now``; True when it is a new tap.

        A sighting of a tag that stayed on the reader (``arriving=False``) only slides
        the window: however long it was held, it was one tap."""
        last = self._last_seen.pop(uid, None)
        self._last_seen[uid] = now  # most recent last, for the pruning below
        if len(self._last_seen) > self._max_badges:
            self._forget_before(now - self.window_s)
        return arriving and (last is None or now - last >= self.window_s)

    def _forget_before(self, limit: float) -> None:
        for uid in [uid for uid, at in self._last_seen.items() if at < limit]:
            del self._last_seen[uid]


class Backoff:
    """Exponential backoff with jitter: ``min_s``, doubling up to ``max_s``."""

    def __init__(
        self,
        *,
        min_s: float = 1.0,
        max_s: float = 60.0,
        factor: float = 2.0,
        jitter: float = 0.1,
        rand: Callable[[], float] = random.random,
    ) -> None:
        if not 0 < min_s <= max_s:
            raise ValueError("backoff needs 0 < min_s <= max_s")
        self.min_s, self.max_s, self.factor, self.jitter = min_s, max_s, factor, jitter
        self._rand = rand
        self.attempts = 0

    def next_delay(self) -> float:
        """The wait before the next attempt; each call counts one more failure."""
        base = min(self.max_s, self.min_s * self.factor ** min(self.attempts, 64))
        self.attempts += 1
        return min(self.max_s, base * (1 - self.jitter + 2 * self.jitter * self._rand()))

    def reset(self) -> None:
        self.attempts = 0
