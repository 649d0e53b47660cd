"""Registry tables of alerts (issue 5): alerts, the call log, deliveries per channel,
absence evaluations (so a restart neither forgets nor repeats a check) and each
campus's channel settings. Secrets are never stored: only the name of the environment
variable that holds them. Migrations: ``versions/0003_alerts.py``, then
``versions/0004_capacity_alerts.py`` (the ``capacity`` kind and its columns), then
``versions/0007_alert_delivery_claims.py`` (claims of deliveries, channels' health)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from server.registry.models import Base, UtcDateTime

ALERT_KINDS = ("absence", "shortfall", "early_warning", "reader_down", "capacity")
ALERT_STATUSES = ("open", "acknowledged", "closed")
VERDICTS = ("present", "late", "absent", "indeterminate")
DELIVERY_STATUSES = ("pending", "sent", "failed")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


class Alert(Base):
    """One alert. ``dedupe_key`` makes a second alert for the same thing impossible
    (one per student per slot, per student per week and kind, per reader outage, per
    capacity incident)."""

    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("public_id"),
        UniqueConstraint("dedupe_key"),
        UniqueConstraint("student_pk", "slot_start", name="uq_alerts_student_slot"),
        CheckConstraint(_in("kind", ALERT_KINDS), name="kind"),
        CheckConstraint(_in("status", ALERT_STATUSES), name="status"),
        Index("ix_alerts_noticed_at", "noticed_at"),
        Index("ix_alerts_status", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(64))
    dedupe_key: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    campus_id: Mapped[str] = mapped_column(ForeignKey("campuses.id"))
    student_pk: Mapped[int | None] = mapped_column(ForeignKey("students.id"))
    tutor_id: Mapped[int | None] = mapped_column(ForeignKey("tutors.id"))
    slot_start: Mapped[datetime | None] = mapped_column(UtcDateTime)
    slot_end: Mapped[datetime | None] = mapped_column(UtcDateTime)
    week: Mapped[str | None] = mapped_column(String(8))
    expected_minutes: Mapped[int | None] = mapped_column(Integer)
    recorded_minutes: Mapped[int | None] = mapped_column(Integer)
    reader_id: Mapped[str | None] = mapped_column(String(64))
    reader_state: Mapped[str | None] = mapped_column(String(10))
    reader_last_seen: Mapped[datetime | None] = mapped_column(UtcDateTime)
    room_id: Mapped[str | None] = mapped_column(String(64))  # capacity: None = whole campus
    occupancy_count: Mapped[int | None] = mapped_column(Integer)
    occupancy_capacity: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12), default="open")
    resolution: Mapped[str | None] = mapped_column(String(12))
    noticed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    acknowledged_by: Mapped[str] = mapped_column(String(254), default="")
    called_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    arrived_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class AlertCall(Base):
    """The call log: the campus's proof that it called the student."""

    __tablename__ = "alert_calls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_pk: Mapped[int] = mapped_column(ForeignKey("alerts.id"), index=True)
    called_at: Mapped[datetime] = mapped_column(UtcDateTime)
    outcome: Mapped[str] = mapped_column(String(20))
    reason_category: Mapped[str | None] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text, default="")
    excused: Mapped[bool] = mapped_column(Boolean, default=False)
    excused_absence_id: Mapped[int | None] = mapped_column(ForeignKey("excused_absences.id"))
    author: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class AlertDelivery(Base):
    """One notice of an alert on one channel: sent, or pending/failed for a retry."""

    __tablename__ = "alert_deliveries"
    __table_args__ = (
        UniqueConstraint("alert_pk", "notice", "channel", name="uq_alert_deliveries_notice"),
        CheckConstraint(_in("status", DELIVERY_STATUSES), name="status"),
        Index("ix_alert_deliveries_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_pk: Mapped[int] = mapped_column(ForeignKey("alerts.id"), index=True)
    notice: Mapped[str] = mapped_column(String(20))  # raised | escalated | arrived | resolved
    channel: Mapped[str] = mapped_column(String(20))  # web | email | webhook | mqtt
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Who is sending it right now (a process's worker) and until when the claim holds:
    # another process takes it only once the claim has run out (a crash mid-send).
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None] = mapped_column(UtcDateTime)


class AlertChannelState(Base):
    """The health of one channel of a campus (``server.domain.deliveries``): consecutive
    failures, since when, the last error (no personal data), the last success."""

    __tablename__ = "alert_channel_states"

    campus_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    failing_since: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str] = mapped_column(String(300), default="")
    last_failure_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class AbsenceEvaluation(Base):
    """The check of one slot occurrence; an ``indeterminate`` one is checked again."""

    __tablename__ = "absence_evaluations"
    __table_args__ = (
        UniqueConstraint("student_pk", "slot_start", name="uq_absence_evaluations_slot"),
        CheckConstraint(_in("verdict", VERDICTS), name="verdict"),
        Index("ix_absence_evaluations_check_at", "check_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    student_pk: Mapped[int] = mapped_column(ForeignKey("students.id"))
    campus_id: Mapped[str] = mapped_column(String(64))
    slot_start: Mapped[datetime] = mapped_column(UtcDateTime)
    slot_end: Mapped[datetime] = mapped_column(UtcDateTime)
    check_at: Mapped[datetime] = mapped_column(UtcDateTime)
    verdict: Mapped[str] = mapped_column(String(14))
    evaluated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class WatcherMark(Base):
    """When the absence watcher first ran for a campus: older slots are not checked by
    the periodic job (a new deployment must not alert about last week)."""

    __tablename__ = "absence_watcher_marks"

    campus_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)


class AlertChannelSettings(Base):
    """How a campus's alerts are sent. Passwords and secrets come from the environment
    variables named here, never from the registry."""

    __tablename__ = "alert_channel_settings"

    campus_id: Mapped[str] = mapped_column(ForeignKey("campuses.id"), primary_key=True)
    base_url: Mapped[str] = mapped_column(String(300), default="")
    coordinator_emails: Mapped[str] = mapped_column(Text, default="")  # comma-separated
    escalation_minutes: Mapped[int] = mapped_column(Integer, default=30)
    email_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    smtp_host: Mapped[str] = mapped_column(String(200), default="")
    smtp_port: Mapped[int] = mapped_column(Integer, default=587)
    smtp_security: Mapped[str] = mapped_column(String(10), default="starttls")
    smtp_username: Mapped[str] = mapped_column(String(200), default="")
    smtp_password_env: Mapped[str] = mapped_column(String(100), default="CAMPUS_SMTP_PASSWORD")
    from_address: Mapped[str] = mapped_column(String(254), default="")
    webhook_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    webhook_url: Mapped[str] = mapped_column(String(500), default="")
    webhook_secret_env: Mapped[str] = mapped_column(String(100), default="CAMPUS_WEBHOOK_SECRET")
    mqtt_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
