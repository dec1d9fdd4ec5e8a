"""Submitting runs: refuse overlaps, create the run row, hand it to RQ or the in-process executor."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from jobs import failures, runtime
from jobs.tasks import execute, progress_of

ACTIVE = ("queued", "running")


class RunLost(Exception):
    """A run this process ran could not be closed because a service went away; the message
    is the real reason, which is kept and written to the run once the database is back."""

    def __init__(self, message: str, run_id: int):
        super().__init__(message)
        self.run_id = run_id


class AlreadyRunning(Exception):
    """The operation, or one it conflicts with, is queued or running; the message says which."""

    def __init__(self, message: str, run_id: int):
        super().__init__(message)
        self.run_id = run_id


def job_id_for(run_id: int) -> str:
    """RQ job id of a run: deterministic, so a run can never be enqueued twice."""
    return f"netsuite-run-{run_id}"


def _label(name: str) -> str:
    from addon.sync.operations import OPERATIONS

    return OPERATIONS[name].label if name in OPERATIONS else name


def _refusal(wanted: str, blocking) -> str:
    when = blocking.started_at or blocking.created_at
    state = "running" if blocking.status == "running" else "queued"
    verb = "started" if blocking.status == "running" else "queued"
    detail = f"(run {blocking.id}, {verb} {when:%H:%M} UTC); wait for it to finish"
    if blocking.operation == wanted:
        return f"{_label(wanted)} is already {state} {detail}."
    return f"{_label(wanted)} cannot start while {_label(blocking.operation)} is {state} {detail}."


# Operations that write accounting links or mappings share one lane: a full sync beside a
# single export (or a reset) would write the same links twice. Every other operation is its
# own lane. The partial unique index uq_ns_sync_run_active_lane admits one active run per
# lane, on SQLite and PostgreSQL alike, with or without Redis.
ACCOUNTING_LANE = "accounting"


def lane_of(operation: str) -> str:
    from addon.sync.operations import EXPORTS

    if operation in EXPORTS or operation in ("reset_accounting", "match_customers"):
        return ACCOUNTING_LANE
    return operation


def this_host() -> str:
    return socket.gethostname()[:255]


def claim_process(run) -> None:
    """Record that this process runs ``run`` (no commit)."""
    run.pid, run.host = os.getpid(), this_host()


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


def _blocking(lane: str):
    from addon.extension import session
    from addon.models import SyncRun

    return session().scalar(
        select(SyncRun)
        .where(SyncRun.lane == lane, SyncRun.status.in_(ACTIVE))
        .order_by(SyncRun.id)
        .limit(1)
        .execution_options(populate_existing=True)
    )


def _admit(op, *, trigger: str, dry_run: bool, params: dict | None):
    """Insert the run row; the database refuses a second active run of the lane."""
    from addon.extension import session
    from addon.models import SyncRun

    lane = lane_of(op.name)
    for _ in range(3):
        blocking = _blocking(lane)
        if blocking is not None:
            raise AlreadyRunning(_refusal(op.name, blocking), blocking.id)
        run = SyncRun(operation=op.name, trigger=trigger, dry_run=dry_run, params=params or {}, lane=lane)
        claim_process(run)
        session().add(run)
        try:
            session().flush()
            run.job_id = job_id_for(run.id)
            session().commit()
            return run
        except IntegrityError:
            # Another process admitted a run of this lane between our look and our insert.
            session().rollback()
    blocking = _blocking(lane)
    raise AlreadyRunning(
        _refusal(op.name, blocking) if blocking is not None else f"{_label(op.name)} could not be admitted.",
        blocking.id if blocking is not None else 0,
    )


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
    """Create a run of ``operation`` and start it; returns the ``SyncRun`` row.

    With Redis configured the run goes to the RQ queue; without, to this app's
    in-process executor (one thread, runs in submission order). ``wait=True``
    runs it here and now (the CLI). Raises ``AlreadyRunning`` when a run of the
    same lane is queued or running; runs of this host whose process is gone are
    failed first, so a killed CLI never blocks the next one. ``defer=True`` (the
    schedules) instead returns a ``deferred`` row that starts when the lane frees
    (``jobs.deferred``).
    """
    from addon.sync.operations import operation as lookup

    op = lookup(operation)
    sweep_gone_processes()
    if not wait or runtime.redis_url():
        from jobs import deferred

        # A schedule deferred behind a run that has ended goes first: it was due earlier.
        deferred.start_waiting(lanes=[lane_of(op.name)])
    try:
        run = _admit(op, trigger=trigger, dry_run=dry_run and op.dry_run, params=params)
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
        execute(run_id, progress=progress, hand_on=bool(runtime.redis_url()))
        try:
            session().refresh(run)
        except connection_errors() as exc:
            failures.rollback_quietly()
            kept = failures.recall_id(run_id) or failures.describe(exc)
            raise RunLost(f"run {run_id} stopped: {kept}", run_id) from None
    else:
        dispatch(run)
    return run


def dispatch(run) -> None:
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

    # RQ retries a run only after a connection-level failure (see tasks.execute).
    intervals = [round(seconds) for seconds in runtime.schedule("RETRY_INTERVALS")]
    runtime.queue().enqueue(
        execute,
        run.id,
        job_id=run.job_id,
        description=f"{_label(run.operation)} (run {run.id})",
        job_timeout=int(runtime.tunable("JOB_TIMEOUT")),
        retry=Retry(max=len(intervals), interval=intervals) if intervals else None,
        meta=progress_of(run),
    )


def run_progress(run_id: int) -> dict:
    """Progress of a run, read fresh from its row: status, phase, done, total, percent,
    counts, message, finished. Works the same for RQ and in-process runs."""
    from addon.extension import session
    from addon.models import SyncRun

    run = session().get(SyncRun, run_id, populate_existing=True)
    if run is None:
        raise KeyError(f"no run {run_id}")
    return progress_of(run)


def run_with_progress_bar(
    operation: str, *, trigger: str = "cli", dry_run: bool = False, params: dict | None = None, file=None
):
    """Run ``operation`` synchronously with a tqdm bar (the CLI); returns the finished run."""
    from tqdm import tqdm

    from addon.sync.progress import phase_label

    bar = tqdm(total=None, desc=_label(operation.replace("-", "_")), unit=" records", file=file, leave=True)

    def show(ledger) -> None:
        run = ledger.run
        bar.total = run.total
        bar.n = run.done or 0
        if run.phase:
            bar.set_description(phase_label(run), refresh=False)
        bar.set_postfix({k: v for k, v in sorted((run.counts or {}).items())}, refresh=False)
        bar.refresh()

    try:
        return submit(operation, trigger=trigger, dry_run=dry_run, params=params, wait=True, progress=show)
    finally:
        bar.close()
