"""Capacity alerts: the ``capacity`` kind, and the room and counts of a capacity alert.

Revision ID: 0004_capacity_alerts
Revises: 0003_alerts
Create Date: 2026-11-30 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_capacity_alerts"
down_revision = "0003_alerts"
branch_labels = None
depends_on = None

_BEFORE = ("absence", "shortfall", "early_warning", "reader_down")
_AFTER = (*_BEFORE, "capacity")


def _kinds(values: tuple[str, ...]) -> str:
    return f"kind IN ({', '.join(repr(value) for value in values)})"


def _recreate() -> str:
    """SQLite cannot alter a CHECK constraint: there the table is copied ("always"). Other
    databases (PostgreSQL) alter it in place: copying would drop the primary key that the
    other tables' foreign keys depend on."""
    return "always" if op.get_bind().dialect.name == "sqlite" else "auto"


def upgrade() -> None:
    with op.batch_alter_table("alerts", recreate=_recreate()) as batch:
        batch.drop_constraint(op.f("ck_alerts_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_alerts_kind"), _kinds(_AFTER))
        batch.add_column(sa.Column("room_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("occupancy_count", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("occupancy_capacity", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.execute(
        "DELETE FROM alert_deliveries WHERE alert_pk IN "
        "(SELECT id FROM alerts WHERE kind = 'capacity')"
    )
    op.execute("DELETE FROM alerts WHERE kind = 'capacity'")
    with op.batch_alter_table("alerts", recreate=_recreate()) as batch:
        batch.drop_column("occupancy_capacity")
        batch.drop_column("occupancy_count")
        batch.drop_column("room_id")
        batch.drop_constraint(op.f("ck_alerts_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_alerts_kind"), _kinds(_BEFORE))
