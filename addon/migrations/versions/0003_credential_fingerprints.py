"""credential fingerprints on the connection status

Revision ID: 0003_credential_fingerprints
Revises: 0002_hook_events
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_credential_fingerprints"
down_revision = "0002_hook_events"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("ns_connection_status") as batch:
        batch.add_column(sa.Column("failed_fingerprint", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("working_fingerprint", sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table("ns_connection_status") as batch:
        batch.drop_column("working_fingerprint")
        batch.drop_column("failed_fingerprint")
