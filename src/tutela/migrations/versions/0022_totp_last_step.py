"""totp last step: the time step of the last TOTP code accepted, so that none is used twice

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 19:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("console_credentials") as batch:
        batch.add_column(sa.Column("totp_last_step", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("console_credentials") as batch:
        batch.drop_column("totp_last_step")
