"""Initial registry: campuses, readers, students, badges, contracts, calendars, workflow.

Revision ID: 0001
Revises:
Create Date: 2026-11-23 09:43:51.710792
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=254), nullable=False),
        sa.Column("action", sa.String(length=50), nullable=False),
        sa.Column("entity", sa.String(length=50), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=False),
        sa.Column("before", sa.Text(), nullable=False),
        sa.Column("after", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_at"), ["at"], unique=False)

    op.create_table(
        "campuses",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("school_zone", sa.String(length=16), nullable=True),
        sa.Column("closes_on_school_holidays", sa.Boolean(), nullable=False),
        sa.Column("closes_on_public_holidays", sa.Boolean(), nullable=False),
        sa.Column("holiday_subdivision", sa.String(length=8), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campuses")),
    )
    op.create_table(
        "school_holidays",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("zone", sa.String(length=16), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_school_holidays")),
        sa.UniqueConstraint("zone", "start", name=op.f("uq_school_holidays_zone")),
    )
    op.create_table(
        "tutors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tutors")),
        sa.UniqueConstraint("email", name=op.f("uq_tutors_email")),
    )
    op.create_table(
        "closures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campus_id", sa.String(length=64), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.CheckConstraint('"end" >= start', name=op.f("ck_closures_dates")),
        sa.ForeignKeyConstraint(
            ["campus_id"], ["campuses.id"], name=op.f("fk_closures_campus_id_campuses")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_closures")),
    )
    with op.batch_alter_table("closures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_closures_campus_id"), ["campus_id"], unique=False)

    op.create_table(
        "opening_exceptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campus_id", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("opens", sa.Time(), nullable=True),
        sa.Column("closes", sa.Time(), nullable=True),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["campus_id"], ["campuses.id"], name=op.f("fk_opening_exceptions_campus_id_campuses")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opening_exceptions")),
    )
    with op.batch_alter_table("opening_exceptions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_opening_exceptions_campus_id"), ["campus_id"], unique=False
        )

    op.create_table(
        "opening_hours",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campus_id", sa.String(length=64), nullable=False),
        sa.Column("weekday", sa.SmallInteger(), nullable=False),
        sa.Column("opens", sa.Time(), nullable=False),
        sa.Column("closes", sa.Time(), nullable=False),
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name=op.f("ck_opening_hours_weekday")),
        sa.ForeignKeyConstraint(
            ["campus_id"], ["campuses.id"], name=op.f("fk_opening_hours_campus_id_campuses")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opening_hours")),
    )
    with op.batch_alter_table("opening_hours", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_opening_hours_campus_id"), ["campus_id"], unique=False)

    op.create_table(
        "rooms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campus_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("area_m2", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["campus_id"], ["campuses.id"], name=op.f("fk_rooms_campus_id_campuses")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rooms")),
        sa.UniqueConstraint("campus_id", "name", name=op.f("uq_rooms_campus_id")),
    )
    with op.batch_alter_table("rooms", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rooms_campus_id"), ["campus_id"], unique=False)

    op.create_table(
        "students",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.String(length=64), nullable=False),
        sa.Column("campus_id", sa.String(length=64), nullable=False),
        sa.Column("last_name", sa.String(length=200), nullable=False),
        sa.Column("first_name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=False),
        sa.Column("programme", sa.String(length=200), nullable=False),
        sa.Column("institution", sa.String(length=200), nullable=False),
        sa.Column("institution_type", sa.String(length=50), nullable=False),
        sa.Column("tutor_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campus_id"], ["campuses.id"], name=op.f("fk_students_campus_id_campuses")
        ),
        sa.ForeignKeyConstraint(
            ["tutor_id"], ["tutors.id"], name=op.f("fk_students_tutor_id_tutors")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_students")),
        sa.UniqueConstraint("student_id", name=op.f("uq_students_student_id")),
    )
    with op.batch_alter_table("students", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_students_campus_id"), ["campus_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_students_tutor_id"), ["tutor_id"], unique=False)

    op.create_table(
        "badges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("student_pk", sa.Integer(), nullable=False),
        sa.Column("badge_hash", sa.String(length=64), nullable=False),
        sa.Column("active_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_reason", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["student_pk"], ["students.id"], name=op.f("fk_badges_student_pk_students")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_badges")),
    )
    with op.batch_alter_table("badges", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_badges_badge_hash"), ["badge_hash"], unique=False)
        batch_op.create_index(batch_op.f("ix_badges_student_pk"), ["student_pk"], unique=False)

    op.create_table(
        "contracts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("student_pk", sa.Integer(), nullable=False),
        sa.Column("weekly_minutes", sa.Integer(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("replaced_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("weekly_minutes > 0", name=op.f("ck_contracts_weekly_minutes")),
        sa.ForeignKeyConstraint(
            ["student_pk"], ["students.id"], name=op.f("fk_contracts_student_pk_students")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contracts")),
    )
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contracts_student_pk"), ["student_pk"], unique=False)

    op.create_table(
        "excused_absences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("student_pk", sa.Integer(), nullable=False),
        sa.Column("start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=254), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["student_pk"], ["students.id"], name=op.f("fk_excused_absences_student_pk_students")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_excused_absences")),
    )
    with op.batch_alter_table("excused_absences", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_excused_absences_student_pk"), ["student_pk"], unique=False
        )

    op.create_table(
        "presence_corrections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("student_pk", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("session_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("moment", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("author", sa.String(length=254), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('confirm', 'amend', 'add', 'remove')",
            name=op.f("ck_presence_corrections_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["student_pk"],
            ["students.id"],
            name=op.f("fk_presence_corrections_student_pk_students"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_presence_corrections")),
    )
    with op.batch_alter_table("presence_corrections", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_presence_corrections_moment"), ["moment"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_presence_corrections_student_pk"), ["student_pk"], unique=False
        )

    op.create_table(
        "readers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campus_id", sa.String(length=64), nullable=False),
        sa.Column("reader_id", sa.String(length=64), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("mode IN ('toggle', 'in', 'out', 'room')", name=op.f("ck_readers_mode")),
        sa.ForeignKeyConstraint(
            ["campus_id"], ["campuses.id"], name=op.f("fk_readers_campus_id_campuses")
        ),
        sa.ForeignKeyConstraint(["room_id"], ["rooms.id"], name=op.f("fk_readers_room_id_rooms")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_readers")),
        sa.UniqueConstraint("campus_id", "reader_id", name=op.f("uq_readers_campus_id")),
    )
    op.create_table(
        "unknown_badges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("badge_hash", sa.String(length=64), nullable=False),
        sa.Column("campus_id", sa.String(length=64), nullable=False),
        sa.Column("reader_id", sa.String(length=64), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen_count", sa.Integer(), nullable=False),
        sa.Column("attached_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("student_pk", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["student_pk"], ["students.id"], name=op.f("fk_unknown_badges_student_pk_students")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unknown_badges")),
    )
    with op.batch_alter_table("unknown_badges", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_unknown_badges_badge_hash"), ["badge_hash"], unique=False
        )

    op.create_table(
        "weekly_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("student_pk", sa.Integer(), nullable=False),
        sa.Column("week", sa.String(length=8), nullable=False),
        sa.Column("expected_s", sa.Integer(), nullable=False),
        sa.Column("attended_s", sa.Integer(), nullable=False),
        sa.Column("unverified_s", sa.Integer(), nullable=False),
        sa.Column("missed_slots", sa.Integer(), nullable=False),
        sa.Column("late_arrivals", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("frozen_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('met', 'short', 'at_risk', 'excused', 'on_track')",
            name=op.f("ck_weekly_records_status"),
        ),
        sa.ForeignKeyConstraint(
            ["student_pk"], ["students.id"], name=op.f("fk_weekly_records_student_pk_students")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_weekly_records")),
        sa.UniqueConstraint("student_pk", "week", name=op.f("uq_weekly_records_student_pk")),
    )
    with op.batch_alter_table("weekly_records", schema=None) as batch_op:
        batch_op.create_index("ix_weekly_records_week", ["week"], unique=False)

    op.create_table(
        "contract_slots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.SmallInteger(), nullable=False),
        sa.Column("start", sa.Time(), nullable=False),
        sa.Column("end", sa.Time(), nullable=False),
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name=op.f("ck_contract_slots_weekday")),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contracts.id"], name=op.f("fk_contract_slots_contract_id_contracts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contract_slots")),
    )
    with op.batch_alter_table("contract_slots", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_contract_slots_contract_id"), ["contract_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("contract_slots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contract_slots_contract_id"))

    op.drop_table("contract_slots")
    with op.batch_alter_table("weekly_records", schema=None) as batch_op:
        batch_op.drop_index("ix_weekly_records_week")

    op.drop_table("weekly_records")
    with op.batch_alter_table("unknown_badges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_unknown_badges_badge_hash"))

    op.drop_table("unknown_badges")
    op.drop_table("readers")
    with op.batch_alter_table("presence_corrections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_presence_corrections_student_pk"))
        batch_op.drop_index(batch_op.f("ix_presence_corrections_moment"))

    op.drop_table("presence_corrections")
    with op.batch_alter_table("excused_absences", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_excused_absences_student_pk"))

    op.drop_table("excused_absences")
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contracts_student_pk"))

    op.drop_table("contracts")
    with op.batch_alter_table("badges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_badges_student_pk"))
        batch_op.drop_index(batch_op.f("ix_badges_badge_hash"))

    op.drop_table("badges")
    with op.batch_alter_table("students", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_students_tutor_id"))
        batch_op.drop_index(batch_op.f("ix_students_campus_id"))

    op.drop_table("students")
    with op.batch_alter_table("rooms", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rooms_campus_id"))

    op.drop_table("rooms")
    with op.batch_alter_table("opening_hours", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_opening_hours_campus_id"))

    op.drop_table("opening_hours")
    with op.batch_alter_table("opening_exceptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_opening_exceptions_campus_id"))

    op.drop_table("opening_exceptions")
    with op.batch_alter_table("closures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_closures_campus_id"))

    op.drop_table("closures")
    op.drop_table("tutors")
    op.drop_table("school_holidays")
    op.drop_table("campuses")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_at"))

    op.drop_table("audit_log")
