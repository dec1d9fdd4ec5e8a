"""The standalone portal's Alembic environment (Flask-Migrate).

After the portal's own tables, an upgrade to head also brings the NetSuite
add-on's tables up to date, so `flask db upgrade` is the one command an
operator runs. The add-on keeps its own version table (addon/migrate.py); a
host with another setup runs `flask netsuite db upgrade` instead.
"""

from alembic import context
from flask import current_app

from addon.migrate import upgrade_with_connection

migrate_ext = current_app.extensions["migrate"]
target_metadata = migrate_ext.db.metadata


def include_object(obj, name, type_, reflected, compare_to):
    # The add-on's tables belong to its own migration history.
    return not (type_ == "table" and name.startswith(("ns_", "netsuite_")))


def _upgrading_to_head() -> bool:
    # Alembic hands env.py the resolved target revision: the add-on follows
    # only when the portal itself is being brought to its head.
    target = context.get_revision_argument()
    targets = set(target) if isinstance(target, tuple | list) else {target}
    return bool(targets) and targets <= set(context.script.get_heads())


def run_migrations_online() -> None:
    with migrate_ext.db.engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            include_object=include_object,
            **migrate_ext.configure_args,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()
        if _upgrading_to_head():
            upgrade_with_connection(connection)
            connection.commit()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported; run against a database")
run_migrations_online()
