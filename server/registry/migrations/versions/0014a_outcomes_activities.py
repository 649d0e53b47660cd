"""Issue 14: a student's academic year (programme, institution, profile, result) and the
campus's activity log (workshops and attendees, interviews, exams on site, COPIL).

Revision ID: 0014a_outcomes_activities
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014a_outcomes_activities"
down_revision = "0001"
branch_labels = ("outcomes_activities",)
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "exam_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campus_id", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("institution", sa.String(length=200), nullable=False),
        sa.Column("candidates", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.CheckConstraint("candidates >= 0", name=op.f("ck_exam_sessions_candidates")),
        sa.ForeignKeyConstraint(
            ["campus_id"], ["campuses.id"], name=op.f("fk_exam_sessions_campus_id_campuses")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exam_sessions")),
    )
    op.create_index(
        op.f("ix_exam_sessions_campus_id"), "exam_sessions", ["campus_id"], unique=False
    )
    op.create_table(
        "steering_meetings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campus_id", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campus_id"], ["campuses.id"], name=op.f("fk_steering_meetings_campus_id_campuses")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_steering_meetings")),
    )
    op.create_index(
        op.f("ix_steering_meetings_campus_id"), "steering_meetings", ["campus_id"], unique=False
    )
    op.create_table(
        "workshops",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campus_id", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("theme", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.CheckConstraint("source IN ('ticked', 'badges')", name=op.f("ck_workshops_source")),
        sa.ForeignKeyConstraint(
            ["campus_id"], ["campuses.id"], name=op.f("fk_workshops_campus_id_campuses")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workshops")),
    )
    op.create_index(op.f("ix_workshops_campus_id"), "workshops", ["campus_id"], unique=False)
    op.create_table(
        "exam_candidates",
        sa.Column("exam_id", sa.Integer(), nullable=False),
        sa.Column("student_pk", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["exam_id"],
            ["exam_sessions.id"],
            name=op.f("fk_exam_candidates_exam_id_exam_sessions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["student_pk"], ["students.id"], name=op.f("fk_exam_candidates_student_pk_students")
        ),
        sa.PrimaryKeyConstraint("exam_id", "student_pk", name=op.f("pk_exam_candidates")),
    )
    op.create_table(
        "interviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campus_id", sa.String(length=64), nullable=False),
        sa.Column("student_pk", sa.Integer(), nullable=False),
        sa.Column("tutor_id", sa.Integer(), nullable=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("modality", sa.String(length=10), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "modality IN ('on_site', 'phone', 'video')", name=op.f("ck_interviews_modality")
        ),
        sa.ForeignKeyConstraint(
            ["campus_id"], ["campuses.id"], name=op.f("fk_interviews_campus_id_campuses")
        ),
        sa.ForeignKeyConstraint(
            ["student_pk"], ["students.id"], name=op.f("fk_interviews_student_pk_students")
        ),
        sa.ForeignKeyConstraint(
            ["tutor_id"], ["tutors.id"], name=op.f("fk_interviews_tutor_id_tutors")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interviews")),
    )
    op.create_index(op.f("ix_interviews_campus_id"), "interviews", ["campus_id"], unique=False)
    op.create_index(op.f("ix_interviews_student_pk"), "interviews", ["student_pk"], unique=False)
    op.create_table(
        "student_years",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("student_pk", sa.Integer(), nullable=False),
        sa.Column("year", sa.String(length=9), nullable=False),
        sa.Column("programme", sa.String(length=200), nullable=False),
        sa.Column("programme_type", sa.String(length=10), nullable=False),
        sa.Column("institution", sa.String(length=200), nullable=False),
        sa.Column("institution_public", sa.Boolean(), nullable=True),
        sa.Column("enrolled_on", sa.Date(), nullable=True),
        sa.Column("left_on", sa.Date(), nullable=True),
        sa.Column("age_band", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("result", sa.String(length=16), nullable=False),
        sa.Column("result_on", sa.Date(), nullable=True),
        sa.Column("result_reason", sa.String(length=500), nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.CheckConstraint(
            "age_band IN ('not_given', 'under_20', '20_24', '25_29', '30_plus')",
            name=op.f("ck_student_years_age_band"),
        ),
        sa.CheckConstraint(
            "programme_type IN ('lmd', 'daeu', 'bts', 'other')",
            name=op.f("ck_student_years_programme_type"),
        ),
        sa.CheckConstraint(
            "result IN ('pending', 'passed', 'failed', 'dropped_out', 'reoriented')",
            name=op.f("ck_student_years_result"),
        ),
        sa.CheckConstraint(
            "status IN ('not_given', 'recent_bachelor', 'employed', 'job_seeker',"
            " 'career_change', 'return_to_study')",
            name=op.f("ck_student_years_status"),
        ),
        sa.ForeignKeyConstraint(
            ["student_pk"], ["students.id"], name=op.f("fk_student_years_student_pk_students")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_student_years")),
        sa.UniqueConstraint("student_pk", "year", name=op.f("uq_student_years_student_pk")),
    )
    op.create_index(
        op.f("ix_student_years_student_pk"), "student_years", ["student_pk"], unique=False
    )
    op.create_index(op.f("ix_student_years_year"), "student_years", ["year"], unique=False)
    op.create_table(
        "workshop_attendees",
        sa.Column("workshop_id", sa.Integer(), nullable=False),
        sa.Column("student_pk", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["student_pk"], ["students.id"], name=op.f("fk_workshop_attendees_student_pk_students")
        ),
        sa.ForeignKeyConstraint(
            ["workshop_id"],
            ["workshops.id"],
            name=op.f("fk_workshop_attendees_workshop_id_workshops"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workshop_id", "student_pk", name=op.f("pk_workshop_attendees")),
    )


def downgrade() -> None:
    for table in (
        "workshop_attendees",
        "student_years",
        "interviews",
        "exam_candidates",
        "workshops",
        "steering_meetings",
        "exam_sessions",
    ):
        op.drop_table(table)
