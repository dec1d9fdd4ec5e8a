"""Live sync with Redis and real RQ worker processes: an acknowledged event outlives a worker
SIGKILLed before its export, and its record still reaches NetSuite exactly once."""

from __future__ import annotations

import pytest

from addon.sync.links import external_id
from sandbox.splynx.hooks import issue_invoices
from tests.plugins.jobs import kill_hard, wait_for
from tests.plugins.live import SECRET, events, live_runs, settled

pytestmark = pytest.mark.redis


def test_an_acknowledged_event_survives_a_killed_worker_and_is_exported_once(
    export_ready,
    redis_jobs,
    redis_conn,
    receiver,
    spawn_worker,
):
    from jobs.locks import lock_holder
    from jobs.sweeper import sweep

    app = redis_jobs.app
    app.config["NETSUITE_ADDON_SWEEP_AFTER"] = 0
    export_ready.env.settings(
        splynx_hook_secret=SECRET, live_invoice=True, live_debounce="0.1", splynx_accounting_id_attribute=""
    )
    splynx = redis_jobs.splynx.state
    splynx.hooks.add(receiver, SECRET)
    [invoice_id] = issue_invoices(splynx, 1)
    assert splynx.hooks.wait_idle()
    assert [d["status"] for d in splynx.hooks.deliveries] == [200]
    [event] = events()
    assert event.status == "waiting"  # acknowledged, durable, nothing run yet: no worker is up

    # The worker's run blocks on its first billing read; it is killed there, before any export.
    splynx.latency = 60
    seen = sum(splynx.requests.values())
    worker = spawn_worker(NETSUITE_ADDON_LOCK_TTL="1", NETSUITE_ADDON_SWEEP_AFTER="0")
    wait_for(lambda: [r for r in live_runs() if r.status == "running"], "the live run to start")
    wait_for(lambda: sum(splynx.requests.values()) > seen, "the run's billing read")
    kill_hard(worker)
    splynx.latency = 0
    assert not [
        r
        for r in export_ready.ns_records("invoice")
        if r.get("externalId") == external_id("invoice", invoice_id)
    ]
    wait_for(lambda: lock_holder(redis_conn, "live_invoices") is None, "the dead worker's lock to lapse")
    [dead] = live_runs()
    assert dead.id in sweep()  # ... which also starts the event's next live run

    spawn_worker(NETSUITE_ADDON_LOCK_TTL="1", NETSUITE_ADDON_SWEEP_AFTER="0")
    wait_for(lambda: events(status="done") and settled(), "the event's second live run", timeout=120)
    failed, finished = live_runs()
    assert (failed.status, finished.status, finished.trigger) == ("failed", "succeeded", "live")
    assert finished.result["events"] == 1
    exported = [
        r
        for r in export_ready.ns_records("invoice")
        if r.get("externalId") == external_id("invoice", invoice_id)
    ]
    assert len(exported) == 1
    [event] = events()
    assert (event.status, event.run_id) == ("done", finished.id)
