"""deferred scheduled runs: one waiting run per operation

Revision ID: 0007_deferred_runs
Revises: 0006_log_size_and_held_amounts
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_deferred_runs"
down_revision = "0006_log_size_and_held_amounts"
branch_labels = None
depends_on = None

DEFERRED = sa.text("status = 'deferred'")


def upgrade():
    op.create_index(
        "uq_ns_sync_run_deferred_operation",
        "ns_sync_run",
        ["operation"],
        unique=True,
        sqlite_where=DEFERRED,
        postgresql_where=DEFERRED,
    )


def downgrade():
    op.drop_index("uq_ns_sync_run_deferred_operation", table_name="ns_sync_run")
