"""Alerts: alerts, call log, deliveries, absence evaluations, channel settings (issue 5).

Revision ID: 0003_alerts
Revises: 0001
Create Date: 2026-11-23 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_alerts"
down_revision = "0001"
branch_labels = ("alerts",)
depends_on = None

_TS = sa.DateTime(timezone=True)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    referred = target.split(".")[0]
    return sa.ForeignKeyConstraint([column], [target], name=op.f(f"fk_{table}_{column}_{referred}"))


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(64), nullable=False),
        sa.Column("dedupe_key", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("campus_id", sa.String(64), nullable=False),
        sa.Column("student_pk", sa.Integer(), nullable=True),
        sa.Column("tutor_id", sa.Integer(), nullable=True),
        sa.Column("slot_start", _TS, nullable=True),
        sa.Column("slot_end", _TS, nullable=True),
        sa.Column("week", sa.String(8), nullable=True),
        sa.Column("expected_minutes", sa.Integer(), nullable=True),
        sa.Column("recorded_minutes", sa.Integer(), nullable=True),
        sa.Column("reader_id", sa.String(64), nullable=True),
        sa.Column("reader_state", sa.String(10), nullable=True),
        sa.Column("reader_last_seen", _TS, nullable=True),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("resolution", sa.String(12), nullable=True),
        sa.Column("noticed_at", _TS, nullable=False),
        sa.Column("acknowledged_at", _TS, nullable=True),
        sa.Column("acknowledged_by", sa.String(254), nullable=False),
        sa.Column("called_at", _TS, nullable=True),
        sa.Column("arrived_at", _TS, nullable=True),
        sa.Column("escalated_at", _TS, nullable=True),
        sa.Column("closed_at", _TS, nullable=True),
        sa.CheckConstraint(
            "kind IN ('absence', 'shortfall', 'early_warning', 'reader_down')",
            name=op.f("ck_alerts_kind"),
        ),
        sa.CheckConstraint(
            "status IN ('open', 'acknowledged', 'closed')", name=op.f("ck_alerts_status")
        ),
        _fk("alerts", "campus_id", "campuses.id"),
        _fk("alerts", "student_pk", "students.id"),
        _fk("alerts", "tutor_id", "tutors.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
        sa.UniqueConstraint("public_id", name=op.f("uq_alerts_public_id")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_alerts_dedupe_key")),
        sa.UniqueConstraint("student_pk", "slot_start", name="uq_alerts_student_slot"),
    )
    op.create_index("ix_alerts_noticed_at", "alerts", ["noticed_at"])
    op.create_index("ix_alerts_status", "alerts", ["status"])
    op.create_table(
        "alert_calls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_pk", sa.Integer(), nullable=False),
        sa.Column("called_at", _TS, nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("reason_category", sa.String(20), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("excused", sa.Boolean(), nullable=False),
        sa.Column("excused_absence_id", sa.Integer(), nullable=True),
        sa.Column("author", sa.String(254), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        _fk("alert_calls", "alert_pk", "alerts.id"),
        _fk("alert_calls", "excused_absence_id", "excused_absences.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_calls")),
    )
    op.create_index("ix_alert_calls_alert_pk", "alert_calls", ["alert_pk"])
    op.create_table(
        "alert_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_pk", sa.Integer(), nullable=False),
        sa.Column("notice", sa.String(20), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(500), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("next_attempt_at", _TS, nullable=True),
        sa.Column("sent_at", _TS, nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'sent', 'failed')", name=op.f("ck_alert_deliveries_status")
        ),
        _fk("alert_deliveries", "alert_pk", "alerts.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_deliveries")),
        sa.UniqueConstraint("alert_pk", "notice", "channel", name="uq_alert_deliveries_notice"),
    )
    op.create_index("ix_alert_deliveries_alert_pk", "alert_deliveries", ["alert_pk"])
    op.create_index("ix_alert_deliveries_due", "alert_deliveries", ["status", "next_attempt_at"])
    op.create_table(
        "absence_evaluations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("student_pk", sa.Integer(), nullable=False),
        sa.Column("campus_id", sa.String(64), nullable=False),
        sa.Column("slot_start", _TS, nullable=False),
        sa.Column("slot_end", _TS, nullable=False),
        sa.Column("check_at", _TS, nullable=False),
        sa.Column("verdict", sa.String(14), nullable=False),
        sa.Column("evaluated_at", _TS, nullable=False),
        sa.CheckConstraint(
            "verdict IN ('present', 'late', 'absent', 'indeterminate')",
            name=op.f("ck_absence_evaluations_verdict"),
        ),
        _fk("absence_evaluations", "student_pk", "students.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_absence_evaluations")),
        sa.UniqueConstraint("student_pk", "slot_start", name="uq_absence_evaluations_slot"),
    )
    op.create_index("ix_absence_evaluations_check_at", "absence_evaluations", ["check_at"])
    op.create_table(
        "absence_watcher_marks",
        sa.Column("campus_id", sa.String(64), nullable=False),
        sa.Column("started_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("campus_id", name=op.f("pk_absence_watcher_marks")),
    )
    op.create_table(
        "alert_channel_settings",
        sa.Column("campus_id", sa.String(64), nullable=False),
        sa.Column("base_url", sa.String(300), nullable=False),
        sa.Column("coordinator_emails", sa.Text(), nullable=False),
        sa.Column("escalation_minutes", sa.Integer(), nullable=False),
        sa.Column("email_enabled", sa.Boolean(), nullable=False),
        sa.Column("smtp_host", sa.String(200), nullable=False),
        sa.Column("smtp_port", sa.Integer(), nullable=False),
        sa.Column("smtp_security", sa.String(10), nullable=False),
        sa.Column("smtp_username", sa.String(200), nullable=False),
        sa.Column("smtp_password_env", sa.String(100), nullable=False),
        sa.Column("from_address", sa.String(254), nullable=False),
        sa.Column("webhook_enabled", sa.Boolean(), nullable=False),
        sa.Column("webhook_url", sa.String(500), nullable=False),
        sa.Column("webhook_secret_env", sa.String(100), nullable=False),
        sa.Column("mqtt_enabled", sa.Boolean(), nullable=False),
        _fk("alert_channel_settings", "campus_id", "campuses.id"),
        sa.PrimaryKeyConstraint("campus_id", name=op.f("pk_alert_channel_settings")),
    )


def downgrade() -> None:
    for table in (
        "alert_channel_settings",
        "absence_watcher_marks",
        "absence_evaluations",
        "alert_deliveries",
        "alert_calls",
        "alerts",
    ):
        op.drop_table(table)
