"""Alembic environment for the add-on's tables only (see addon/migrate.py)."""

from alembic import context

from addon.migrate import VERSION_TABLE
from addon.models import Base

config = context.config
connection = config.attributes["connection"]


def include_object(obj, name, type_, reflected, compare_to):
    # Autogenerate must never propose dropping the host's tables.
    if type_ == "table":
        return name.startswith("ns_")
    return True


context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    version_table=VERSION_TABLE,
    include_object=include_object,
    render_as_batch=True,  # SQLite needs batch mode to alter tables
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
