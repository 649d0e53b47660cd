"""Shared state of several server processes: job leases (which process runs the
periodic jobs) and the reader outages alerted and not resolved yet.

Revision ID: 0006_job_leases
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_job_leases"
down_revision = "0001"
branch_labels = ("job_leases",)
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "job_leases",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.String(length=200), nullable=False),
        sa.Column("acquired_at", _TS, nullable=False),
        sa.Column("expires_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_job_leases")),
    )
    op.create_table(
        "reader_outages",
        sa.Column("campus_id", sa.String(length=64), nullable=False),
        sa.Column("reader_id", sa.String(length=64), nullable=False),
        sa.Column("noticed_at", _TS, nullable=False),
        sa.Column("last_seen", _TS, nullable=True),
        sa.Column("reader_state", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("campus_id", "reader_id", name=op.f("pk_reader_outages")),
    )


def downgrade() -> None:
    op.drop_table("reader_outages")
    op.drop_table("job_leases")
