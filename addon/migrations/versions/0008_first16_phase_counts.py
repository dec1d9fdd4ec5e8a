"""phase counts: each phase of a run shows its own done and total

Revision ID: 0008_first16_phase_counts
Revises: 0007_deferred_runs
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_first16_phase_counts"
down_revision = "0007_deferred_runs"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("ns_sync_run") as batch:
        batch.add_column(sa.Column("phase_done", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("phase_total", sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table("ns_sync_run") as batch:
        batch.drop_column("phase_total")
        batch.drop_column("phase_done")
