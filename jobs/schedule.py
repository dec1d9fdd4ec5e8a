"""The cron side: one schedule per cron operation plus the sweeper, on RQ's own ``rq.cron``.

Schedules live in the scheduler process (declared here, nowhere in Redis),
so restarting it can never stack copies; each cron job has a deterministic
name (``netsuite-sync:cron:<operation>``). What is enqueued at due time is
``tasks.cron_tick``, which reads the operation's toggle then: switching a
toggle off takes effect at the next due time without restarting anything.
Expressions are standard cron (five fields, or six with seconds last) in UTC,
from app config / environment ``NETSUITE_ADDON_CRON_<OPERATION>``, else the
operation's registered default; an empty expression disables the schedule.
"""

from __future__ import annotations

import logging
import os
import socket
import threading

from jobs import runtime
from jobs.sweeper import sweep_job
from jobs.tasks import cron_tick

log = logging.getLogger(__name__)


def cron_operations() -> list[str]:
    from addon.sync.operations import scheduled

    return [op.name for op in scheduled()]


def cron_expression(operation: str) -> str:
    """The schedule of ``operation`` ('' when disabled); a malformed one stops the scheduler
    with the variable's name and why, instead of croniter's own message."""
    from addon.extension import cron_expression as configured
    from addon.validation import cron_expression as check

    name = f"{runtime.PREFIX}CRON_{operation.upper()}"
    expression = configured(operation)
    try:
        check(expression)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None
    return expression


def periodic_jobs() -> list[dict]:
    """Every periodic job, declared once (app context required): ``rq.cron.register`` arguments."""
    declared = [
        {
            "func": cron_tick,
            "args": (operation,),
            "cron": expression,
            "name": f"netsuite-sync:cron:{operation}",
        }
        for operation in cron_operations()
        if (expression := cron_expression(operation))
    ]
    declared.append(
        {"func": sweep_job, "interval": int(runtime.tunable("SWEEP_INTERVAL")), "name": "netsuite-sync:sweep"}
    )
    return declared


def build_scheduler(connection=None):
    """An ``rq.cron.CronScheduler`` holding every periodic job (not started)."""
    from rq.cron import CronScheduler

    scheduler = CronScheduler(
        connection=connection or runtime.redis_connection(),
        name=f"netsuite-sync@{socket.gethostname()}:{os.getpid()}",
    )
    for spec in periodic_jobs():
        job = scheduler.register(queue_name=runtime.queue_name(), **spec)
        log.info("scheduled %s: %s", job.name, job.cron or f"every {job.interval} s")
    return scheduler


def run_without_redis(stop: threading.Event | None = None) -> None:
    """The embedded mode's scheduler: the same cron jobs, due times computed by RQ's
    ``CronJob``, each tick run here and its run executed by the in-process executor."""
    from rq.utils import now

    stop = stop or threading.Event()
    from rq.cron import CronJob

    declared = [CronJob(runtime.queue_name(), **spec) for spec in periodic_jobs()]
    while not stop.is_set():
        for job in declared:
            if job.should_run():
                job.set_enqueue_time(now())
                try:
                    job.func(*job.args)  # type: ignore[misc]  # rq types func as optional; each job has one
                except Exception:
                    log.exception("cron job %s", job.name)
        upcoming = [job.next_enqueue_time for job in declared if job.next_enqueue_time]
        wait = min([(min(upcoming) - now()).total_seconds(), 60.0]) if upcoming else 60.0
        stop.wait(max(wait, 0.05))
