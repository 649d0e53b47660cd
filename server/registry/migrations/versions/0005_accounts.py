"""Accounts, API tokens and tutors' notes (the web application).

Revision ID: 0005_accounts
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_accounts"
down_revision = "0001"
branch_labels = ("accounts",)
depends_on = None

_TS = sa.DateTime(timezone=True)
_ROLES = "role IN ('student', 'tutor', 'coordinator', 'admin')"


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("login", sa.String(length=254), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("campus_id", sa.String(length=64), nullable=False),
        sa.Column("tutor_id", sa.Integer(), nullable=True),
        sa.Column("student_pk", sa.Integer(), nullable=True),
        sa.Column("password_hash", sa.String(length=300), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", _TS, nullable=True),
        sa.Column("session_version", sa.Integer(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("last_login_at", _TS, nullable=True),
        sa.CheckConstraint(_ROLES, name=op.f("ck_accounts_role")),
        sa.ForeignKeyConstraint(
            ["tutor_id"], ["tutors.id"], name=op.f("fk_accounts_tutor_id_tutors")
        ),
        sa.ForeignKeyConstraint(
            ["student_pk"], ["students.id"], name=op.f("fk_accounts_student_pk_students")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("login", name=op.f("uq_accounts_login")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=12), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("campus_id", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=254), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("revoked_at", _TS, nullable=True),
        sa.Column("last_used_at", _TS, nullable=True),
        sa.CheckConstraint(_ROLES, name=op.f("ck_api_tokens_role")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("digest", name=op.f("uq_api_tokens_digest")),
    )
    op.create_table(
        "student_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("student_pk", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(length=254), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["student_pk"], ["students.id"], name=op.f("fk_student_notes_student_pk_students")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_student_notes")),
    )
    op.create_index(
        op.f("ix_student_notes_student_pk"), "student_notes", ["student_pk"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_student_notes_student_pk"), table_name="student_notes")
    op.drop_table("student_notes")
    op.drop_table("api_tokens")
    op.drop_table("accounts")
