"""The audit log: who changed what, when, with a before/after summary.

Summaries never hold phone numbers (nor badge UIDs, which the registry never has)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any

from sqlalchemy.orm import Session

from server.registry.models import AuditEntry

_LEFT_OUT = frozenset({"phone"})


def summary(values: Mapping[str, Any] | None) -> str:
    """A JSON summary of ``values`` without the fields that must not be logged."""
    if not values:
        return ""
    kept = {key: _plain(value) for key, value in values.items() if key not in _LEFT_OUT}
    return json.dumps(kept, sort_keys=True, ensure_ascii=False)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def record(
    session: Session,
    *,
    at: datetime,
    actor: str,
    action: str,
    entity: str,
    entity_id: str | int,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        at=at,
        actor=actor,
        action=action,
        entity=entity,
        entity_id=str(entity_id),
        before=summary(before),
        after=summary(after),
    )
    session.add(entry)
    return entry
