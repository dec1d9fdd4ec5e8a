"""ns_link.sent_fields: the body last sent to NetSuite, so a record's page can show it and what changed.

Revision ID: 0005_link_sent_fields
Revises: 0004_run_admission
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_link_sent_fields"
down_revision = "0004_run_admission"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("ns_link", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sent_fields", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("ns_link", schema=None) as batch_op:
        batch_op.drop_column("sent_fields")
