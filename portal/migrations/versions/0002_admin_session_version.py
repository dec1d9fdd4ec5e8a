"""portal admin session version: logging out or a new password ends every session

Revision ID: 0002_admin_session_version
Revises: 0001_portal_admin
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_admin_session_version"
down_revision = "0001_portal_admin"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("portal_admin") as batch:
        batch.add_column(sa.Column("session_version", sa.Integer(), nullable=False, server_default="1"))


def downgrade():
    with op.batch_alter_table("portal_admin") as batch:
        batch.drop_column("session_version")
