"""data limits: restrictions and what an erasure kept, by category

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 20:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "data_limits",
        sa.Column("subject_id", sa.String(length=32), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("basis", sa.String(length=16), nullable=False),
        sa.Column("grounds", sa.JSON(), nullable=False),
        sa.Column("until", sa.Date(), nullable=True),
        sa.Column("request_id", sa.String(length=32), nullable=True),
        sa.Column("since", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["subjects.id"],
            name=op.f("fk_data_limits_subject_id_subjects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("subject_id", "category", "basis", name=op.f("pk_data_limits")),
        sqlite_with_rowid=False,
    )
    # A restriction used to cover the whole person: it becomes a limit on every category,
    # and the day it began, the day the person's limits last changed. Renamed in place: on
    # SQLite a dropped column would rebuild the table without its clustering.
    op.execute(
        "INSERT INTO data_limits (subject_id, category, basis, grounds, since) "
        "SELECT id, '*', 'restriction', '[]', restricted_at FROM subjects "
        "WHERE restricted_at IS NOT NULL"
    )
    op.execute("ALTER TABLE subjects RENAME COLUMN restricted_at TO limited_at")


def downgrade() -> None:
    op.execute("ALTER TABLE subjects RENAME COLUMN limited_at TO restricted_at")
    op.execute(
        "UPDATE subjects SET restricted_at = (SELECT min(since) FROM data_limits "
        "WHERE data_limits.subject_id = subjects.id AND basis = 'restriction')"
    )
    op.drop_table("data_limits")
