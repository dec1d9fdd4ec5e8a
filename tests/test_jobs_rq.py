"""Runs through real Redis and real RQ workers (in-process SimpleWorker and separate processes)."""

from __future__ import annotations

import threading

import pytest
from rq import Queue, SimpleWorker, Worker
from rq.job import Job

from addon.extension import session
from addon.models import SyncRun
from addon.runs import AlreadyRunning, run_progress
from jobs import submit
from jobs.locks import LockHeld, RunLock, lock_holder, lock_key
from jobs.schedule import build_scheduler
from jobs.sweeper import sweep
from tests.plugins.jobs import kill_hard, wait_for
from tests.reliability.outages import TcpProxy


def work_until_empty(redis_conn) -> None:
    SimpleWorker([Queue("netsuite", connection=redis_conn)], connection=redis_conn).work(burst=True)


def test_progress_is_visible_while_a_job_runs_and_a_second_run_is_refused(redis_jobs, redis_conn):
    redis_jobs.netsuite.state.write_latency = 0.05
    redis_jobs.settings(netsuite_concurrency=2)
    run = submit("export_customers")
    seen: dict = {}

    def observe() -> None:
        with redis_jobs.app.app_context():
            try:
                job = Job.fetch(run.job_id, connection=redis_conn)

                def running_with_progress():
                    job.refresh()
                    progress = run_progress(run.id)
                    return progress["status"] == "running" and job.meta.get("done", 0) > 0 and progress

                seen["progress"] = wait_for(running_with_progress, "progress of the running job")
                seen["meta"] = dict(job.meta)
                try:
                    submit("export_customers")
                except AlreadyRunning as exc:
                    seen["refused"] = str(exc)
                seen["lock_holder"] = lock_holder(redis_conn, "export_customers")
            except Exception as exc:  # reported by the main thread
                seen["error"] = exc

    observer = threading.Thread(target=observe)
    observer.start()
    work_until_empty(redis_conn)
    observer.join()
    assert "error" not in seen, seen.get("error")
    assert not seen["meta"]["finished"] and 0 < seen["meta"]["done"]
    assert seen["meta"]["phase"] == "Exporting customers"
    assert "Export customers is already running" in seen["refused"] and f"run {run.id}" in seen["refused"]
    assert seen["lock_holder"] == run.id
    final = run_progress(run.id)
    assert final["status"] == "succeeded" and final["done"] == final["total"]
    assert Job.fetch(run.job_id, connection=redis_conn).meta["finished"] is True
    assert lock_holder(redis_conn, "export_customers") is None
    assert session().query(SyncRun).count() == 1  # the refused request left no row


def test_a_sigkilled_worker_leaves_no_lock_and_the_rerun_completes_without_duplicates(
    redis_jobs,
    redis_conn,
    spawn_worker,
):
    sandbox = redis_jobs.netsuite.state
    sandbox.write_latency = 0.3  # 27 creates two at a time: long enough to kill it midway
    redis_jobs.settings(netsuite_concurrency=2)
    worker = spawn_worker(NETSUITE_ADDON_LOCK_TTL="1.5")
    first = submit("export_customers")
    wait_for(lambda: run_progress(first.id)["done"] >= 4, "the worker to export a few customers")
    assert lock_holder(redis_conn, "export_customers") == first.id
    assert run_progress(first.id)["status"] == "running"
    kill_hard(worker)

    wait_for(lambda: lock_holder(redis_conn, "export_customers") is None, "the dead worker's lock to expire")
    assert run_progress(first.id)["status"] == "running"  # nobody told the row: the sweeper does
    redis_jobs.app.config["NETSUITE_ADDON_SWEEP_AFTER"] = 0
    assert sweep() == [first.id]
    swept = run_progress(first.id)
    assert swept["status"] == "failed" and "stopped responding" in swept["message"]

    # The dead worker's NetSuite governor leases lapse on their own clock (30 s);
    # two more slots let the rerun start now instead of waiting them out.
    redis_jobs.settings(netsuite_concurrency=4)
    rerun = submit("export_customers")
    work_until_empty(redis_conn)
    assert run_progress(rerun.id)["status"] == "succeeded"
    external_ids = [
        record.get("externalId")
        for record in sandbox.store.records("customer")
        if str(record.get("externalId", "")).startswith("splynx-customer-")
    ]
    assert len(external_ids) == len(set(external_ids)) > 0
    exported = run_progress(rerun.id)["counts"]
    assert len(external_ids) == exported.get("created", 0) + exported.get("updated", 0) + exported.get(
        "unchanged", 0
    )


def test_two_worker_processes_together_stay_under_the_account_limit(
    redis_jobs,
    redis_conn,
    spawn_worker,
):
    sandbox = redis_jobs.netsuite.state
    sandbox.concurrency_limit = 3
    sandbox.latency = 0.03
    redis_jobs.settings(netsuite_concurrency=3)
    spawn_worker()
    spawn_worker()
    queue = Queue("netsuite", connection=redis_conn)
    wait_for(lambda: len(Worker.all(queue=queue)) == 2, "both workers to listen")
    sandbox.reset_counters()
    runs = [submit("export_customers"), submit("load_mappings")]
    wait_for(lambda: all(run_progress(run.id)["finished"] for run in runs), "both runs to finish", timeout=60)
    for run in runs:
        progress = run_progress(run.id)
        assert progress["status"] == "succeeded", progress["message"]
        assert "failed" not in progress["counts"]
    assert sandbox.counters.peak_in_flight <= 3
    assert sandbox.counters.rejected_429 == 0
    hosts = {Job.fetch(run.job_id, connection=redis_conn).worker_name for run in runs}
    assert len(hosts) == 2  # each run was taken by a different worker process


