"""Where a link about an alert leads, for whoever receives it: the one rule behind every
link the product sends (e-mail, SMS webhook, MQTT event).

- An alert about a student (absence, weekly shortfall, early warning) has one page,
  ``/tutor/alerts/{id}``: its tutor, the coordinators of its campus and the admins may
  open it (the page checks the role and the campus), so the tutor told at once and the
  coordinator told on escalation follow the same link.
- An incident about the place (a door reader down, a room at capacity) is for the
  coordinators: their occupancy page of that campus shows the readers' states and the
  counts. A tutor is never its recipient; if one were, the link leads to their board.

Paths only start with ``/`` and are joined to the campus's configured base address;
without a base address there is no link (a relative link in an e-mail leads nowhere).
"""

from __future__ import annotations

from urllib.parse import quote

from server.domain.accounts import Role
from server.domain.alerts import AlertKind

PLACE_ALERTS = frozenset({AlertKind.READER_DOWN, AlertKind.CAPACITY})


def recipient_role(kind: AlertKind, *, escalated: bool, has_tutor: bool) -> Role:
    """Who a step of an alert is written to: the tutor, or the coordinators for an
    escalation, an incident about the place, or a student without a tutor."""
    if escalated or kind in PLACE_ALERTS or not has_tutor:
        return Role.COORDINATOR
    return Role.TUTOR


def alert_path(kind: AlertKind, public_id: str, campus: str, role: Role) -> str:
    """The site path of the page a recipient of ``role`` opens for this alert."""
    if kind in PLACE_ALERTS:
        if role is Role.TUTOR:
            return "/tutor/now"
        return f"/coordinator/occupancy?campus={quote(campus, safe='')}"
    return f"/tutor/alerts/{quote(public_id, safe='')}"


def alert_link(base_url: str, kind: AlertKind, public_id: str, campus: str, role: Role) -> str:
    """The absolute link of :func:`alert_path` under ``base_url``; ``""`` without one."""
    base = base_url.strip().rstrip("/")
    if not base:
        return ""
    return base + alert_path(kind, public_id, campus, role)
