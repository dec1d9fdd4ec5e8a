"""The dispatcher jobs gives the add-on: admit a run, then hand it to RQ or the in-process queue.

``submit`` fails this host's runs whose process is gone, lets a deferred schedule of the lane go
first, admits the run (``addon.runs.admit``: the add-on's lane rule and refusal) and either
runs it here and now (``wait``, the CLI) or hands it off (``hand_off``): to RQ with Redis
configured, else to this app's in-process queue (one thread, runs in submission order).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable

from sqlalchemy import select

from addon.runs import ACTIVE, AlreadyRunning, RunLost, admit, progress_of, this_host
from addon.sync.operations import label, lane_of
from addon.sync.operations import operation as lookup
from jobs import failures, runtime
from jobs.tasks import run_job


def job_id_for(run_id: int) -> str:
    """RQ job id of a run: deterministic, so a run can never be enqueued twice."""
    return f"netsuite-run-{run_id}"


def process_alive(pid: int | None) -> bool:
    """Whether process ``pid`` of this host still exists (a zombie counts as gone)."""
    if not pid:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process: alive
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return True


def sweep_gone_processes() -> list[int]:
    """Fail the active runs of this host whose process is gone (a CLI killed with -9, a web
    process restarted with runs in its in-process queue); returns their ids.

    With Redis, runs handed to RQ are RQ's and the worker sweeper's to judge (a retry may be
    pending after the process that ran it exited): only those the CLI runs itself are judged."""
    from addon.extension import session
    from addon.models import SyncRun

    query = select(SyncRun).where(
        SyncRun.status.in_(ACTIVE), SyncRun.host == this_host(), SyncRun.pid.is_not(None)
    )
    if runtime.redis_url():
        query = query.where(SyncRun.trigger == "cli")
    candidates = session().scalars(query.execution_options(populate_existing=True)).all()
    swept = []
    for run in candidates:
        if process_alive(run.pid):
            continue
        # A process that lost the database kept its reason: that, rather than a guess.
        reason = failures.recall(run) or (
            f"The process running it (pid {run.pid} on {run.host}) is gone; "
            "the run was abandoned and can be run again."
        )
        failures.write(run.id, reason)
        swept.append(run.id)
    return swept


def submit(
    operation: str,
    *,
    trigger: str = "manual",
    dry_run: bool = False,
    params: dict | None = None,
    wait: bool = False,
    progress: Callable | None = None,
    defer: bool = False,
):
    """Admit a run of ``operation`` and start it; returns the ``SyncRun`` row (see
    ``addon.runs.Dispatcher.submit``).

    Raises ``AlreadyRunning`` when a run of the same lane is queued or running; runs of this
    host whose process is gone are failed first, so a killed CLI never blocks the next one.
    ``defer=True`` (the schedules) instead returns a ``deferred`` row that starts when the
    lane frees (``jobs.deferred``).
    """
    op = lookup(operation)
    sweep_gone_processes()
    if not wait or runtime.redis_url():
        from jobs import deferred

        # A schedule deferred behind a run that has ended goes first: it was due earlier.
        deferred.start_waiting(lanes=[lane_of(op.name)])
    try:
        run = admit(op, trigger=trigger, dry_run=dry_run and op.dry_run, params=params, job_id=job_id_for)
    except AlreadyRunning:
        if not defer:
            raise
        from jobs import deferred

        return deferred.defer(
            op, lane=lane_of(op.name), trigger=trigger, dry_run=dry_run and op.dry_run, params=params
        )

    if wait:
        from addon.extension import session
        from jobs.tasks import connection_errors

        run_id = run.id
        # Without Redis this process ends with its run: a deferred run it started would die
        # in its in-process queue, so the scheduler's sweep starts that one.
        run_job(run_id, progress=progress, hand_on=bool(runtime.redis_url()))
        try:
            session().refresh(run)
        except connection_errors() as exc:
            failures.rollback_quietly()
            kept = failures.recall_id(run_id) or failures.describe(exc)
            raise RunLost(f"run {run_id} stopped: {kept}", run_id) from None
    else:
        hand_off(run)
    return run


def hand_off(run) -> None:
    """Hand an admitted ('queued') run to RQ, or without Redis to this app's executor."""
    if runtime.redis_url():
        try:
            _enqueue(run)
        except failures.redis_errors() as exc:
            # The row must not wait for ever for a job that was never queued.
            failures.write(run.id, f"Not queued: {failures.describe(exc)}")
            raise
    else:
        from jobs.inprocess import executor

        executor().put(run.id)


def _enqueue(run) -> None:
    from rq import Retry

    # RQ retries a run only after a connection-level failure (see tasks.run_job).
    intervals = [round(seconds) for seconds in runtime.schedule("RETRY_INTERVALS")]
    runtime.queue().enqueue(
        run_job,
        run.id,
        job_id=run.job_id,
        description=f"{label(run.operation)} (run {run.id})",
        job_timeout=int(runtime.tunable("JOB_TIMEOUT")),
        retry=Retry(max=len(intervals), interval=intervals) if intervals else None,
        meta=progress_of(run),
    )


def nudge_live(entities: Iterable[str]) -> None:
    from jobs.live import nudge

    nudge(entities)


def worker_listening() -> bool | None:
    """Whether an RQ worker serves the add-on's queue: None without Redis (runs go in-process)."""
    if runtime.redis_url() is None:
        return None
    from redis.exceptions import RedisError
    from rq import Worker

    try:
        workers = Worker.all(connection=runtime.redis_connection())
    except RedisError:  # Redis unreachable: nobody can be listening
        return False
    queue = runtime.queue_name()
    return any(queue in worker.queue_names() for worker in workers)


class JobsDispatcher:
    """The add-on's ``Dispatcher`` (``addon.runs``), given to it by ``jobs.init_app``."""

    submit = staticmethod(submit)
    nudge_live = staticmethod(nudge_live)
    worker_listening = staticmethod(worker_listening)
