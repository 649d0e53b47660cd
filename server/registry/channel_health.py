"""The health of each campus's alert channels in the registry (``alert_channel_states``)
and the delivery counters, so every server process reads and writes the same; the
adapter of the port ``server.ports.alerts.ChannelHealthLog``."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.domain.deliveries import ChannelHealth, after_failure, after_success
from server.registry.alert_models import AlertChannelState, AlertDelivery

_FIELDS = ("failures", "failing_since", "last_error", "last_failure_at", "last_success_at")


def _health(row: AlertChannelState) -> ChannelHealth:
    return ChannelHealth(
        row.campus_id, row.channel, **{name: getattr(row, name) for name in _FIELDS}
    )


def record_outcome(
    session: Session, campus: str, channel: str, error: str, now: datetime
) -> ChannelHealth:
    """One attempt on the channel ended (``error`` empty: it worked)."""
    row = session.get(AlertChannelState, (campus, channel), with_for_update=True)
    if row is None:
        row = AlertChannelState(campus_id=campus, channel=channel, failures=0, last_error="")
        session.add(row)
    before = _health(row)
    after = after_success(before, now) if not error else after_failure(before, error, now)
    for name in _FIELDS:
        setattr(row, name, getattr(after, name))
    return after


def states(session: Session, campuses: Collection[str] | None = None) -> list[ChannelHealth]:
    """The channels' health (of these campuses, or all), by campus and channel."""
    query = select(AlertChannelState).order_by(
        AlertChannelState.campus_id, AlertChannelState.channel
    )
    if campuses is not None:
        query = query.where(AlertChannelState.campus_id.in_(list(campuses)))
    return [_health(row) for row in session.scalars(query)]


def delivery_counts(session: Session) -> dict[str, dict[str, int]]:
    """Deliveries by channel and state: ``sent``, ``pending`` (never tried yet),
    ``retrying`` (failed, tried again later) and ``given_up``."""
    no_next = AlertDelivery.next_attempt_at.is_(None)
    rows = session.execute(
        select(AlertDelivery.channel, AlertDelivery.status, no_next, func.count()).group_by(
            AlertDelivery.channel, AlertDelivery.status, no_next
        )
    )
    counts: dict[str, dict[str, int]] = {}
    for channel, status, no_next, count in rows:
        name = status if status != "failed" else ("given_up" if no_next else "retrying")
        entry = counts.setdefault(channel, {"sent": 0, "pending": 0, "retrying": 0, "given_up": 0})
        entry[name] += count
    return counts


class SqlChannelHealth:
    """``server.ports.alerts.ChannelHealthLog`` on one registry session."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def states(self, campuses: Collection[str] | None = None) -> list[ChannelHealth]:
        return states(self._session, campuses)

    def record_outcome(self, campus: str, channel: str, error: str, now: datetime) -> ChannelHealth:
        return record_outcome(self._session, campus, channel, error, now)

    def delivery_counts(self) -> dict[str, dict[str, int]]:
        return delivery_counts(self._session)
