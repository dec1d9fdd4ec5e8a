"""Runs as the add-on rules them: admission to a lane, the refusal, progress, and the dispatcher.

Whether a run may start is a business rule and lives here: one active run per lane (the
partial unique index ``uq_ns_sync_run_active_lane``), a refusal that names the run in the
way. How an admitted run reaches a worker is not: the host gives the extension a
:class:`Dispatcher` (``jobs.init_app`` gives RQ with Redis, an in-process queue without), and
the pages and the CLI hand their work to ``dispatcher().submit``. The run path is listed at
the top of ``addon/sync/operations.py``.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterable
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from addon.extension import session, state
from addon.models import SyncRun
from addon.sync.ledger import RunLedger
from addon.sync.operations import Operation, label, lane_of
from addon.sync.progress import FINISHED, percent, progress_text

ACTIVE = ("queued", "running")
# A scheduled run that found its lane busy waits in this state until the lane frees.
DEFERRED = "deferred"


class AlreadyRunning(Exception):
    """The operation, or one of its lane, is queued or running; the message says which."""

    def __init__(self, message: str, run_id: int):
        super().__init__(message)
        self.run_id = run_id


class RunLost(Exception):
    """A run this process ran could not be closed because a service went away; the message
    is the real reason, which is kept and written to the run once the database is back."""

    def __init__(self, message: str, run_id: int):
        super().__init__(message)
        self.run_id = run_id


class Dispatcher(Protocol):
    """What the add-on hands its work to."""

    def submit(
        self,
        operation: str,
        *,
        trigger: str = "manual",
        dry_run: bool = False,
        params: dict | None = None,
        wait: bool = False,
        progress: Callable[[RunLedger], None] | None = None,
        defer: bool = False,
    ) -> SyncRun:
        """Admit a run of ``operation`` and start it; returns its row. ``wait``: run it here
        and now (the CLI), calling ``progress`` with the ledger as it advances; ``defer``: a
        busy lane gives a ``deferred`` row instead of ``AlreadyRunning`` (the schedules)."""
        ...

    def nudge_live(self, entities: Iterable[str]) -> None:
        """Make sure a live run of each entity type starts after the gathering window."""
        ...

    def worker_listening(self) -> bool | None:
        """Whether a worker serves the queue; None when runs execute in-process."""
        ...


def dispatcher() -> Dispatcher:
    found = state().dispatcher
    if found is None:
        raise RuntimeError(
            "The NetSuite add-on has no dispatcher to run operations: call jobs.init_app(app) "
            "after mounting it (README, 'Mounting')."
        )
    return found


def this_host() -> str:
    return socket.gethostname()[:255]


def claim_process(run: SyncRun) -> None:
    """Record that this process runs ``run`` (no commit)."""
    run.pid, run.host = os.getpid(), this_host()


def blocking(lane: str) -> SyncRun | None:
    """The active run holding ``lane``, if any (read fresh)."""
    return session().scalar(
        select(SyncRun)
        .where(SyncRun.lane == lane, SyncRun.status.in_(ACTIVE))
        .order_by(SyncRun.id)
        .limit(1)
        .execution_options(populate_existing=True)
    )


def refusal(wanted: str, blocker: SyncRun) -> str:
    """Why ``wanted`` may not start now, naming the run in the way."""
    when = blocker.started_at or blocker.created_at
    status = "running" if blocker.status == "running" else "queued"
    verb = "started" if blocker.status == "running" else "queued"
    detail = f"(run {blocker.id}, {verb} {when:%H:%M} UTC); wait for it to finish"
    if blocker.operation == wanted:
        return f"{label(wanted)} is already {status} {detail}."
    return f"{label(wanted)} cannot start while {label(blocker.operation)} is {status} {detail}."


def admit(
    op: Operation, *, trigger: str, dry_run: bool, params: dict | None, job_id: Callable[[int], str]
) -> SyncRun:
    """Insert the run row (queued, claimed by this process, its job id from ``job_id``); the
    database refuses a second active run of the lane, and so does this with ``AlreadyRunning``."""
    lane = lane_of(op.name)
    for _ in range(3):
        blocker = blocking(lane)
        if blocker is not None:
            raise AlreadyRunning(refusal(op.name, blocker), blocker.id)
        run = SyncRun(operation=op.name, trigger=trigger, dry_run=dry_run, params=params or {}, lane=lane)
        claim_process(run)
        session().add(run)
        try:
            session().flush()
            run.job_id = job_id(run.id)
            session().commit()
            return run
        except IntegrityError:
            # Another process admitted a run of this lane between our look and our insert.
            session().rollback()
    blocker = blocking(lane)
    raise AlreadyRunning(
        refusal(op.name, blocker) if blocker is not None else f"{label(op.name)} could not be admitted.",
        blocker.id if blocker is not None else 0,
    )


def progress_of(run: SyncRun) -> dict:
    """What a page (or an RQ job's meta) shows about a run's progress."""
    return {
        "run_id": run.id,
        "operation": run.operation,
        "status": run.status,
        "phase": run.phase,
        "phase_done": run.phase_done,
        "phase_total": run.phase_total,
        "text": progress_text(run),
        "done": run.done or 0,
        "total": run.total,
        "percent": percent(run),
        "counts": dict(run.counts or {}),
        "message": run.message,
        "finished": run.status in FINISHED,
    }


def run_progress(run_id: int) -> dict:
    """Progress of a run, read fresh from its row: status, phase, done, total, percent,
    counts, message, finished. The same whichever dispatcher runs it."""
    run = session().get(SyncRun, run_id, populate_existing=True)
    if run is None:
        raise KeyError(f"no run {run_id}")
    return progress_of(run)


def waiting_for(runs: Iterable[SyncRun | None]) -> dict[int, str]:
    """What each deferred run in ``runs`` waits for, as the pages show it:
    ``{run id: "Export customers (run 12)"}``."""
    shown: dict[int, str] = {}
    blockers: dict[str, SyncRun | None] = {}
    for run in runs:
        if run is None or run.status != DEFERRED:
            continue
        lane = run.lane or lane_of(run.operation)
        if lane not in blockers:
            blockers[lane] = blocking(lane)
        blocker = blockers[lane]
        shown[run.id] = (
            f"{label(blocker.operation)} (run {blocker.id})" if blocker is not None else "its turn"
        )
    return shown
