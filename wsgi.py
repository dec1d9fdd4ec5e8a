"""The standalone host portal: a small Flask app that mounts the NetSuite add-on.

Any Flask-based ISP portal can mount the add-on the same way (README, 'Mounting').
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

from addon import netsuite_addon
from portal import auth, db, migrate


def load_config(app: Flask) -> None:
    """Configuration from the environment, with defaults a newcomer can run."""
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(
        SECRET_KEY=os.environ.get("SECRET_KEY") or _instance_secret_key(instance),
        SQLALCHEMY_DATABASE_URI=os.environ.get("DATABASE_URL") or f"sqlite:///{instance / 'netsuite.sqlite'}",
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True},
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=os.environ.get("SESSION_COOKIE_SECURE", "1") == "1",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SECURE=os.environ.get("SESSION_COOKIE_SECURE", "1") == "1",
    )


def _instance_secret_key(instance: Path) -> str:
    # No SECRET_KEY in the environment: keep one generated key in the instance
    # folder so stored secrets stay readable across restarts of a demo.
    key_file = instance / "secret_key"
    if not key_file.exists():
        key_file.write_text(os.urandom(32).hex())
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_path=os.environ.get("INSTANCE_PATH") or None)
    load_config(app)
    if test_config:
        app.config.update(test_config)

    db.init_app(app)
    migrate.init_app(app, db)
    auth.init_app(app)
    netsuite_addon.init_app(app, db=db, authorize=auth.require_admin)
    return app
