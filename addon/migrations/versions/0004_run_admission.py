"""run admission: a lane per run and one active run per lane; the pid and host running it

Revision ID: 0004_run_admission
Revises: 0003_credential_fingerprints
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_run_admission"
down_revision = "0003_credential_fingerprints"
branch_labels = None
depends_on = None

ACTIVE = sa.text("status IN ('queued', 'running')")


def upgrade():
    with op.batch_alter_table("ns_sync_run") as batch:
        batch.add_column(sa.Column("lane", sa.String(40), nullable=True))
        batch.add_column(sa.Column("pid", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("host", sa.String(255), nullable=True))
    op.create_index(
        "uq_ns_sync_run_active_lane",
        "ns_sync_run",
        ["lane"],
        unique=True,
        sqlite_where=ACTIVE,
        postgresql_where=ACTIVE,
    )


def downgrade():
    op.drop_index("uq_ns_sync_run_active_lane", table_name="ns_sync_run")
    with op.batch_alter_table("ns_sync_run") as batch:
        batch.drop_column("host")
        batch.drop_column("pid")
        batch.drop_column("lane")
