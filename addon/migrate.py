"""The add-on's own Alembic environment, with its own version table.

A host with migrations of its own keeps them: ours live in
``addon/migrations`` and record their revision in ``netsuite_alembic_version``,
so neither history can see, or drop, the other's tables.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from addon.extension import engine

VERSION_TABLE = "netsuite_alembic_version"
SCRIPT_LOCATION = str(Path(__file__).with_name("migrations"))


def alembic_config(connection=None) -> Config:
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    config.attributes["connection"] = connection
    return config


def _run(action, *args) -> None:
    with engine().begin() as connection:
        action(alembic_config(connection), *args)


def upgrade(revision: str = "head") -> None:
    _run(command.upgrade, revision)


def downgrade(revision: str) -> None:
    _run(command.downgrade, revision)


def current() -> None:
    _run(command.current)


def upgrade_with_connection(connection, revision: str = "head") -> None:
    """Upgrade on a connection the caller holds, e.g. from a host's own Alembic env.py.

    Alembic keeps its running environment in module globals of
    ``alembic.context``; a nested run removes them on exit, so the caller's
    environment is put back afterwards for its own clean-up.
    """
    from alembic import context as alembic_context

    outer = getattr(alembic_context, "_proxy", None)
    try:
        command.upgrade(alembic_config(connection), revision)
    finally:
        if outer is not None:
            outer._install_proxy()


def revision(message: str, autogenerate: bool = True) -> None:
    """Write a new migration script (developers only)."""
    _run(command.revision, message, autogenerate)
