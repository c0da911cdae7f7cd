"""request lifecycle: statuses, answers, external ids, callbacks; erasure receipts; attachments

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 21:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE rights_requests RENAME COLUMN changes TO particulars")
    with op.batch_alter_table("rights_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("external_id", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("contact", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("callback_urls", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("answer", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("answered_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("receipt_id", sa.String(length=32), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_rights_requests_external_id"), ["external_id"], unique=False
        )
    op.execute(
        "UPDATE rights_requests SET external_id = (SELECT external_id FROM subjects "
        "WHERE subjects.id = rights_requests.subject_id)"
    )
    op.execute("UPDATE rights_requests SET status = 'answered' WHERE status = 'closed'")
    # An ended request keeps nothing sealed: what older ones asked is dropped now.
    op.execute(
        "UPDATE rights_requests SET particulars = NULL WHERE status IN ('answered', 'cancelled')"
    )
    op.create_table(
        "erasure_receipts",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("request_id", sa.String(length=32), nullable=True),
        sa.Column("rule", sa.String(length=64), nullable=True),
        sa.Column("policy_version", sa.String(length=32), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erasure_receipts")),
    )
    with op.batch_alter_table("erasure_receipts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_erasure_receipts_request_id"), ["request_id"], unique=False
        )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attachment", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("attachment")
    op.drop_table("erasure_receipts")
    op.execute("UPDATE rights_requests SET status = 'closed' WHERE status = 'answered'")
    with op.batch_alter_table("rights_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rights_requests_external_id"))
        for column in ("receipt_id", "answered_at", "answer", "callback_urls", "contact"):
            batch_op.drop_column(column)
        batch_op.drop_column("external_id")
    op.execute("ALTER TABLE rights_requests RENAME COLUMN particulars TO changes")
