"""A frozen week keeps how it adds up: its slot outcomes and sessions, as JSON.

Revision ID: 0013_week_breakdown
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_week_breakdown"
down_revision = "0001"
branch_labels = ("week_breakdown",)
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("weekly_records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("breakdown", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("weekly_records", schema=None) as batch_op:
        batch_op.drop_column("breakdown")
