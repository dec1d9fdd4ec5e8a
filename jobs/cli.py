"""``flask netsuite worker|scheduler|sweep``: the processes that run the jobs."""

from __future__ import annotations

import logging
import os
import threading

import click
from flask import current_app
from flask.cli import with_appcontext

from jobs import runtime
from jobs.sweeper import sweep

_fork_hook_installed = False


def _fresh_db_pool_after_fork() -> None:
    # RQ forks a work horse per job; a pooled database connection must never be
    # shared by two processes, so the child starts with an empty pool.
    global _fork_hook_installed
    if _fork_hook_installed:
        return
    from addon.extension import engine

    db_engine = engine()
    os.register_at_fork(after_in_child=lambda: db_engine.dispose(close=False))
    _fork_hook_installed = True


def _require_redis(what: str) -> None:
    if not runtime.redis_url():
        raise click.ClickException(
            f"{what} needs Redis: set REDIS_URL (or NETSUITE_ADDON_REDIS_URL). "
            "Without Redis, runs execute inside the web process and `flask netsuite <operation>`."
        )


@click.command("worker")
@click.option("--burst", is_flag=True, help="Exit once the queue is empty.")
@click.option("--simple", is_flag=True, help="Run jobs in this process instead of a forked child.")
@with_appcontext
def worker_command(burst: bool, simple: bool) -> None:
    """Run an RQ worker for the add-on's queue (sweeps abandoned runs first)."""
    from rq import SimpleWorker, Worker

    _require_redis("The worker")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for run_id in sweep():
        click.echo(f"run {run_id} was abandoned by a dead worker: marked failed")
    runtime.remember_app(current_app._get_current_object())  # type: ignore[attr-defined]
    worker_class = SimpleWorker if simple else Worker
    if not simple:
        _fresh_db_pool_after_fork()
    worker = worker_class([runtime.queue()], connection=runtime.redis_connection())
    worker.work(burst=burst, with_scheduler=True)


@click.command("scheduler")
@with_appcontext
def scheduler_command() -> None:
    """Enqueue the cron operations at their due times (and the sweeper every minute)."""
    from jobs.schedule import build_scheduler, run_without_redis

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    runtime.remember_app(current_app._get_current_object())  # type: ignore[attr-defined]
    sweep()
    if runtime.redis_url():
        build_scheduler().start()
    else:
        click.echo("No Redis: cron runs execute inside this scheduler process.")
        run_without_redis(threading.Event())


@click.command("sweep")
@with_appcontext
def sweep_command() -> None:
    """Mark runs abandoned by a dead worker as failed, so they can be run again."""
    # Without Redis this command's process ends now: the scheduler starts deferred runs.
    swept = sweep(hand_on=bool(runtime.redis_url()))
    click.echo(f"{len(swept)} abandoned run(s) marked failed" + (f": {swept}" if swept else ""))
