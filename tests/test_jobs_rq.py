"""Runs through real Redis and real RQ workers (in-process SimpleWorker and separate processes)."""


from __future__ import annotations

import threading

from rq import Queue, SimpleWorker, Worker
from rq.job import Job

from addon.extension import session
from addon.models import SyncRun
from jobs import AlreadyRunning, run_progress, submit
from jobs.locks import lock_holder
from jobs.schedule import build_scheduler
from jobs.sweeper import sweep
from tests.plugins.jobs import kill_hard, wait_for


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
