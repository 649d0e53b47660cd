"""Each server process's own counters (``/metrics`` sums every live process's share).

Revision ID: 0015b_process_reports
Revises: 0015b_login_failures
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015b_process_reports"
down_revision = "0015b_login_failures"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "process_reports",
        sa.Column("process_id", sa.String(length=200), nullable=False),
        sa.Column("host", sa.String(length=100), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.Column("stopped", sa.Boolean(), nullable=False),
        sa.Column("counters", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("process_id", name=op.f("pk_process_reports")),
    )
    op.create_index(
        op.f("ix_process_reports_updated_at"), "process_reports", ["updated_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_process_reports_updated_at"), table_name="process_reports")
    op.drop_table("process_reports")
