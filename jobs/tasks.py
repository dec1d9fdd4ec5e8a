"""The job functions: thin wrappers that run one engine operation for one run row.

They take ids, not objects, push an app context, report progress to
``job.meta`` and always leave the run row finished, whatever happens.
``run_job`` is what a worker runs (step 3 of the run path in ``addon/sync/operations.py``):
``_run_or_await_retry`` applies the retry policy for lost connections around
``_claim_and_run``, which claims the row, takes the lock and calls the engine.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from datetime import datetime

from addon.runs import progress_of
from jobs import failures, live, runtime
from jobs.locks import LockHeld, RunLock

log = logging.getLogger(__name__)


def connection_errors() -> tuple[type[BaseException], ...]:
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


def run_job(run_id: int, progress: Callable | None = None, hand_on: bool = True) -> str:
    """Run the operation of run ``run_id`` (status 'queued') to the end; returns its status.

    ``progress`` (synchronous callers only, e.g. the CLI's progress bar) is
    called with the ledger as the run advances. ``hand_on``: at the end, start the
    scheduled runs that were deferred while the lane was busy (``jobs.deferred``).
    """
    from jobs import deferred

    with runtime.app().app_context():
        try:
            return _run_or_await_retry(run_id, progress)
        finally:
            deferred.after_run(hand_on)


# job.meta key: the run this job is retrying after a connection failure; lets the retry
# start even if the database was too far gone to put the row back to 'queued'.
RETRYING = "retrying_run"


def _run_or_await_retry(run_id: int, progress: Callable | None) -> str:
    job = _current_job()
    attempt = _count_attempt(job)
    seen: dict = {}
    try:
        return _claim_and_run(run_id, progress, job, seen)
    except connection_errors() as exc:
        failures.rollback_quietly()
        reason = failures.describe(exc)
        log.warning("run %s stopped by a lost connection: %s", run_id, reason)
        if job is not None and job.retries_left:
            _await_retry(job, run_id, f"{reason}; retrying ({job.retries_left} attempts left)")
        else:
            if attempt > 1:
                reason += f" (gave up after {attempt} attempts)"
            _save_meta(job, failure=reason)
            failures.close_failed(run_id, reason, seen.get("created_at"))
        if job is None:
            return "failed"
        raise  # RQ's failure handling and retry policy take it from here


def _claim_and_run(run_id: int, progress: Callable | None, job, seen: dict) -> str:
    from addon.extension import session
    from addon.models import SyncRun
    from addon.runs import claim_process
    from addon.sync.operations import conflicting, run_operation

    run = session().get(SyncRun, run_id)
    if run is None:
        log.warning("run %s does not exist; nothing to do", run_id)
        return "missing"
    seen["created_at"] = run.created_at
    retrying = job is not None and job.meta.get(RETRYING) == run_id and run.status == "running"
    if run.status != "queued" and not retrying:
        # Delivered twice (a requeued job after a worker died) or swept meanwhile:
        # running it again could duplicate work, so don't.
        log.warning("run %s is %s, not queued; not running it again", run_id, run.status)
        return run.status
    if run.done:  # an RQ retry of a run that stopped on a connection failure starts over
        run.done, run.total, run.counts, run.phase = 0, None, None, None
        run.phase_done = run.phase_total = None
    if job is not None:
        run.job_id = job.id
    claim_process(run)
    session().commit()

    lock: contextlib.AbstractContextManager = contextlib.nullcontext()
    if runtime.redis_url():
        ttl = runtime.tunable("LOCK_TTL")
        lock = RunLock(
            runtime.redis_connection(), run.operation, run.id, conflicting(run.operation), ttl, _run_alive
        )
    try:
        with lock:
            run = run_operation(
                run.operation, run=run, params=run.params or {}, progress=_job_meta_reporter(job, progress)
            )
        live.after_run(run.operation, run.status)
        return run.status
    except LockHeld as exc:
        failures.close_failed(
            run_id,
            f"Could not start: run {exc.holder_run_id} of a conflicting operation still holds the lock.",
        )
        return "failed"
    except connection_errors():
        raise
    except Exception as exc:
        log.exception("run %s stopped by an unexpected error", run_id)
        failures.close_failed(run_id, f"Stopped by an unexpected error: {failures.public_reason(exc)}")
        return "failed"


def _run_alive(run_id: int) -> bool:
    """Whether a run holding a lock is still queued or running (read fresh from its row)."""
    from addon.extension import session
    from addon.models import SyncRun

    run = session().get(SyncRun, run_id, populate_existing=True)
    return run is not None and run.status in failures.ACTIVE


def _count_attempt(job) -> int:
    if job is None:
        return 1
    attempt = int(job.meta.get("attempts", 0)) + 1
    _save_meta(job, attempts=attempt)
    return attempt


def _save_meta(job, **values) -> None:
    if job is None:
        return
    job.meta.update(values)
    try:
        job.save_meta()
    except Exception:  # bookkeeping only: the run row is the record
        log.warning("could not save meta of job %s", job.id, exc_info=True)


def _await_retry(job, run_id: int, message: str) -> None:
    """Put the row back to 'queued' for RQ's retry; if the database cannot take it, the
    job's meta lets the retry start anyway."""
    from addon.extension import session
    from addon.models import SyncRun

    _save_meta(job, **{RETRYING: run_id})
    try:
        run = session().get(SyncRun, run_id, populate_existing=True)
        if run is not None and run.status in failures.ACTIVE:
            run.status, run.message = "queued", message
            session().commit()
    except connection_errors():
        failures.rollback_quietly()
        log.warning("run %s: could not mark it queued for its retry", run_id, exc_info=True)


def cron_tick(operation: str) -> str:
    """What the scheduler enqueues at each due time: submit ``operation`` if its toggle is on.

    The toggle is read now, at due time, so switching it off needs no restart.
    """
    with runtime.app().app_context():
        from addon import settings
        from jobs.runs import submit

        if not settings.get(f"cron_{operation}"):
            log.info("cron %s: toggle is off", operation)
            return "off"
        if not _first_tick_for_slot(operation):
            log.info("cron %s: another scheduler already fired this due time", operation)
            return "duplicate"
        # A busy lane defers the run rather than refusing it: a schedule never silently vanishes.
        run = submit(operation, trigger="cron", defer=True)
        if run.status == "deferred":
            log.info("cron %s: lane busy, run %s deferred until it frees", operation, run.id)
            return f"deferred run {run.id}"
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
