"""Scheduled runs that found their lane busy: kept in the database, started when it frees.

A cron tick whose lane is taken (customers' export still going at invoices' due time) does
not vanish: it leaves a run row in state ``deferred``. The partial unique index
``uq_ns_sync_run_deferred_operation`` keeps one per operation, so ticks that pile up while
the lane stays busy collapse into one. Whenever a run ends (``tasks.run_job``) and at every
sweep, :func:`start_waiting` moves the oldest deferred row of each free lane to ``queued``
and hands it off like any submission; the lane's own unique index
(``uq_ns_sync_run_active_lane``) makes that move the admission, so two processes promoting
at once start it once. The rows live in the database: a restart, the absence of Redis or
several workers on several hosts change nothing.

Without Redis a process that is about to exit (a CLI run, ``flask netsuite sweep``) would
take the run with it into its in-process queue, so it promotes nothing: the scheduler's
periodic sweep does (``hand_on=False`` at those call sites).
"""

from __future__ import annotations

import logging
import os

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from addon.runs import DEFERRED, blocking
from addon.sync.operations import label

log = logging.getLogger(__name__)


def defer(op, *, lane: str, trigger: str, dry_run: bool, params: dict | None):
    """Keep a submission of ``op`` for when ``lane`` frees; returns its ``deferred`` row
    (the one already waiting, if this operation has one)."""
    from addon.extension import session
    from addon.models import SyncRun

    for _ in range(3):
        waiting = _deferred_of(op.name)
        if waiting is not None:
            break
        run = SyncRun(
            operation=op.name,
            trigger=trigger,
            dry_run=dry_run,
            params=params or {},
            lane=lane,
            status=DEFERRED,
        )
        session().add(run)
        try:
            session().commit()
            waiting = run
            break
        except IntegrityError:  # another tick of the same operation deferred it first
            session().rollback()
    else:  # each time, the one waiting started between our insert and our look
        raise RuntimeError(f"{label(op.name)} could not be deferred; the next due time runs it.")
    # The lane may have freed between the refusal and this row: its end found nothing waiting.
    start_waiting(lanes=[lane])
    session().refresh(waiting)
    return waiting


def _deferred_of(operation: str):
    from addon.extension import session
    from addon.models import SyncRun

    return session().scalar(
        select(SyncRun)
        .where(SyncRun.operation == operation, SyncRun.status == DEFERRED)
        .execution_options(populate_existing=True)
    )


def start_waiting(lanes=None) -> list[int]:
    """Start the oldest deferred run of every free lane (of ``lanes`` if given); returns the
    ids started. Safe to call anywhere, any number of times, from any process."""
    from addon.extension import session
    from addon.models import SyncRun, utcnow
    from addon.runs import this_host
    from jobs.runs import hand_off, job_id_for

    query = (
        select(SyncRun)
        .where(SyncRun.status == DEFERRED)
        .order_by(SyncRun.created_at, SyncRun.id)
        .execution_options(populate_existing=True)
    )
    if lanes is not None:
        query = query.where(SyncRun.lane.in_(list(lanes)))
    oldest: dict = {}
    for run in session().scalars(query).all():
        oldest.setdefault(run.lane, run)
    started = []
    for lane, run in oldest.items():
        if blocking(lane) is not None:
            continue
        if run.trigger == "cron" and not _still_scheduled(run.operation):
            _cancel(run.id, "Not run: its schedule was switched off while it waited.")
            continue
        try:
            # heartbeat: the sweeper judges a queued run by its last sign of life, and this
            # one's created_at is its (older) due time.
            moved = (
                session()
                .execute(
                    update(SyncRun)
                    .where(SyncRun.id == run.id, SyncRun.status == DEFERRED)
                    .values(
                        status="queued",
                        heartbeat_at=utcnow(),
                        pid=os.getpid(),
                        host=this_host(),
                        job_id=job_id_for(run.id),
                    )
                )
                .rowcount
            )
            session().commit()
        except IntegrityError:  # another run was admitted to the lane meanwhile
            session().rollback()
            continue
        if moved != 1:  # another process started it
            continue
        session().refresh(run)
        log.info("deferred run %s (%s) starts now that its lane is free", run.id, run.operation)
        hand_off(run)
        started.append(run.id)
    return started


def after_run(hand_on: bool = True) -> None:
    """A run ended: the lane it held may have a deferred run waiting."""
    if not hand_on:
        return
    from jobs import failures

    try:
        start_waiting()
    except Exception:  # the run is over and recorded; the sweeper starts the waiting one
        failures.rollback_quietly()
        log.warning("could not start the deferred runs", exc_info=True)


def _still_scheduled(operation: str) -> bool:
    from addon import settings

    return bool(settings.get(f"cron_{operation}"))


def _cancel(run_id: int, message: str) -> None:
    from addon.extension import session
    from addon.models import SyncRun, utcnow

    session().execute(
        update(SyncRun)
        .where(SyncRun.id == run_id, SyncRun.status == DEFERRED)
        .values(status="cancelled", message=message, finished_at=utcnow())
    )
    session().commit()