def test_a_cron_toggle_enqueues_at_the_next_due_time_and_switching_it_off_stops_it(
    redis_jobs,
    redis_conn,
):
    redis_jobs.app.config["NETSUITE_ADDON_CRON_EXPORT_CUSTOMERS"] = "* * * * * *"  # every second
    scheduler = build_scheduler(redis_conn)
    names = {job.name for job in scheduler.get_jobs()}
    assert "netsuite-sync:cron:export_customers" in names and "netsuite-sync:sweep" in names

    def tick_enqueued():
        return [job for job in scheduler.enqueue_jobs() if job.name == "netsuite-sync:cron:export_customers"]

    def cron_runs() -> list[SyncRun]:
        return session().query(SyncRun).filter_by(operation="export_customers", trigger="cron").all()

    wait_for(tick_enqueued, "a due tick while the toggle is off")
    work_until_empty(redis_conn)
    assert cron_runs() == []  # off by default

    redis_jobs.settings(cron_export_customers=True)
    wait_for(tick_enqueued, "the next due tick")
    work_until_empty(redis_conn)
    runs = cron_runs()
    assert len(runs) == 1 and run_progress(runs[0].id)["status"] == "succeeded"

    redis_jobs.settings(cron_export_customers=False)  # no restart of the scheduler
    wait_for(tick_enqueued, "the tick after switching off")
    work_until_empty(redis_conn)
    assert len(cron_runs()) == 1


def test_a_lock_left_by_a_finished_run_is_taken_over_but_a_live_holders_is_not(redis_jobs, redis_conn):
    # Redis went away before run 1 could release its locks: they outlive it by their TTL.
    first = submit("export_customers")
    work_until_empty(redis_conn)
    assert run_progress(first.id)["status"] == "succeeded"
    redis_conn.set(lock_key("export_customers"), f"{first.id}:lost-release", ex=600)
    redis_conn.set(lock_key("reset_accounting"), "9999:row-never-existed", ex=600)

    rerun = submit("export_customers")
    work_until_empty(redis_conn)
    progress = run_progress(rerun.id)
    assert progress["status"] == "succeeded", progress["message"]
    assert lock_holder(redis_conn, "export_customers") is None
    assert lock_holder(redis_conn, "reset_accounting") is None

    # A lock whose run is still running stays where it is.
    held = f"{first.id}:still-running"
    redis_conn.set(lock_key("export_customers"), held, ex=600)
    lock = RunLock(
        redis_conn, "export_customers", rerun.id + 1, {"export_customers"}, 60, lambda run_id: True
    )
    with pytest.raises(LockHeld) as refused:
        lock.acquire()
    assert refused.value.holder_run_id == first.id
    assert redis_conn.get(lock_key("export_customers")) == held.encode()


def test_a_connection_failure_is_retried_a_bounded_number_of_times_then_the_run_says_why(
    redis_jobs, redis_conn, redis_url
):
    host_port, db = redis_url.removeprefix("redis://").split("/", 1)
    host, port = host_port.rsplit(":", 1)
    proxy = TcpProxy(host, int(port))
    app = redis_jobs.app
    app.config["NETSUITE_ADDON_RETRY_INTERVALS"] = "0,0,0"
    # The job reaches Redis through the proxy; the worker keeps its own direct connection.
    app.config["NETSUITE_ADDON_REDIS_URL"] = f"redis://127.0.0.1:{proxy.port}/{db}"
    try:
        run = submit("export_customers")
        proxy.cut()
        work_until_empty(redis_conn)
    finally:
        proxy.close()
    job = Job.fetch(run.job_id, connection=redis_conn)
    assert job.get_status() == "failed" and job.retries_left == 0
    assert job.meta["attempts"] == 4  # the first try and three retries, no more
    progress = run_progress(run.id)
    assert progress["status"] == "failed"
    assert progress["message"].startswith("Redis unavailable: ConnectionError"), progress["message"]
    assert progress["message"].endswith("(gave up after 4 attempts)")
    assert job.meta["failure"] == progress["message"]
    assert redis_jobs.netsuite.state.counters.writes == 0


def test_the_scheduler_registers_each_enabled_cron_once_under_a_deterministic_name(redis_jobs, redis_conn):
    from addon.extension import cron_expression
    from addon.sync.operations import scheduled

    app = redis_jobs.app
    app.config["NETSUITE_ADDON_CRON_EXPORT_INVOICES"] = ""  # disabled: not registered at all
    app.config["NETSUITE_ADDON_CRON_EXPORT_CUSTOMERS"] = "*/5 * * * *"
    first, rebuilt = build_scheduler(redis_conn), build_scheduler(redis_conn)

    names = [job.name for job in first.get_jobs()]
    enabled = [op.name for op in scheduled() if cron_expression(op.name)]
    assert "export_invoices" not in enabled and "export_customers" in enabled
    assert sorted(names) == sorted([f"netsuite-sync:cron:{op}" for op in enabled] + ["netsuite-sync:sweep"])
    assert len(names) == len(set(names))
    assert [job.name for job in rebuilt.get_jobs()] == names
    customers = next(job for job in first.get_jobs() if job.name == "netsuite-sync:cron:export_customers")
    assert customers.cron == "*/5 * * * *" and customers.args == ("export_customers",)

    # A rebuilt scheduler of this process registers under the same name: it replaces, never stacks.
    first.save()
    rebuilt.save()
    assert rebuilt.name == first.name
    assert len(redis_conn.keys("rq:cron_scheduler:*")) == 1
