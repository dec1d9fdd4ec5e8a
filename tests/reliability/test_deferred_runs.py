"""Scheduled runs that find their lane busy are deferred, never dropped (jobs/deferred.py).

A cron tick during a running export leaves a 'deferred' row; it starts when the lane frees,
from the end of the run that held it or from the sweeper, once per operation, in the order
the ticks were due. Without Redis (in-process executor, CLI processes) and with real Redis
and RQ workers.
"""

from __future__ import annotations

import re
import signal

import pytest
from rq import Queue, SimpleWorker

from addon.runs import AlreadyRunning
from jobs import submit
from jobs.inprocess import executor
from jobs.sweeper import sweep
from jobs.tasks import cron_tick
from tests.plugins.jobs import wait_for
from tests.reliability.test_runs_without_redis import _cli, _runs

SIZE = {"customers": 12, "invoices": 24, "payments": 12}


@pytest.fixture
def slow_isp(make_isp):
    setup = make_isp(**SIZE)
    setup.env.netsuite.state.write_latency = 0.1  # the export is still going when the ticks come
    setup.env.settings(cron_export_invoices=True, cron_export_credit_notes=True)
    return setup


def _deferred_id(outcome: str) -> int:
    match = re.fullmatch(r"deferred run (\d+)", outcome)
    assert match, outcome
    return int(match.group(1))


def _by_id():
    return {run.id: run for run in _runs()}


def _assert_ran_in_order(first, *later) -> None:
    """Each run succeeded and started only after the one before it finished."""
    runs = _by_id()
    previous = runs[first]
    assert previous.status == "succeeded", previous.message
    for run_id in later:
        run = runs[run_id]
        assert run.status == "succeeded", (run.operation, run.message)
        assert run.trigger == "cron" and run.started_at >= previous.finished_at
        previous = run


def test_a_tick_during_an_export_is_deferred_collapses_and_runs_right_after_it(slow_isp, client, auth):
    auth.login()  # before the export: a login's password hashing is slow
    customers = submit("export_customers")
    invoices = _deferred_id(cron_tick("export_invoices"))
    assert _deferred_id(cron_tick("export_invoices")) == invoices  # the second tick collapses
    credit_notes = _deferred_id(cron_tick("export_credit_notes"))

    # A manual submission keeps its clear refusal and leaves no row.
    count = len(_runs())
    with pytest.raises(AlreadyRunning) as refused:
        submit("export_invoices")
    assert "Export invoices cannot start while Export customers is" in str(refused.value)
    assert len(_runs()) == count

    page = client.get("/netsuite/").get_data(as_text=True)
    assert f"waiting for Export customers (run {customers.id})" in page

    executor().join()
    _assert_ran_in_order(customers.id, invoices, credit_notes)
    assert [run.operation for run in _runs()].count("export_invoices") == 1


@pytest.mark.parametrize("end", ["exits", "killed"])
def test_a_deferred_run_outlives_the_process_that_held_the_lane_and_the_sweeper_starts_it(
    slow_isp, database_url, end
):
    app, state = slow_isp.env.app, slow_isp.env.netsuite.state
    cli = _cli(app, database_url, "export-customers")
    wait_for(lambda: state.counters.writes >= 2, "the CLI export to write")
    invoices = _deferred_id(cron_tick("export_invoices"))
    if end == "killed":
        cli.send_signal(signal.SIGKILL)
        cli.wait()
    else:
        output, _ = cli.communicate(timeout=240)
        assert cli.returncode == 0, output
    # Nothing started it: without Redis a CLI hands no run on (it would die in its queue).
    assert _by_id()[invoices].status == "deferred"

    # A scheduler started afresh sweeps: the lane is free (or freed), the deferred run starts.
    sweep()
    executor().join()
    runs = _by_id()
    held = next(run for run in runs.values() if run.operation == "export_customers")
    assert held.status == ("succeeded" if end == "exits" else "failed"), held.message
    assert runs[invoices].status == "succeeded", runs[invoices].message
    assert runs[invoices].started_at >= held.finished_at


@pytest.fixture
def with_redis(slow_isp, private_redis):
    url, conn = private_redis
    slow_isp.env.app.config["NETSUITE_ADDON_REDIS_URL"] = url
    return conn


