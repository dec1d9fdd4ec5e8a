"""portal admin accounts

Revision ID: 0001_portal_admin
Revises:
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_portal_admin"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "portal_admin",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("username", sa.String(80), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(256), nullable=False),
    )


def downgrade():
    op.drop_table("portal_admin")
