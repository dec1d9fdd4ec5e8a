"""Concurrency governors: limits hold across threads and processes, dead holders' leases lapse."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis

from addon.netsuite import (
    LocalGovernor,
    NetSuiteClient,
    NetSuiteConfig,
    RedisGovernor,
    default_limit_from_governance,
)
from addon.netsuite.errors import GovernorTimeout

ACCOUNT = "1234567_SB1"


class InFlight:
    """Counts holders inside ``slot()`` and remembers the peak."""

    def __init__(self):
        self.lock = threading.Lock()
        self.now = 0
        self.peak = 0

    def hold(self, governor, seconds: float) -> None:
        with governor.slot():
            with self.lock:
                self.now += 1
                self.peak = max(self.peak, self.now)
            time.sleep(seconds)
            with self.lock:
                self.now -= 1


@pytest.mark.parametrize("limit", [1, 3])
def test_local_governor_caps_threads(limit):
    governor = LocalGovernor(limit)
    seen = InFlight()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: seen.hold(governor, 0.02), range(24)))
    assert seen.peak == limit


@pytest.mark.redis
def test_redis_governor_caps_threads_across_instances(redis_conn):
    # Two governor objects on one account key behave like two workers.
    governors = [RedisGovernor(redis_conn, ACCOUNT, limit=3, poll_interval=0.005) for _ in range(2)]
    seen = InFlight()
    with ThreadPoolExecutor(10) as pool:
        list(pool.map(lambda i: seen.hold(governors[i % 2], 0.02), range(40)))
    assert seen.peak == 3
    assert governors[0].in_use() == 0


@pytest.mark.redis
def test_redis_governor_accounts_are_separate(redis_conn):
    first = RedisGovernor(redis_conn, "111", limit=1)
    other = RedisGovernor(redis_conn, "222", limit=1)
    assert first.try_acquire() is not None
    assert first.try_acquire() is None
    assert other.try_acquire() is not None


def _hold_and_die(redis_url: str, account: str, lease_seconds: float, ready) -> None:
    governor = RedisGovernor(redis.Redis.from_url(redis_url), account, limit=1, lease_seconds=lease_seconds)
    governor.acquire()
    ready.set()
    os._exit(0)  # a crashed worker: no release, no cleanup


@pytest.mark.redis
def test_lease_of_a_dead_holder_expires(redis_conn, redis_url):
    ctx = multiprocessing.get_context("spawn")
    ready = ctx.Event()
    child = ctx.Process(target=_hold_and_die, args=(redis_url, ACCOUNT, 3.0, ready))
    child.start()
    child.join(30)
    assert ready.is_set() and child.exitcode == 0
    governor = RedisGovernor(redis_conn, ACCOUNT, limit=1, lease_seconds=3.0, acquire_timeout=20)
    assert governor.try_acquire() is None  # the dead holder's lease is still live
    lease = governor.acquire()  # ...until it lapses
    governor.release(lease)


@pytest.mark.redis
def test_live_holder_keeps_its_lease_past_lease_seconds(redis_conn):
    holder = RedisGovernor(redis_conn, ACCOUNT, limit=1, lease_seconds=1.5)
    other = RedisGovernor(redis_conn, ACCOUNT, limit=1, lease_seconds=1.5)
    with holder.slot():
        deadline = time.monotonic() + 3.5
        while time.monotonic() < deadline:
            assert other.try_acquire() is None
            time.sleep(0.25)
    assert other.try_acquire() is not None


@pytest.mark.redis
def test_acquire_gives_up_after_its_timeout(redis_conn):
    RedisGovernor(redis_conn, ACCOUNT, limit=1).try_acquire()
    waiting = RedisGovernor(redis_conn, ACCOUNT, limit=1, acquire_timeout=0.2, poll_interval=0.02)
    with pytest.raises(GovernorTimeout):
        waiting.acquire()


@pytest.mark.parametrize(
    ("limits", "expected"),
    [
        (None, 2),
        (
            {
                "accountConcurrencyLimit": 15,
                "accountUnallocatedConcurrencyLimit": 10,
                "integrationLimitType": "accountLimit",
            },
            9,
        ),
        (
            {
                "accountConcurrencyLimit": 15,
                "accountUnallocatedConcurrencyLimit": 10,
                "integrationConcurrencyLimit": 4,
                "integrationLimitType": "integrationSpecific",
            },
            4,
        ),
        (
            {
                "accountConcurrencyLimit": 5,
                "accountUnallocatedConcurrencyLimit": 1,
                "integrationLimitType": "internal",
            },
            1,
        ),
    ],
)
def test_default_limit_from_governance(limits, expected):
    assert default_limit_from_governance(limits) == expected


# -- against the sandbox: its peak in-flight counter is the referee ------------------------------


def _client_settings(sandbox) -> dict:
    return {**sandbox.tba_credentials(), "base_url": sandbox.url, "backoff_base": 0.001, "backoff_cap": 0.01}


def _call_through_redis_governor(settings: dict, redis_url: str, limit: int, calls: int) -> int:
    governor = RedisGovernor(
        redis.Redis.from_url(redis_url), settings["account_id"], limit, poll_interval=0.005
    )
    client = NetSuiteClient(NetSuiteConfig(**settings), governor=governor)
    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(lambda _: client.governance_limits(), range(calls)))
    return len(results)


@pytest.mark.redis
def test_redis_governor_caps_in_flight_requests_from_threads(netsuite_sandbox, redis_url, redis_conn):
    state = netsuite_sandbox.state
    state.latency = 0.02
    done = _call_through_redis_governor(_client_settings(netsuite_sandbox), redis_url, limit=2, calls=24)
    assert done == 24
    assert state.counters.peak_in_flight == 2
    assert state.counters.rejected_429 == 0


@pytest.mark.redis
def test_redis_governor_caps_in_flight_requests_from_two_processes(netsuite_sandbox, redis_url, redis_conn):
    state = netsuite_sandbox.state
    state.latency = 0.02
    settings = _client_settings(netsuite_sandbox)
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2) as pool:
        done = pool.starmap(_call_through_redis_governor, [(settings, redis_url, 3, 20)] * 2)
    assert done == [20, 20]
    assert state.counters.requests["GET governanceLimits"] == 40
    assert 1 < state.counters.peak_in_flight <= 3
    assert state.counters.rejected_429 == 0
