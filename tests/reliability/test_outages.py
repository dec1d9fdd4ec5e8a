"""The database or Redis going away in the middle of a run: the run fails cleanly, its row says
why once the database is back, and a rerun completes without a duplicate."""

from __future__ import annotations

import pytest

from tests.reliability.audit import audit
from tests.reliability.outages import DatabaseOutage, TcpProxy, when_writes_reach

pytestmark = pytest.mark.redis


def finished_run(run_id):
    from addon.extension import session
    from addon.models import SyncRun

    session().rollback()
    session().expire_all()
    return session().get(SyncRun, run_id)


def test_redis_lost_mid_run_fails_cleanly_and_the_rerun_completes(make_isp, private_redis, tally):
    from jobs import submit

    redis_url, _ = private_redis
    host_port, db = redis_url.removeprefix("redis://").split("/", 1)
    host, port = host_port.rsplit(":", 1)
    proxy = TcpProxy(host, int(port))
    setup = make_isp(customers=30, invoices=60, payments=40)
    app, state = setup.env.app, setup.env.netsuite.state
    app.config["NETSUITE_ADDON_REDIS_URL"] = f"redis://127.0.0.1:{proxy.port}/{db}"
    try:
        watcher = when_writes_reach(state, 40, proxy.cut)
        run = submit("sync", wait=True)
        watcher.join()
        run = finished_run(run.id)
        assert run.status == "failed", (run.status, run.message)
        assert (run.message or "").startswith("Redis unavailable: "), run.message
        assert run.finished_at is not None
        writes_when_cut = state.counters.writes

        proxy.restore()
        rerun = finished_run(submit("sync", wait=True).id)
    finally:
        proxy.close()
    assert rerun.status == "succeeded", (rerun.message, rerun.counts)
    assert writes_when_cut < state.counters.writes
    tally["faults_injected"] += 1
    result = audit(setup.env.splynx.state, state.store, require_all_synced=True)
    tally["duplicates"] += result.duplicates
    result.assert_clean()


def test_database_lost_mid_run_fails_cleanly_says_why_and_the_rerun_completes(make_isp, database_url, tally):
    from jobs import submit
    from jobs.sweeper import sweep

    setup = make_isp(customers=30, invoices=60, payments=40)
    app, state = setup.env.app, setup.env.netsuite.state
    # One quick retry of the failure write: each attempt waits out SQLite's busy timeout.
    app.config["NETSUITE_ADDON_FAIL_WRITE_BACKOFF"] = "0.05"
    outage = DatabaseOutage(database_url)
    watcher = when_writes_reach(state, 40, outage.begin)
    raised = None
    try:
        submit("sync", wait=True)
    except Exception as exc:  # the caller may see the outage too; the run row is what must tell
        raised = exc
    finally:
        watcher.join(timeout=60)
        outage.end()
    assert outage.started.is_set()
    # The database is back: a worker starting now sweeps whatever the outage left behind.
    app.config["NETSUITE_ADDON_SWEEP_AFTER"] = 0
    sweep()
    from addon.extension import session
    from addon.models import SyncRun

    run = finished_run(session().query(SyncRun.id).order_by(SyncRun.id).first()[0])
    assert run.status == "failed", (run.status, run.message, raised)
    message = (run.message or "").lower()
    assert message.startswith("database unavailable: operationalerror"), run.message

    rerun = finished_run(submit("sync", wait=True).id)
    assert rerun.status == "succeeded", (rerun.message, rerun.counts)
    tally["faults_injected"] += 1
    result = audit(setup.env.splynx.state, state.store, require_all_synced=True)
    tally["duplicates"] += result.duplicates
    result.assert_clean()
