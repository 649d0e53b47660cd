"""Event times as integers since the Unix epoch, UTC, as both event stores keep them.

Exact integer arithmetic (no float seconds); a naive datetime is refused, since the
stores cannot know which zone it meant.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)


def to_us(moment: datetime) -> int:
    """Microseconds since the epoch of an aware datetime."""
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment.isoformat()}: the event store needs aware")
    return (moment - EPOCH) // _US


def to_ms(moment: datetime) -> int:
    """Milliseconds since the epoch, truncated (rounded down) like :func:`to_us`."""
    return to_us(moment) // 1000


def from_us(value: int) -> datetime:
    return EPOCH + timedelta(microseconds=value)


def from_ms(value: int) -> datetime:
    return EPOCH + timedelta(milliseconds=value)
