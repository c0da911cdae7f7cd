"""choice proofs: a browser's proof (an e-mailed code, then a short grant, both hashed) that
lets a person manage their own consents and objections on the portal

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 19:05:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "choice_proofs",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("subject_id", sa.String(length=32), nullable=True),
        sa.Column("code_digest", sa.String(length=64), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("proved_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["subjects.id"],
            name=op.f("fk_choice_proofs_subject_id_subjects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_choice_proofs")),
    )
    op.create_index(
        op.f("ix_choice_proofs_subject_id"), "choice_proofs", ["subject_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_choice_proofs_subject_id"), table_name="choice_proofs")
    op.drop_table("choice_proofs")
