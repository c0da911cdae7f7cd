"""audit trail: purposes and reasons as text of any length

A purpose asked for and the reason of a refusal are recorded whatever their length: on
PostgreSQL a longer one failed the write, and with it the request.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 23:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_events") as batch:
        batch.alter_column("purpose", type_=sa.Text(), existing_type=sa.String(length=64))
        batch.alter_column("reason", type_=sa.Text(), existing_type=sa.String(length=1000))


def downgrade() -> None:
    with op.batch_alter_table("audit_events") as batch:
        batch.alter_column("reason", type_=sa.String(length=1000), existing_type=sa.Text())
        batch.alter_column("purpose", type_=sa.String(length=64), existing_type=sa.Text())
