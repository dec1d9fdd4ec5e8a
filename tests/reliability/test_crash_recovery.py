"""A real worker process SIGKILLed in the middle of a full sync, five times, then left to finish.

Every kill lands at a random point (seeded) measured in NetSuite writes, so crashes fall in
the customer, invoice, credit note and payment phases alike, including between NetSuite's
commit and the link write. The next run must pick up where the dead one stopped, create no
second record and end with both sides agreeing to the cent.
"""

from __future__ import annotations

import random

import pytest

from tests.plugins.jobs import wait_for
from tests.reliability.audit import audit
from tests.reliability.conftest import REPORT_WINDOW
from tests.reliability.workers import sigkill_tree

KILLS = 5
SEED = 20240611

pytestmark = [pytest.mark.slow, pytest.mark.redis]


def test_sigkilled_worker_five_times_then_finishes_with_one_record_each(isp, private_redis, workers, tally):
    from addon.extension import session
    from addon.models import SyncRun
    from addon.runs import run_progress
    from addon.sync.operations import run_operation
    from jobs import submit
    from jobs.locks import lock_holder
    from jobs.sweeper import sweep

    redis_url, redis_conn = private_redis
    app = isp.env.app
    app.config["NETSUITE_ADDON_REDIS_URL"] = redis_url
    app.config["NETSUITE_ADDON_SWEEP_AFTER"] = 0
    state = isp.env.netsuite.state
    # A little write latency keeps requests in flight when the kill lands.
    state.write_latency = 0.01
    expected_writes = sum(
        len(isp.env.splynx.state.all(e)) for e in ("customers", "invoices", "credit_notes", "payments")
    )
    points = sorted(random.Random(SEED).sample(range(5, expected_writes - 5), KILLS))

    worker_env = {"NETSUITE_ADDON_LOCK_TTL": "1", "NETSUITE_ADDON_SWEEP_AFTER": "0"}
    for point in points:
        run = submit("sync")
        worker = workers(**worker_env)
        wait_for(lambda p=point: state.counters.writes >= p, f"{point} NetSuite writes", timeout=120)
        assert sigkill_tree(worker) >= 2, "the worker had no work horse to kill"
        assert run_progress(run.id)["status"] == "running", "the run finished before the kill"
        wait_for(lambda: lock_holder(redis_conn, "sync") is None, "the dead worker's lock to lapse")
        assert run.id in sweep()
        tally["crash_points"] += 1

    final = submit("sync")
    workers(**worker_env)
    wait_for(lambda: run_progress(final.id)["finished"], "the last run to finish", timeout=180, interval=0.5)
    session().expire_all()
    final = session().get(SyncRun, final.id)
    assert final.status == "succeeded", (final.status, final.message, final.counts)

    result = audit(isp.env.splynx.state, state.store, require_all_synced=True)
    tally["duplicates"] += result.duplicates
    tally["cents_lost"] += int(result.cents_lost * 100)
    result.assert_clean()

    app.config["NETSUITE_ADDON_REDIS_URL"] = None
    report = run_operation("reconcile", params=REPORT_WINDOW).result
    assert report["agree"] and report["discrepancy_count"] == 0, report["discrepancies"][:10]
    assert all(side["difference"] == "0.00" for side in report["entities"].values())

    # Job metadata and everything else the worker left in Redis hold no secret.
    credentials = [state.consumer_secret, state.default_token.token_secret, isp.env.splynx.api_secret]
    for key in redis_conn.scan_iter():
        for value in readable_values(redis_conn, key):
            assert not any(secret.encode() in value for secret in credentials), key


def readable_values(connection, key) -> list[bytes]:
    """Every value under ``key`` as the bytes a reader could recover: RQ keeps a job's data and
    exc_info zlib-compressed, so a secret inside would not show in the raw bytes."""
    import zlib

    kind = connection.type(key)
    if kind == b"string":
        raw = [connection.get(key)]
    elif kind == b"hash":
        raw = list(connection.hgetall(key).values())
    elif kind == b"list":
        raw = connection.lrange(key, 0, -1)
    elif kind in (b"set", b"zset"):
        raw = list(connection.smembers(key)) if kind == b"set" else connection.zrange(key, 0, -1)
    else:
        raw = []
    found = []
    for value in raw:
        value = value or b""
        found.append(value)
        try:
            found.append(zlib.decompress(value))
        except zlib.error:
            pass
    return found
