"""A phone number on an account (a coordinator's receives escalated alerts by SMS).

Revision ID: 0006_account_phone
Revises: 0005_accounts
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_account_phone"
down_revision = "0005_accounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(
            sa.Column("phone", sa.String(length=20), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("phone")
