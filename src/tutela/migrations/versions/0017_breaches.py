"""breaches: the register of personal data breaches and the people each concerns; the
trail indexed by principal and time, for a breach's scope by principal and window

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 19:55:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_audit_events_principal", table_name="audit_events")
    op.create_index("ix_audit_events_principal_at", "audit_events", ["principal", "at"])
    op.create_table(
        "breaches",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("aware_at", sa.DateTime(), nullable=False),
        sa.Column("deadline_at", sa.DateTime(), nullable=False),
        sa.Column("natures", sa.JSON(), nullable=False),
        sa.Column("description", sa.LargeBinary(), nullable=False),
        sa.Column("encrypted", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.Column("opened_by", sa.String(length=128), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("warned_at", sa.DateTime(), nullable=True),
        sa.Column("overdue_told_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_breaches")),
    )
    op.create_index(op.f("ix_breaches_status"), "breaches", ["status"])
    op.create_table(
        "breach_people",
        sa.Column("breach_id", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.String(length=32), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("found_by", sa.String(length=16), nullable=False),
        sa.Column("records", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["breach_id"],
            ["breaches.id"],
            name=op.f("fk_breach_people_breach_id_breaches"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("breach_id", "subject_id", name=op.f("pk_breach_people")),
    )


def downgrade() -> None:
    op.drop_index("ix_audit_events_principal_at", table_name="audit_events")
    op.create_index("ix_audit_events_principal", "audit_events", ["principal"])
    op.drop_table("breach_people")
    op.drop_index(op.f("ix_breaches_status"), table_name="breaches")
    op.drop_table("breaches")
