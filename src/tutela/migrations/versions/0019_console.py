"""console: principals' passwords (argon2) and TOTP secrets (sealed), and console sessions
known by the hash of their cookie

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04 22:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_credentials",
        sa.Column("principal_id", sa.Integer(), nullable=False),
        sa.Column("password_hash", sa.String(length=128), nullable=False),
        sa.Column("totp_secret", sa.LargeBinary(), nullable=True),
        sa.Column("set_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["principal_id"],
            ["principals.id"],
            name=op.f("fk_console_credentials_principal_id_principals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("principal_id", name=op.f("pk_console_credentials")),
    )
    op.create_table(
        "console_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("principal_id", sa.Integer(), nullable=False),
        sa.Column("csrf", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["principal_id"],
            ["principals.id"],
            name=op.f("fk_console_sessions_principal_id_principals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_console_sessions")),
    )
    op.create_index(op.f("ix_console_sessions_principal_id"), "console_sessions", ["principal_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_console_sessions_principal_id"), table_name="console_sessions")
    op.drop_table("console_sessions")
    op.drop_table("console_credentials")
