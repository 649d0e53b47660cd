"""Deliveries claimed by one worker at a time (several server processes), the time of
their last attempt, and the health of each campus's alert channels (issue 18).

Revision ID: 0007_alert_delivery_claims
Revises: 0004_capacity_alerts
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_alert_delivery_claims"
down_revision = "0004_capacity_alerts"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("alert_deliveries") as batch:
        batch.add_column(sa.Column("last_attempt_at", _TS, nullable=True))
        batch.add_column(sa.Column("claimed_by", sa.String(64), nullable=True))
        batch.add_column(sa.Column("claimed_until", _TS, nullable=True))
    op.create_table(
        "alert_channel_states",
        sa.Column("campus_id", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("failing_since", _TS, nullable=True),
        sa.Column("last_error", sa.String(300), nullable=False),
        sa.Column("last_failure_at", _TS, nullable=True),
        sa.Column("last_success_at", _TS, nullable=True),
        sa.PrimaryKeyConstraint("campus_id", "channel", name=op.f("pk_alert_channel_states")),
    )


def downgrade() -> None:
    op.drop_table("alert_channel_states")
    with op.batch_alter_table("alert_deliveries") as batch:
        batch.drop_column("claimed_until")
        batch.drop_column("claimed_by")
        batch.drop_column("last_attempt_at")
