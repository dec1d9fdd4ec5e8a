"""The sweeper: runs left 'queued' or 'running' by a process that died are marked failed.

A run is alive while its lock is held (Redis mode: the lock's renewing thread
dies with the worker, so the lock lapses within its TTL) or while this very
process runs it (embedded mode). A run that is neither, and whose last
heartbeat is older than ``NETSUITE_ADDON_SWEEP_AFTER`` seconds, is dead and
can be run again. The scheduler runs the sweeper periodically; every worker
runs it when it starts.

A run whose process gave up on it while the database was away left its reason
behind (``jobs.failures``): the sweeper writes that reason, at once, instead of
a guess.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select

from jobs import deferred, failures, runtime

log = logging.getLogger(__name__)

# RQ job states meaning the run is still waiting its turn (or its retry).
_WAITING = {"queued", "scheduled", "deferred", "started"}
# ... and those meaning a row left 'running' by a connection failure will be retried.
_RETRY_PENDING = {"queued", "scheduled", "deferred"}


def sweep(hand_on: bool = True) -> list[int]:
    """Fail the dead runs (app context required); returns their ids. ``hand_on``: then start
    the deferred scheduled runs whose lane is free (the safety net of ``jobs.deferred``)."""
    from addon.extension import session
    from addon.models import SyncRun, utcnow
    from jobs.inprocess import local_run_ids
    from jobs.locks import lock_holder

    cutoff = utcnow() - timedelta(seconds=runtime.tunable("SWEEP_AFTER"))
    connection = runtime.redis_connection() if runtime.redis_url() else None
    ours = local_run_ids()
    swept = []
    # The session may still hold a transaction the outage broke; and populate_existing:
    # it may hold these rows as they were before the run.
    failures.rollback_quietly()
    from jobs.runs import sweep_gone_processes

    # A CLI of this host killed with -9 holds its lane until judged: judge it now, so a run
    # deferred behind it starts at this sweep rather than after SWEEP_AFTER.
    swept.extend(sweep_gone_processes())
    active = (
        session()
        .scalars(
            select(SyncRun)
            .where(SyncRun.status.in_(failures.ACTIVE))
            .execution_options(populate_existing=True)
        )
        .all()
    )
    for run in active:
        kept = failures.recall(run)
        if kept is not None:
            failures.write(run.id, kept)
            log.warning("run %s (%s) marked failed with its kept reason: %s", run.id, run.operation, kept)
            swept.append(run.id)
            continue
        last_sign_of_life = run.heartbeat_at or run.started_at or run.created_at
        if run.id in ours or last_sign_of_life > cutoff:
            continue
        if run.status == "running":
            if connection is not None and lock_holder(connection, run.operation) == run.id:
                continue
            if connection is not None and _job_waiting(connection, run.job_id, _RETRY_PENDING):
                continue
            reason = (
                f"Worker stopped responding (last heartbeat {last_sign_of_life:%Y-%m-%d %H:%M:%S} UTC); "
                "the run was abandoned and can be run again."
            )
        else:
            if connection is not None and _job_waiting(connection, run.job_id, _WAITING):
                continue
            reason = "The job was lost before it started (its worker or queue went away); run it again."
        failures.write(run.id, reason)
        log.warning("run %s (%s) marked failed: %s", run.id, run.operation, reason)
        swept.append(run.id)
    _restart_live()
    apply_retention()
    from addon import alerts

    alerts.new_problems_digest()
    deferred.after_run(hand_on)
    return swept


def _restart_live() -> None:
    """Webhook events a dead run had taken (or whose window's job died) get a live run again."""
    from addon.sync.live import entities_waiting
    from jobs.live import nudge

    try:
        nudge(entities_waiting())
    except Exception:  # the sweep itself is done; the next sweep tries again
        log.warning("could not restart the live runs", exc_info=True)


def apply_retention() -> int:
    """Delete runs (with their log rows) and loose log rows older than the retention setting;
    the last run of each operation stays, so the dashboard still shows it. Returns runs deleted."""
    from sqlalchemy import delete, func

    from addon import settings
    from addon.extension import session
    from addon.models import LogEntry, SyncRun, utcnow

    cutoff = utcnow() - timedelta(days=settings.get("log_retention_days"))
    latest = select(func.max(SyncRun.id)).group_by(SyncRun.operation)
    old = list(
        session().scalars(
            select(SyncRun.id).where(
                SyncRun.status.not_in(failures.ACTIVE),
                func.coalesce(SyncRun.finished_at, SyncRun.created_at) < cutoff,
                SyncRun.id.not_in(latest),
            )
        )
    )
    for start in range(0, len(old), 500):
        chunk = old[start : start + 500]
        session().execute(delete(LogEntry).where(LogEntry.run_id.in_(chunk)))
        session().execute(delete(SyncRun).where(SyncRun.id.in_(chunk)))
    session().execute(delete(LogEntry).where(LogEntry.run_id.is_(None), LogEntry.created_at < cutoff))
    session().commit()
    if old:
        log.info("retention: %s runs older than %s deleted with their log rows", len(old), cutoff.date())
    return len(old)


def _job_waiting(connection, job_id: str | None, states: set[str]) -> bool:
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    if not job_id:
        return False
    try:
        status = Job.fetch(job_id, connection=connection).get_status(refresh=False)
    except NoSuchJobError:
        return False
    return status is not None and str(getattr(status, "value", status)) in states


def sweep_job() -> list[int]:
    """The sweeper as an RQ job (enqueued by the scheduler)."""
    with runtime.app().app_context():
        return sweep()
