"""Closing a run as failed when the database may itself be the thing that failed.

The reason is kept before the row is written: in this process, and in Redis
(``netsuite-sync:run-failure:<run id>``, with the run's creation time) when
Redis is configured, so that the sweeper of any process can write it once the
database is back. Writing is retried with bounded backoff; the first writer to
succeed (the retry or the sweeper) closes the row, and only a row that is
still queued or running, so a finished run is never overwritten.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import threading
import time
from datetime import datetime
from pathlib import Path

from jobs import runtime

log = logging.getLogger(__name__)

KEY_PREFIX = "netsuite-sync:run-failure:"
# Long enough for an outage over a weekend; the sweeper normally writes it within minutes.
KEEP_SECONDS = 7 * 86400
ACTIVE = ("queued", "running")

_kept: dict[tuple[str, int], dict] = {}
_kept_lock = threading.Lock()


def _database() -> str:
    from addon.extension import engine

    return engine().url.render_as_string(hide_password=True)


def _redis():
    return runtime.redis_connection() if runtime.redis_url() else None


def _kept_file(run_id: int) -> Path | None:
    """Without Redis, a file in the instance folder keeps the reason past this process (a CLI
    exits while the database is still away; the next submit of any process writes it)."""
    from flask import current_app, has_app_context

    if not has_app_context() or runtime.redis_url():
        return None
    from addon.extension import engine

    # By database name, not address: a CLI may reach the same database through another host.
    database = hashlib.sha256(str(engine().url.database).encode()).hexdigest()[:16]
    return Path(current_app.instance_path) / "run-failures" / f"{database}-{run_id}.json"


def public_reason(exc: BaseException) -> str:
    """One line for a run's message: the database's own first line, never the SQL statement
    or its parameters (they hold customer data and say nothing to an operator)."""
    import sqlalchemy.exc

    if isinstance(exc, sqlalchemy.exc.DBAPIError):
        first = (str(exc.orig).strip().splitlines() or [""])[0][:200]
        return f"Database refused it: {type(exc.orig).__name__}" + (f": {first}" if first else "")
    if isinstance(exc, sqlalchemy.exc.StatementError):
        return f"Database refused it: {type(exc).__name__}"
    first = (str(exc).strip().splitlines() or [""])[0][:200]
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def describe(exc: BaseException) -> str:
    """One line saying which service went away: 'Database unavailable: OperationalError: ...'."""
    import redis.exceptions
    import sqlalchemy.exc

    # The class named is the one caught: for the database that is SQLAlchemy's DB-API category
    # (OperationalError, InterfaceError), not the driver's subclass of it, since psycopg raises
    # AdminShutdown, ConnectionTimeout and the like for one and the same outage. The text is
    # the driver's own.
    if isinstance(exc, sqlalchemy.exc.DBAPIError | sqlalchemy.exc.DisconnectionError):
        what, detail = "Database unavailable", getattr(exc, "orig", None) or exc
    elif isinstance(exc, redis.exceptions.RedisError):
        what, detail = "Redis unavailable", exc
    else:
        what, detail = "Connection lost", exc
    first_line = (str(detail).strip().splitlines() or [""])[0]
    return f"{what}: {type(exc).__name__}" + (f": {first_line}" if first_line else "")


def redis_errors() -> tuple[type[BaseException], ...]:
    """What an unreachable Redis raises (a refused or dropped connection, a timeout)."""
    import redis.exceptions

    return (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


def remember(run_id: int, reason: str, created_at: datetime | None = None) -> None:
    """Keep why ``run_id`` failed until its row says so (best effort for the Redis copy)."""
    entry = {"reason": reason, "created_at": created_at.isoformat() if created_at else None}
    with _kept_lock:
        _kept[(_database(), run_id)] = entry
    try:
        path = _kept_file(run_id)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            path.write_text(json.dumps(entry))
    except OSError:
        log.warning("could not keep the failure of run %s on disk", run_id, exc_info=True)
    try:
        connection = _redis()
        if connection is not None:
            connection.set(KEY_PREFIX + str(run_id), json.dumps(entry), ex=KEEP_SECONDS)
    except Exception:  # Redis may be the service that went away; this process still knows
        log.warning("could not keep the failure of run %s in Redis", run_id, exc_info=True)


def recall(run) -> str | None:
    """The kept reason of this run row, if any (the creation time must match: ids are reused
    when a database is recreated)."""
    with _kept_lock:
        entry = _kept.get((_database(), run.id))
    path = _kept_file(run.id) if entry is None else None
    if path is not None and path.exists():
        with contextlib.suppress(OSError, ValueError):
            entry = json.loads(path.read_text())
    if entry is None:
        try:
            connection = _redis()
            raw = connection.get(KEY_PREFIX + str(run.id)) if connection is not None else None
        except Exception:
            log.warning("could not read the kept failure of run %s", run.id, exc_info=True)
            raw = None
        entry = json.loads(raw) if raw else None
    if entry is None:
        return None
    if entry.get("created_at") and run.created_at and entry["created_at"] != run.created_at.isoformat():
        return None
    return entry["reason"]


def recall_id(run_id: int) -> str | None:
    """The reason this process kept for ``run_id``, without reading its row."""
    with _kept_lock:
        entry = _kept.get((_database(), run_id))
    return entry["reason"] if entry else None


def forget(run_id: int) -> None:
    with _kept_lock:
        _kept.pop((_database(), run_id), None)
    path = _kept_file(run_id)
    if path is not None:
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)
    try:
        connection = _redis()
        if connection is not None:
            connection.delete(KEY_PREFIX + str(run_id))
    except Exception:  # it expires on its own; a stale copy can only re-fail a failed run: a no-op
        log.warning("could not drop the kept failure of run %s", run_id, exc_info=True)


def write(run_id: int, reason: str) -> None:
    """Mark the run failed with ``reason`` if it is still queued or running; then forget it.
    Raises whatever the database raises."""
    from addon.extension import session
    from addon.models import SyncRun, utcnow

    session().rollback()
    run = session().get(SyncRun, run_id, populate_existing=True)
    if run is not None and run.status in ACTIVE:
        run.status, run.message, run.finished_at = "failed", reason, utcnow()
        session().commit()
    forget(run_id)


def close_failed(run_id: int, reason: str, created_at: datetime | None = None) -> bool:
    """Mark the run failed, retrying with bounded backoff while the database is away.

    Returns False when every attempt failed: the reason stays kept for the sweeper.
    """
    from jobs.tasks import connection_errors  # tasks imports this module

    remember(run_id, reason, created_at)
    waits = [0.0, *runtime.schedule("FAIL_WRITE_BACKOFF")]
    for attempt, wait in enumerate(waits, start=1):
        time.sleep(wait)
        try:
            write(run_id, reason)
            return True
        except connection_errors() as exc:
            rollback_quietly()
            log.warning(
                "run %s: could not write its failure (attempt %s of %s): %s", run_id, attempt, len(waits), exc
            )
    log.error("run %s failed (%s); the database is still away, the sweeper will write it", run_id, reason)
    return False


def rollback_quietly() -> None:
    """Roll the session back, ignoring a connection that is already gone."""
    from addon.extension import session

    try:
        session().rollback()
    except Exception:  # the connection is gone; the pool replaces it on next checkout
        log.debug("rollback after a lost connection failed", exc_info=True)
