"""Runs without Redis: the same job functions in one background thread per app."""

from __future__ import annotations

import pytest

from addon.cli import run_with_progress_bar
from addon.extension import session
from addon.models import LogEntry
from addon.runs import AlreadyRunning, run_progress
from jobs import submit
from jobs.inprocess import executor


def test_submit_returns_at_once_and_the_run_finishes_with_counts(ready):
    ready.netsuite.state.write_latency = 0.02
    run = submit("export_customers")
    assert run.status == "queued" and run.job_id == f"netsuite-run-{run.id}"
    executor().join()
    progress = run_progress(run.id)
    assert progress["status"] == "succeeded", progress["message"]
    assert progress["finished"] and progress["percent"] == 100
    assert progress["done"] == progress["total"] == sum(progress["counts"].values()) > 0
    logged = session().query(LogEntry).filter_by(run_id=run.id).count()
    assert logged == progress["done"]


def test_a_second_request_and_a_conflicting_one_are_refused_while_the_first_is_pending(ready):
    ready.netsuite.state.write_latency = 0.02
    first = submit("export_customers")
    with pytest.raises(AlreadyRunning) as same:
        submit("export_customers")
    with pytest.raises(AlreadyRunning) as conflict:
        submit("reset_accounting")
    executor().join()
    assert same.value.run_id == first.id
    assert "Export customers is already" in str(same.value) and f"run {first.id}" in str(same.value)
    assert "Reset accounting cannot start while Export customers" in str(conflict.value)
    assert run_progress(first.id)["status"] == "succeeded"
    # Once it has finished the same operation may run again.
    again = submit("export_customers")
    executor().join()
    assert run_progress(again.id)["counts"].get("unchanged") == run_progress(first.id)["counts"]["created"]


def test_a_job_given_a_parameter_it_does_not_take_fails_saying_so(ready):
    run = submit("load_mappings", params={"no_such_parameter": 1})
    executor().join()
    progress = run_progress(run.id)
    assert progress["status"] == "failed" and progress["finished"]
    assert progress["message"] == "Load mappings was given parameter no_such_parameter; it takes none."


def test_the_cli_path_runs_synchronously_with_a_progress_bar(ready, tmp_path):
    with open(tmp_path / "bar.txt", "w") as bar:
        run = run_with_progress_bar("export-customers", file=bar)
    assert run.status == "succeeded" and run.trigger == "cli"
    assert "records" in (tmp_path / "bar.txt").read_text()


def test_a_job_that_raises_leaves_a_failed_run_with_the_reason(ready, monkeypatch):
    from addon.sync import operations

    def spill(ctx, ledger) -> None:
        raise RuntimeError("the paint ran out")

    monkeypatch.setattr(operations, "OPERATIONS", dict(operations.OPERATIONS))
    operations.register(operations.Operation("spill_paint", "Spill paint", spill, systems=()))
    run = submit("spill_paint")
    executor().join()
    progress = run_progress(run.id)
    assert progress["status"] == "failed" and progress["finished"]
    assert progress["message"] == "Stopped by an unexpected error: RuntimeError: the paint ran out"
