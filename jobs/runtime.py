"""Where a job finds its app, its Redis and its tunables.

A worker process is started by ``flask netsuite worker`` (the app is already
built) or by ``python -m jobs worker``; either way a job function only gets a
run id and must find the Flask app itself: the current one if an app context
is pushed, else the one built by ``NETSUITE_ADDON_APP_FACTORY`` ("module:callable",
default ``wsgi:create_app``), built once per process.
"""

from __future__ import annotations

import importlib
import os
import threading

from flask import Flask, current_app, has_app_context

PREFIX = "NETSUITE_ADDON_"
DEFAULT_FACTORY = "wsgi:create_app"

# Tunables, each overridable by app config or environment under the prefix.
DEFAULTS = {
    # A run's lock outlives a SIGKILLed worker by at most this long.
    "LOCK_TTL": 180.0,
    # A 'running' run whose lock is gone and whose heartbeat is older than this is dead.
    "SWEEP_AFTER": 300.0,
    # How often the scheduler enqueues the sweeper.
    "SWEEP_INTERVAL": 60,
    # RQ's wall-clock limit for one operation (a first full sync of a large ISP is long).
    "JOB_TIMEOUT": 6 * 3600,
}

# Lists of seconds, each overridable like the tunables (a list in app config, or
# comma-separated in config or environment).
DEFAULT_SCHEDULES = {
    # RQ's waits before retrying a run stopped by a connection failure: three retries.
    "RETRY_INTERVALS": (30, 120, 300),
    # Waits before trying again to write why a run failed while the database was away.
    "FAIL_WRITE_BACKOFF": (1, 2, 4),
}

_app: Flask | None = None
_app_lock = threading.Lock()


def app() -> Flask:
    """The Flask app for a job: the current one, else the factory's (built once)."""
    global _app
    if has_app_context():
        return current_app._get_current_object()  # type: ignore[attr-defined]
    with _app_lock:
        if _app is None:
            module, _, name = os.environ.get(PREFIX + "APP_FACTORY", DEFAULT_FACTORY).partition(":")
            _app = getattr(importlib.import_module(module), name)()
        return _app


def tunable(name: str) -> float:
    """A number from app config, else the environment, else ``DEFAULTS``."""
    key = PREFIX + name
    if has_app_context() and current_app.config.get(key) is not None:
        return float(current_app.config[key])
    return float(os.environ.get(key) or DEFAULTS[name])


def schedule(name: str) -> list[float]:
    """A list of seconds from app config, else the environment, else ``DEFAULT_SCHEDULES``."""
    key = PREFIX + name
    value = current_app.config.get(key) if has_app_context() else None
    if value is None:
        value = os.environ.get(key)
    if value is None:
        return [float(each) for each in DEFAULT_SCHEDULES[name]]
    if isinstance(value, str):
        value = [part for part in value.replace(" ", "").split(",") if part]
    return [float(each) for each in value]


def redis_url() -> str | None:
    """The add-on's Redis, or None for the embedded (in-process) mode."""
    return current_app.config.get(PREFIX + "REDIS_URL")


def queue_name() -> str:
    return current_app.config.get(PREFIX + "QUEUE") or "netsuite"


_connections: dict[str, object] = {}


def redis_connection():
    """One Redis client per URL per process (redis-py clients are thread-safe pools)."""
    import redis

    url = redis_url()
    if url is None:
        raise RuntimeError("no Redis configured (NETSUITE_ADDON_REDIS_URL / REDIS_URL)")
    if url not in _connections:
        _connections[url] = redis.Redis.from_url(url)
    return _connections[url]


def queue():
    from rq import Queue

    return Queue(queue_name(), connection=redis_connection())


def remember_app(flask_app: Flask) -> None:
    """Jobs of this process use ``flask_app`` (a worker started by the flask CLI)."""
    global _app
    _app = flask_app
