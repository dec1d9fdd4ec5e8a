"""The job functions: thin wrappers that run one engine operation for one run row.

They take ids, not objects, push an app context, report progress to
``job.meta`` and always leave the run row finished, whatever happens.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from datetime import datetime

from jobs import runtime
from jobs.locks import LockHeld, RunLock

log = logging.getLogger(__name__)


def progress_of(run) -> dict:
    """What a page or ``job.meta`` shows about a run's progress."""
    finished = run.status in FINISHED
    total = run.total
    if total:
        percent = min(100, int(100 * (run.done or 0) / total))
    else:
        percent = 100 if finished else None
    return {
        "run_id": run.id,
        "operation": run.operation,
        "status": run.status,
        "phase": run.phase,
        "done": run.done or 0,
        "total": total,
        "percent": percent,
        "counts": dict(run.counts or {}),
        "message": run.message,
        "finished": finished,
    }


FINISHED = frozenset({"succeeded", "partial", "failed", "cancelled"})


def _connection_errors() -> tuple[type[BaseException], ...]:
    """Failures of a connection rather than of the work: only these are retried by RQ."""
    import redis.exceptions
    import requests
    import sqlalchemy.exc

    from addon.netsuite import NetSuiteConnectionError
    from addon.netsuite.errors import GovernorTimeout
    from addon.splynx import SplynxConnectionError

    return (
        ConnectionError,
        TimeoutError,
        redis.exceptions.ConnectionError,
        redis.exceptions.TimeoutError,
        requests.ConnectionError,
        requests.Timeout,
        sqlalchemy.exc.OperationalError,
        sqlalchemy.exc.DisconnectionError,
        sqlalchemy.exc.InterfaceError,
        NetSuiteConnectionError,
        SplynxConnectionError,
        GovernorTimeout,
    )


def _current_job():
    from rq import get_current_job

    return get_current_job()


def _job_meta_reporter(job, also: Callable | None) -> Callable:
    def report(ledger) -> None:
        if job is not None:
            try:
                job.meta.update(progress_of(ledger.run))
                job.save_meta()
            except Exception:  # progress is a courtesy: a Redis blip must not stop the run
                log.warning("could not save progress of run %s", ledger.run.id, exc_info=True)
        if also is not None:
            also(ledger)

    return report


def execute(run_id: int, progress: Callable | None = None) -> str:
    """Run the operation of run ``run_id`` (status 'queued') to the end; returns its status.

    ``progress`` (synchronous callers only, e.g. the CLI's progress bar) is
    called with the ledger as the run advances.
    """
    with runtime.app().app_context():
        return _execute(run_id, progress)


def _execute(run_id: int, progress: Callable | None) -> str:
    from addon.extension import session
    from addon.models import SyncRun
    from addon.sync.ledger import fail_run
    from addon.sync.operations import conflicting, run_operation

    run = session().get(SyncRun, run_id)
    if run is None:
        log.warning("run %s does not exist; nothing to do", run_id)
        return "missing"
    if run.status != "queued":
        # Delivered twice (a requeued job after a worker died) or swept meanwhile:
        # running it again could duplicate work, so don't.
        log.warning("run %s is %s, not queued; not running it again", run_id, run.status)
        return run.status
    job = _current_job()
    if run.done:  # an RQ retry of a run that stopped on a connection failure starts over
        run.done, run.total, run.counts, run.phase = 0, None, None, None
    if job is not None:
        run.job_id = job.id
    session().commit()

    lock = contextlib.nullcontext()
    if runtime.redis_url():
        ttl = runtime.tunable("LOCK_TTL")
        lock = RunLock(runtime.redis_connection(), run.operation, run.id, conflicting(run.operation), ttl)
    try:
        with lock:
            run = run_operation(
                run.operation, run=run, params=run.params or {}, progress=_job_meta_reporter(job, progress)
            )
        return run.status
    except LockHeld as exc:
        fail_run(
            run_id,
            f"Could not start: run {exc.holder_run_id} of a conflicting operation still holds the lock.",
        )
        return "failed"
    except _connection_errors() as exc:
        session().rollback()
        reason = f"Connection lost: {type(exc).__name__}: {exc}"
        if job is not None and job.retries_left:
            _requeue_for_retry(run_id, f"{reason}; retrying ({job.retries_left} attempts left)")
        else:
            fail_run(run_id, reason)
        if job is None:
            return "failed"
        raise  # RQ's failure handling and retry policy take it from here
    except Exception as exc:
        log.exception("run %s stopped by an unexpected error", run_id)
        fail_run(run_id, f"Stopped by an unexpected error: {type(exc).__name__}: {exc}")
        return "failed"


def _requeue_for_retry(run_id: int, message: str) -> None:
    from addon.extension import session
    from addon.models import SyncRun

    run = session().get(SyncRun, run_id)
    if run is not None:
        run.status, run.message = "queued", message
        session().commit()


def cron_tick(operation: str) -> str:
    """What the scheduler enqueues at each due time: submit ``operation`` if its toggle is on.

    The toggle is read now, at due time, so switching it off needs no restart.
    """
    with runtime.app().app_context():
        from addon import settings
        from jobs.runs import AlreadyRunning, submit

        if not settings.get(f"cron_{operation}"):
            log.info("cron %s: toggle is off", operation)
            return "off"
        if not _first_tick_for_slot(operation):
            log.info("cron %s: another scheduler already fired this due time", operation)
            return "duplicate"
        try:
            run = submit(operation, trigger="cron")
        except AlreadyRunning as exc:
            log.info("cron %s: %s", operation, exc)
            return "already running"
        return f"submitted run {run.id}"


def _first_tick_for_slot(operation: str) -> bool:
    """True once per due time, even if two schedulers were started by mistake."""
    from croniter import croniter

    from jobs.schedule import cron_expression

    job = _current_job()
    expression = cron_expression(operation)
    if job is None or job.enqueued_at is None or not expression or not runtime.redis_url():
        return True
    slot = croniter(expression, job.enqueued_at).get_prev(datetime)
    key = f"netsuite-sync:cron:{operation}:{slot:%Y%m%dT%H%M%S}"
    return bool(runtime.redis_connection().set(key, job.id, nx=True, ex=86400))
