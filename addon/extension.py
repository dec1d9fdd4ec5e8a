"""The add-on's single entry point, in the manner of a Flask extension.

``NetSuiteAddon().init_app(app, db=db, authorize=hook)`` registers the
blueprint (default prefix ``/netsuite``), the models' session, the CLI group
``flask netsuite`` and the add-on's config defaults. It changes nothing else
of the host: every config key it reads starts with ``NETSUITE_ADDON_``.
Runs need a dispatcher besides (``use_dispatcher``; ``jobs.init_app`` gives one).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import Flask, current_app

if TYPE_CHECKING:
    from flask_sqlalchemy import SQLAlchemy

    from addon.runs import Dispatcher
from werkzeug.wrappers import Response

EXTENSION_KEY = "netsuite"
CONFIG_PREFIX = "NETSUITE_ADDON_"

AuthorizeHook = Callable[[], Response | None]


@dataclass
class AddonState:
    db: SQLAlchemy
    authorize: AuthorizeHook | None
    dispatcher: Dispatcher | None = None


def _refuse_without_host_auth() -> Response:
    # A host that forgot to wire authentication must not expose credentials.
    return Response(
        "The NetSuite add-on is mounted without an authentication hook; refusing to serve.",
        status=403,
        mimetype="text/plain",
    )


class NetSuiteAddon:
    def __init__(self, app: Flask | None = None, **kwargs) -> None:
        if app is not None:
            self.init_app(app, **kwargs)

    def init_app(self, app: Flask, db, authorize: AuthorizeHook | None = None) -> None:
        """Mount the add-on on ``app``.

        ``db`` is the host's Flask-SQLAlchemy instance (its session serves the
        add-on's own tables). ``authorize`` is called before every add-on
        request; it returns ``None`` to allow, or a response (a redirect to
        the host's login page, a 403) to refuse.
        """
        app.config.setdefault(CONFIG_PREFIX + "URL_PREFIX", "/netsuite")
        app.config.setdefault(CONFIG_PREFIX + "REDIS_URL", os.environ.get("REDIS_URL") or None)
        app.config.setdefault(CONFIG_PREFIX + "QUEUE", "netsuite")

        app.extensions[EXTENSION_KEY] = AddonState(db=db, authorize=authorize)

        from addon.cli import netsuite_cli
        from addon.views import blueprint
        from addon.views.hooks import hooks

        app.register_blueprint(blueprint, url_prefix=app.config[CONFIG_PREFIX + "URL_PREFIX"])
        # The webhook receiver sits outside the admin blueprint's login and CSRF (addon/views/hooks.py).
        app.register_blueprint(hooks, url_prefix=app.config[CONFIG_PREFIX + "URL_PREFIX"] + "/hooks")
        host_csrf = app.extensions.get("csrf")  # a host-wide Flask-WTF CSRFProtect set up before us
        if host_csrf is not None:
            host_csrf.exempt(hooks)
        app.cli.add_command(netsuite_cli)


def use_dispatcher(app: Flask, dispatcher: Dispatcher) -> None:
    """Hand the add-on's runs to ``dispatcher`` (after ``init_app``)."""
    app.extensions[EXTENSION_KEY].dispatcher = dispatcher


def state() -> AddonState:
    return current_app.extensions[EXTENSION_KEY]


def session():
    """The host's SQLAlchemy session, which the add-on's models share."""
    return state().db.session


def engine():
    return state().db.engine


def authorize_request() -> Response | None:
    hook = state().authorize
    if hook is None:
        return _refuse_without_host_auth()
    return hook()


def config(name: str):
    return current_app.config[CONFIG_PREFIX + name]


def cron_expression(operation: str) -> str:
    """The schedule of ``operation`` as configured, unchecked ('' when disabled):
    ``NETSUITE_ADDON_CRON_<OPERATION>`` from app config, else the environment, else the
    operation's registered default (standard cron, UTC)."""
    from addon.sync.operations import OPERATIONS

    key = f"{CONFIG_PREFIX}CRON_{operation.upper()}"
    expression = current_app.config.get(key)
    if expression is None:
        expression = os.environ.get(key)
    if expression is None:
        op = OPERATIONS.get(operation)
        expression = op.cron if op is not None else None
    return (expression or "").strip()
