"""Splynx webhook events for live sync

Revision ID: 0002_hook_events
Revises: 0001_initial
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_hook_events"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "ns_hook_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("entity", sa.String(length=20), nullable=True),
        sa.Column("billing_id", sa.String(length=64), nullable=True),
        sa.Column("model", sa.String(length=200), nullable=True),
        sa.Column("action", sa.String(length=40), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("processed_at", sa.DateTime(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["ns_sync_run.id"],
            name=op.f("fk_ns_hook_event_run_id_ns_sync_run"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ns_hook_event")),
    )
    with op.batch_alter_table("ns_hook_event", schema=None) as batch_op:
        batch_op.create_index("ix_ns_hook_event_status_entity", ["status", "entity"], unique=False)


def downgrade():
    with op.batch_alter_table("ns_hook_event", schema=None) as batch_op:
        batch_op.drop_index("ix_ns_hook_event_status_entity")
    op.drop_table("ns_hook_event")