def _work_until_empty(conn) -> None:
    SimpleWorker([Queue("netsuite", connection=conn)], connection=conn).work(burst=True)


def test_with_redis_a_deferred_tick_is_enqueued_by_the_end_of_the_run_that_held_the_lane(with_redis):
    customers = submit("export_customers")
    invoices = _deferred_id(cron_tick("export_invoices"))
    assert _deferred_id(cron_tick("export_invoices")) == invoices
    credit_notes = _deferred_id(cron_tick("export_credit_notes"))
    with pytest.raises(AlreadyRunning):
        submit("export_credit_notes")
    _work_until_empty(with_redis)  # runs the export, which enqueues invoices, then credit notes
    _assert_ran_in_order(customers.id, invoices, credit_notes)
    assert [run.operation for run in _runs()].count("export_invoices") == 1


def test_with_redis_a_deferred_run_survives_losing_the_queue_and_the_sweeper_starts_it(with_redis, slow_isp):
    lost = submit("export_customers")
    invoices = _deferred_id(cron_tick("export_invoices"))
    with_redis.flushdb()  # Redis restarted empty: the queued export's job is gone
    slow_isp.env.app.config["NETSUITE_ADDON_SWEEP_AFTER"] = 0
    sweep()
    runs = _by_id()
    assert runs[lost.id].status == "failed" and runs[invoices].status == "queued"
    _work_until_empty(with_redis)
    assert _by_id()[invoices].status == "succeeded"


def test_a_deferred_run_whose_schedule_is_switched_off_meanwhile_is_cancelled_with_the_reason(slow_isp):
    customers = submit("export_customers")
    invoices = _deferred_id(cron_tick("export_invoices"))
    slow_isp.env.settings(cron_export_invoices=False)
    executor().join()
    runs = _by_id()
    assert runs[customers.id].status == "succeeded"
    assert runs[invoices].status == "cancelled" and "switched off while it waited" in runs[invoices].message
    assert runs[invoices].started_at is None


def test_a_deferred_run_goes_before_a_later_manual_submission_which_is_refused(slow_isp, database_url):
    app, state = slow_isp.env.app, slow_isp.env.netsuite.state
    cli = _cli(app, database_url, "export-customers")
    wait_for(lambda: state.counters.writes >= 2, "the CLI export to write")
    invoices = _deferred_id(cron_tick("export_invoices"))
    output, _ = cli.communicate(timeout=240)
    assert cli.returncode == 0, output
    assert _by_id()[invoices].status == "deferred"  # the CLI hands nothing on; no sweep yet

    with pytest.raises(AlreadyRunning) as refused:
        submit("export_invoices")
    assert f"Export invoices is already queued (run {invoices}," in str(refused.value)
    executor().join()
    assert _by_id()[invoices].status == "succeeded"
    assert [run.operation for run in _runs()].count("export_invoices") == 1


def test_the_database_itself_keeps_one_deferred_run_per_operation(app_ctx):
    from sqlalchemy.exc import IntegrityError

    from addon.extension import session
    from addon.models import SyncRun

    session().add(SyncRun(operation="export_invoices", status="deferred", lane="accounting"))
    session().add(SyncRun(operation="export_payments", status="deferred", lane="accounting"))
    session().commit()
    session().add(SyncRun(operation="export_invoices", status="deferred", lane="accounting"))
    with pytest.raises(IntegrityError):
        session().commit()
    session().rollback()


def test_the_deferred_index_exists_after_migrations(tmp_path):
    from sqlalchemy import create_engine, inspect

    from wsgi import create_app

    url = f"sqlite:///{tmp_path / 'migrated.sqlite'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "x", "TESTING": True})
    assert app.test_cli_runner().invoke(args=["db", "upgrade"]).exit_code == 0
    engine = create_engine(url)
    indexes = {index["name"]: index for index in inspect(engine).get_indexes("ns_sync_run")}
    engine.dispose()
    assert indexes["uq_ns_sync_run_deferred_operation"]["unique"]
    assert indexes["uq_ns_sync_run_deferred_operation"]["column_names"] == ["operation"]
