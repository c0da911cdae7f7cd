"""breach steps: the assessment, the measures and consequences (sealed), each notification
to the authority (initial, then follow-ups), and the people told with their message; outbox
messages tagged with what they are for and whom, so that their delivery is audited

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04 22:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("breaches", sa.Column("assessment", sa.JSON(), nullable=True))
    op.add_column("breaches", sa.Column("assessed_at", sa.DateTime(), nullable=True))
    op.add_column("breaches", sa.Column("measures", sa.LargeBinary(), nullable=True))
    op.add_column("breaches", sa.Column("consequences", sa.LargeBinary(), nullable=True))
    op.add_column("breaches", sa.Column("notified_at", sa.DateTime(), nullable=True))
    op.add_column("breaches", sa.Column("told_at", sa.DateTime(), nullable=True))
    op.add_column("breaches", sa.Column("told_how", sa.String(length=16), nullable=True))
    op.add_column("breach_people", sa.Column("readable", sa.JSON(), nullable=True))
    op.add_column("breach_people", sa.Column("message_id", sa.Integer(), nullable=True))
    op.add_column("breach_people", sa.Column("told_at", sa.DateTime(), nullable=True))
    op.add_column("outbox", sa.Column("tag", sa.String(length=64), nullable=True))
    op.add_column("outbox", sa.Column("subject_id", sa.String(length=32), nullable=True))
    op.create_table(
        "breach_notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("breach_id", sa.String(length=16), nullable=False),
        sa.Column("phase", sa.Integer(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(), nullable=False),
        sa.Column("submitted_by", sa.String(length=128), nullable=False),
        sa.Column("reference", sa.String(length=128), nullable=True),
        sa.Column("delay_reason", sa.LargeBinary(), nullable=True),
        sa.Column("draft", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["breach_id"],
            ["breaches.id"],
            name=op.f("fk_breach_notifications_breach_id_breaches"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_breach_notifications")),
        sa.UniqueConstraint("breach_id", "phase", name=op.f("uq_breach_notifications_breach_id")),
    )


def downgrade() -> None:
    op.drop_table("breach_notifications")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("subject_id")
        batch.drop_column("tag")
    with op.batch_alter_table("breach_people") as batch:
        for column in ("told_at", "message_id", "readable"):
            batch.drop_column(column)
    with op.batch_alter_table("breaches") as batch:
        for column in (
            "told_how",
            "told_at",
            "notified_at",
            "consequences",
            "measures",
            "assessed_at",
        ):
            batch.drop_column(column)
        batch.drop_column("assessment")
