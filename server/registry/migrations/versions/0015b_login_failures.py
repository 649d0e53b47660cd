"""Failed logins per address and per (hashed) login, shared by every web process: the
login throttle's memory.

Revision ID: 0015b_login_failures
Revises: 0006_job_leases
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015b_login_failures"
down_revision = "0006_job_leases"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "login_failures",
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", _TS, nullable=False),
        sa.Column("blocked_until", _TS, nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_failures")),
    )


def downgrade() -> None:
    op.drop_table("login_failures")
