"""policy versions: each activated policy with its text, hash, who activated it and when;
the notices of new purposes to the people they concern (Art. 13(3))

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04 18:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "policy_versions",
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=32), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("activated_at", sa.DateTime(), nullable=False),
        sa.Column("activated_by", sa.String(length=128), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_policy_versions")),
        sa.UniqueConstraint("version", name=op.f("uq_policy_versions_version")),
    )

    op.create_table(
        "policy_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=32), nullable=False),
        sa.Column("purpose", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("after_subject", sa.String(length=32), nullable=True),
        sa.Column("queued", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("done_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policy_notices")),
    )
    op.create_index(op.f("ix_policy_notices_status"), "policy_notices", ["status"])


def downgrade() -> None:
    op.drop_index(op.f("ix_policy_notices_status"), table_name="policy_notices")
    op.drop_table("policy_notices")
    op.drop_table("policy_versions")
