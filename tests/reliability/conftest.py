"""Fixtures of the fault-injection suite (fixtures only; plugins stay in tests/conftest.py)."""

from __future__ import annotations

import os

import pytest

from tests.reliability.audit import make_all_customers_valid

# The size: at least 300 invoices and 200 payments.
ISP_SIZE = {"customers": 110, "invoices": 320, "payments": 220}
REPORT_WINDOW = {"date_from": "2020-01-01", "date_to": "2030-12-31"}


@pytest.fixture
def make_isp(export_ready, make_splynx_sandbox):
    """Factory: point the mapped add-on at a new ISP (``make_splynx_sandbox`` options); with
    ``valid=True`` every customer is completed so every record must sync."""

    def make(*, valid: bool = True, seed: int = 11, **size):
        sandbox = make_splynx_sandbox(seed=seed, **size)
        if valid:
            make_all_customers_valid(sandbox.state)
        export_ready.use_splynx(sandbox)
        return export_ready

    return make


@pytest.fixture
def isp(make_isp):
    """A mapped ISP of the issue's size where every record is valid, so every record must sync."""
    return make_isp(**ISP_SIZE)


def fragile_context(setup, **overrides):
    """A ``SyncContext`` whose NetSuite client has short timeouts and backoff (the issue's
    'slower than the client timeout' must stay cheap in a test); everything else from settings."""
    from dataclasses import replace

    from addon.netsuite import NetSuiteClient
    from addon.sync.context import SyncContext, netsuite_config

    ctx = SyncContext.from_settings()
    options = {
        "read_timeout": 0.4,
        "write_timeout": 0.4,
        "backoff_base": 0.02,
        "backoff_cap": 0.1,
        # Backoff this short lets one call meet a whole burst of 429s and then a 5xx or a slow
        # answer: two more attempts keep a 20%-faulty run from stopping on one unlucky call.
        "max_attempts": 8,
    } | overrides
    config = replace(netsuite_config(ctx.values), **options)
    ctx._netsuite = NetSuiteClient(config)
    return ctx


@pytest.fixture
def private_redis(redis_url):
    """A Redis database of this suite's own (14 unless REDIS_URL names another), emptied around the test.

    The worker tests share Redis with a crash-test worker; a database of their own keeps
    other suites' queues and flushes out of the way when suites run side by side.
    """
    import redis

    url = redis_url.rsplit("/", 1)[0] + "/" + os.environ.get("RELIABILITY_REDIS_DB", "14")
    conn = redis.Redis.from_url(url)
    conn.flushdb()
    yield url, conn
    conn.flushdb()
    conn.close()


@pytest.fixture
def workers(database_url, private_redis, tmp_path):
    """Factory of real worker processes on this test's database and private Redis; all killed at the end."""
    from tests.reliability.workers import sigkill_tree, spawn_worker

    started = []

    def spawn(**env: str):
        process = spawn_worker(
            tmp_path / f"worker-{len(started)}.log",
            database_url=database_url,
            redis_url=private_redis[0],
            **env,
        )
        started.append(process)
        return process

    yield spawn
    for process in started:
        sigkill_tree(process)


@pytest.fixture(scope="session")
def tally():
    """The closing note's counts, summed over the suite and printed at the end (``-s``)."""
    counts = {"crash_points": 0, "faults_injected": 0, "duplicates": 0, "cents_lost": 0}
    yield counts
    print("\nreliability tally:", counts)
