"""Submitting runs: refuse overlaps, create the run row, hand it to RQ or the in-process executor."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable

from sqlalchemy import select

from jobs import runtime
from jobs.tasks import execute, progress_of

ACTIVE = ("queued", "running")

_local_admission = threading.Lock()


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


@contextlib.contextmanager
def _admission():
    """Serialise check-then-insert: across hosts through Redis, else within this process."""
    if runtime.redis_url():
        with runtime.redis_connection().lock("netsuite-sync:submit", timeout=30, blocking_timeout=30):
            yield
    else:
        with _local_admission:
            yield


def submit(
    operation: str,
    *,
    trigger: str = "manual",
    dry_run: bool = False,
    params: dict | None = None,
    wait: bool = False,
    progress: Callable | None = None,
):
    """Create a run of ``operation`` and start it; returns the ``SyncRun`` row.

    With Redis configured the run goes to the RQ queue; without, to this app's
    in-process executor (one thread, runs in submission order). ``wait=True``
    runs it here and now (the CLI), still under the same locks; ``progress``
    is then called with the ledger as it advances. Raises ``AlreadyRunning``
    when the operation or a conflicting one is queued or running.
    """
    from addon.extension import session
    from addon.models import SyncRun
    from addon.sync.ledger import start_run
    from addon.sync.operations import conflicting
    from addon.sync.operations import operation as lookup

    op = lookup(operation)
    with _admission():
        blocking = session().scalar(
            select(SyncRun)
            .where(SyncRun.operation.in_(conflicting(op.name)), SyncRun.status.in_(ACTIVE))
            .order_by(SyncRun.id)
            .limit(1)
        )
        if blocking is not None:
            raise AlreadyRunning(_refusal(op.name, blocking), blocking.id)
        run = start_run(op.name, trigger=trigger, dry_run=dry_run and op.dry_run, params=params or {})
        run.job_id = job_id_for(run.id)
        session().commit()

    if wait:
        execute(run.id, progress=progress)
        session().refresh(run)
    elif runtime.redis_url():
        _enqueue(run)
    else:
        from jobs.inprocess import executor

        executor().put(run.id)
    return run


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

    bar = tqdm(total=None, desc=_label(operation.replace("-", "_")), unit=" records", file=file, leave=True)

    def show(ledger) -> None:
        run = ledger.run
        bar.total = run.total
        bar.n = run.done or 0
        if run.phase:
            bar.set_description(run.phase, refresh=False)
        bar.set_postfix({k: v for k, v in sorted((run.counts or {}).items())}, refresh=False)
        bar.refresh()

    try:
        return submit(operation, trigger=trigger, dry_run=dry_run, params=params, wait=True, progress=show)
    finally:
        bar.close()
