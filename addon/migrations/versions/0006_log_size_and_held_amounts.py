"""unchanged records counted, not logged (link.last_checked_at); confirmations of held amounts

Revision ID: 0006_log_size_and_held_amounts
Revises: 0005_link_sent_fields
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_log_size_and_held_amounts"
down_revision = "0005_link_sent_fields"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("ns_link") as batch:
        batch.add_column(sa.Column("last_checked_at", sa.DateTime(), nullable=True))
    op.create_table(
        "ns_amount_confirmation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity", sa.String(length=20), nullable=False),
        sa.Column("billing_id", sa.String(length=64), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("confirmed_by", sa.String(length=120), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ns_amount_confirmation")),
        sa.UniqueConstraint("entity", "billing_id", name="uq_ns_amount_confirmation_key"),
    )


def downgrade():
    op.drop_table("ns_amount_confirmation")
    with op.batch_alter_table("ns_link") as batch:
        batch.drop_column("last_checked_at")
