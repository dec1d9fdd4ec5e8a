"""The standalone host portal: a small Flask app that mounts the NetSuite add-on.

Any Flask-based ISP portal can mount the add-on the same way (README, 'Mounting').
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from flask import Flask

import jobs
from addon import netsuite_addon
from portal import auth, db, migrate


def load_config(app: Flask, overrides: dict | None = None) -> None:
    """Configuration from the environment, with defaults a newcomer can run."""
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    overrides = overrides or {}
    database = os.environ.get("DATABASE_URL") or f"sqlite:///{instance / 'netsuite.sqlite'}"
    app.config.from_mapping(
        SQLALCHEMY_DATABASE_URI=database,
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True},
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=os.environ.get("SESSION_COOKIE_SECURE", "1") == "1",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SECURE=os.environ.get("SESSION_COOKIE_SECURE", "1") == "1",
    )
    app.config.update(overrides)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = os.environ.get("SECRET_KEY") or _generated_secret_key(instance)
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite:///") and not uri.startswith("sqlite:///:memory:"):
        # The database holds the encrypted secrets and every customer: readable by its owner only.
        private_file(Path(uri.removeprefix("sqlite:///").split("?", 1)[0]))


def private_file(path: Path) -> Path:
    """Create ``path`` empty and readable by its owner only (0600), unless it exists. Created
    with that mode, never chmod-ed after: there is no moment another user could open it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        pass
    return path


def key_folder() -> Path:
    """Where generated keys live: ``NETSUITE_SYNC_KEY_DIR``, else the user's config folder. Never
    the instance folder: a copy of the database alone then does not carry the key that opens it."""
    configured = os.environ.get("NETSUITE_SYNC_KEY_DIR")
    if configured:
        return Path(configured)
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "netsuite-sync"


def _generated_secret_key(instance: Path) -> str:
    # No SECRET_KEY in the environment: one generated key per instance folder, kept apart from
    # it, so stored secrets stay readable across restarts of a demo.
    folder = key_folder()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    tag = hashlib.sha256(str(instance.resolve()).encode()).hexdigest()[:16]
    key_file = private_file(folder / f"secret_key-{tag}")
    if not key_file.read_text().strip():
        key_file.write_text(os.urandom(32).hex())
    return key_file.read_text().strip()


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_path=os.environ.get("INSTANCE_PATH") or None)
    load_config(app, test_config)

    db.init_app(app)
    migrate.init_app(app, db)
    auth.init_app(app)
    netsuite_addon.init_app(app, db=db, authorize=auth.require_admin)
    jobs.init_app(app)  # runs go to RQ with Redis, else to an in-process queue
    return app
