"""Occupancy: room profiles (public id, kind, limits) and campus capacities.

Revision ID: 0002_occupancy
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_occupancy"
down_revision = "0001"
branch_labels = ("occupancy",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "room_profiles",
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("campus_id", sa.String(length=64), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("soft_limit", sa.Integer(), nullable=True),
        sa.Column("hard_limit", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('individual', 'group', 'social', 'other')",
            name=op.f("ck_room_profiles_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["room_id"], ["rooms.id"], name=op.f("fk_room_profiles_room_id_rooms")
        ),
        sa.ForeignKeyConstraint(
            ["campus_id"], ["campuses.id"], name=op.f("fk_room_profiles_campus_id_campuses")
        ),
        sa.PrimaryKeyConstraint("room_id", name=op.f("pk_room_profiles")),
        sa.UniqueConstraint("campus_id", "code", name=op.f("uq_room_profiles_campus_id")),
    )
    op.create_table(
        "campus_capacities",
        sa.Column("campus_id", sa.String(length=64), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("area_m2", sa.Float(), nullable=True),
        sa.Column("soft_limit", sa.Integer(), nullable=True),
        sa.Column("hard_limit", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["campus_id"], ["campuses.id"], name=op.f("fk_campus_capacities_campus_id_campuses")
        ),
        sa.PrimaryKeyConstraint("campus_id", name=op.f("pk_campus_capacities")),
    )


def downgrade() -> None:
    op.drop_table("campus_capacities")
    op.drop_table("room_profiles")
