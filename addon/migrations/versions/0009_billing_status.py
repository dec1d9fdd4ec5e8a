"""the billing connection status: named 'billing' (the backend gives its label), not 'splynx'

Revision ID: 0009_billing_status
Revises: 0008_first16_phase_counts
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_billing_status"
down_revision = "0008_first16_phase_counts"
branch_labels = None
depends_on = None


def _rename(old: str, new: str) -> None:
    # A row already under the new name is the newer verdict: the old one goes.
    op.execute(
        sa.text(
            "DELETE FROM ns_connection_status WHERE system = :old "
            "AND EXISTS (SELECT 1 FROM ns_connection_status WHERE system = :new)"
        ).bindparams(old=old, new=new)
    )
    op.execute(
        sa.text("UPDATE ns_connection_status SET system = :new WHERE system = :old").bindparams(old=old, new=new)
    )


def upgrade():
    _rename("splynx", "billing")


def downgrade():
    _rename("billing", "splynx")
