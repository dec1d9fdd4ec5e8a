"""Runs without Redis: a CLI killed with -9, two CLIs at once, the database lost under a CLI.

Real ``flask netsuite sync`` processes run against the test database and the sandboxes
served by this process; nothing in them knows it is a test. Admission is the database's
partial unique index, so these hold on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import datetime

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from tests.plugins.jobs import wait_for
from tests.reliability.audit import audit
from tests.reliability.outages import TcpProxy
from tests.reliability.workers import REPO

SIZE = {"customers": 12, "invoices": 24, "payments": 12}


def _cli(app, database_url: str, *args: str, **env: str) -> subprocess.Popen:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("REDIS_URL", "NETSUITE_", "SPLYNX_"))}
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "netsuite", *args],
        cwd=REPO,
        env={
            **clean,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test-secret-key",
            "INSTANCE_PATH": app.instance_path,
            **env,
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _runs():
    from addon.extension import session
    from addon.models import SyncRun

    session().rollback()
    return session().query(SyncRun).order_by(SyncRun.id).populate_existing().all()


def _running_run():
    runs = [run for run in _runs() if run.status == "running"]
    return runs[0] if runs else None


@pytest.fixture
def slow_isp(make_isp):
    setup = make_isp(**SIZE)
    setup.env.netsuite.state.write_latency = 0.15  # long enough to act in the middle of a run
    return setup


def test_a_cli_killed_with_sigkill_never_blocks_the_next_run(slow_isp, database_url, tally):
    app, state = slow_isp.env.app, slow_isp.env.netsuite.state
    victim = _cli(app, database_url, "sync")
    wait_for(lambda: state.counters.writes >= 3, "the first CLI to write")
    killed = _running_run()
    assert killed is not None and killed.pid == victim.pid and killed.host
    victim.send_signal(signal.SIGKILL)
    victim.wait()

    state.write_latency = None
    second = _cli(app, database_url, "sync")
    output, _ = second.communicate(timeout=240)
    assert second.returncode == 0, output
    runs = {run.id: run for run in _runs()}
    assert runs[killed.id].status == "failed"
    assert f"pid {victim.pid}" in runs[killed.id].message and "gone" in runs[killed.id].message
    result = audit(slow_isp.env.splynx.state, state.store, require_all_synced=True)
    tally["crash_points"] += 1
    tally["duplicates"] += result.duplicates
    result.assert_clean()


@pytest.mark.parametrize("trial", range(3))
def test_two_clis_started_together_never_both_run(slow_isp, database_url, trial, tally):
    app = slow_isp.env.app
    first, second = _cli(app, database_url, "sync"), _cli(app, database_url, "export-customers")
    outputs = {}
    for process in (first, second):
        try:
            outputs[process.pid] = process.communicate(timeout=240)[0]
        except subprocess.TimeoutExpired:
            process.kill()
            outputs[process.pid] = process.communicate()[0]
    refused = [
        p for p in (first, second) if "already running" in outputs[p.pid] or "cannot start" in outputs[p.pid]
    ]
    assert len(refused) == 1, outputs
    assert refused[0].returncode == 2
    ran = [run for run in _runs() if run.status not in ("queued", "running")]
    assert len(ran) == 1, [(r.operation, r.status, r.message) for r in _runs()]
    tally["overlaps_refused"] = tally.get("overlaps_refused", 0) + 1


def test_a_full_sync_and_a_single_export_conflict_with_a_clear_message(slow_isp):
    from addon.extension import session
    from addon.models import SyncRun
    from addon.runs import AlreadyRunning
    from addon.sync.operations import lane_of
    from jobs import submit

    # A sync this very process is running (alive pid): the export must wait for it.
    sync = SyncRun(operation="sync", trigger="cli", status="running", lane=lane_of("sync"), pid=os.getpid())
    sync.host = __import__("socket").gethostname()
    sync.started_at = datetime.utcnow()
    session().add(sync)
    session().commit()
    with pytest.raises(AlreadyRunning) as refused:
        submit("export_customers", wait=True)
    assert "Export customers cannot start while Full sync is running" in str(refused.value)
    assert [run.operation for run in _runs()] == ["sync"]


def test_the_database_itself_refuses_a_second_active_run_of_a_lane(app_ctx):
    """The rule holds even for a writer that skips every check in jobs.submit."""
    from addon.extension import session
    from addon.models import SyncRun

    session().add(SyncRun(operation="sync", status="running", lane="accounting"))
    session().commit()
    session().add(SyncRun(operation="export_invoices", status="queued", lane="accounting"))
    with pytest.raises(IntegrityError):
        session().commit()
    session().rollback()
    session().add(SyncRun(operation="export_invoices", status="succeeded", lane="accounting"))
    session().add(SyncRun(operation="load_mappings", status="queued", lane="load_mappings"))
    session().commit()


def test_database_lost_under_a_cli_exits_2_with_the_reason_and_the_run_is_closed_with_it(
    slow_isp, database_url, tally
):
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        pytest.skip("the database is cut through a TCP proxy: PostgreSQL only")
    app, state = slow_isp.env.app, slow_isp.env.netsuite.state
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    via_proxy = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    try:
        cli = _cli(app, via_proxy, "sync", NETSUITE_ADDON_FAIL_WRITE_BACKOFF="0.05")
        wait_for(lambda: state.counters.writes >= 3, "the CLI to write")
        lost = _running_run()
        proxy.cut()
        output, _ = cli.communicate(timeout=240)
    finally:
        proxy.close()
    assert cli.returncode == 2, output
    assert "Traceback" not in output, output
    assert f"run {lost.id} stopped: Database unavailable" in output, output

    from jobs import submit

    state.write_latency = None
    rerun = submit("sync", wait=True)
    assert rerun.status == "succeeded", rerun.message
    closed = {run.id: run for run in _runs()}[lost.id]
    assert closed.status == "failed"
    assert closed.message.startswith("Database unavailable"), closed.message
    tally["faults_injected"] += 1
    result = audit(slow_isp.env.splynx.state, state.store, require_all_synced=True)
    tally["duplicates"] += result.duplicates
    result.assert_clean()


def test_raw_database_error_text_never_reaches_a_run_message(configured, monkeypatch):
    import dataclasses

    import sqlalchemy.exc

    from addon.sync import operations
    from jobs import submit

    statement = "INSERT INTO ns_link (entity, billing_id) VALUES (%(entity)s, %(billing_id)s)"

    def boom(ctx, ledger, **params):
        raise sqlalchemy.exc.IntegrityError(
            statement,
            {"entity": "customer", "billing_id": "secret-customer-42"},
            Exception(
                'duplicate key value violates unique constraint "uq_ns_link_entity_billing"\nDETAIL: x'
            ),
        )

    declared = operations.operation("load_netsuite_customers")
    monkeypatch.setitem(operations.OPERATIONS, declared.name, dataclasses.replace(declared, function=boom))
    run = submit("load_netsuite_customers", wait=True)
    assert run.status == "failed"
    assert "uq_ns_link_entity_billing" in run.message
    for leaked in ("INSERT INTO", "secret-customer-42", "DETAIL", "%(entity)s"):
        assert leaked not in run.message, run.message


def test_links_written_meanwhile_by_another_run_are_upserted(app_ctx):
    from addon.extension import session
    from addon.models import Link
    from addon.sync.links import LinkWriter

    def link(netsuite_id: str, content_hash: str) -> None:
        writer = LinkWriter("customer")
        writer.add(7, netsuite_id, content_hash=content_hash, exists=False)  # read before the others
        writer.write()
        session().commit()

    link("100", "a")
    link("200", "b")  # another run linked it meanwhile: no unique-index error
    link("300", "c")
    rows = session().query(Link).filter_by(entity="customer", billing_id="7").all()
    assert [(row.netsuite_id, row.content_hash) for row in rows] == [("300", "c")]


def test_the_partial_index_exists_after_migrations(tmp_path):
    from wsgi import create_app

    url = f"sqlite:///{tmp_path / 'migrated.sqlite'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "x", "TESTING": True})
    assert app.test_cli_runner().invoke(args=["db", "upgrade"]).exit_code == 0
    engine = create_engine(url)
    with engine.connect() as conn:
        conn.execute(
            text(
                "INSERT INTO ns_sync_run (operation, trigger, dry_run, status, done, created_at, lane) "
                "VALUES ('sync', 'cli', 0, 'running', 0, '2026-01-01', 'accounting')"
            )
        )
        with pytest.raises(IntegrityError):
            conn.execute(
                text(
                    "INSERT INTO ns_sync_run (operation, trigger, dry_run, status, done, created_at, lane) "
                    "VALUES ('export_invoices', 'cli', 0, 'queued', 0, '2026-01-01', 'accounting')"
                )
            )
    engine.dispose()
