"""Access to personal data, kept in the audit log: who looked at which student's
record, or downloaded a report with names in it, and when (GDPR accountability)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from server.domain.accounts import Principal
from server.ports.privacy import PrivacyUnitOfWork


class AccessLog:
    def __init__(self, unit_of_work: Callable[[], PrivacyUnitOfWork]) -> None:
        self.unit_of_work = unit_of_work

    def viewed(
        self, principal: Principal, *, entity: str, entity_id: str | int, what: str, at: datetime
    ) -> None:
        """``what`` names the page or export (``student_page``, ``weekly_report.xlsx``)."""
        with self.unit_of_work() as uow:
            uow.audit.record(
                at=at,
                actor=principal.name,
                action="viewed",
                entity=entity,
                entity_id=entity_id,
                after={"what": what, "role": principal.role.value},
            )
            uow.commit()
