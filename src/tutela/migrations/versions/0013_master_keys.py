"""master keys: the store's record of which master key is active, retiring or retired

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 22:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "master_keys",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("retired_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_master_keys")),
    )
    # The key that sealed the service keys is the store's active key.
    op.execute(
        "INSERT INTO master_keys (id, state, created_at) "
        "SELECT master_key_id, 'active', min(created_at) FROM wrapped_keys "
        "GROUP BY master_key_id"
    )


def downgrade() -> None:
    op.drop_table("master_keys")
