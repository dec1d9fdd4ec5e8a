"""Concurrency governors: keep in-flight NetSuite requests under the account's limit.

NetSuite counts concurrent requests per ACCOUNT across every process and integration and
answers 429 once the pool is full (docs/netsuite-rest.md §8). Every HTTP request holds one slot for
its whole duration. ``RedisGovernor`` shares the count between all workers on all hosts;
``LocalGovernor`` covers a single process without Redis.
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
import uuid
import weakref
from collections.abc import Iterator
from typing import Any, Protocol

from .errors import GovernorTimeout

# Fallback when the role may not read governanceLimits: the reference's advice is 2–4
# (docs/netsuite-rest.md §8).
DEFAULT_LIMIT = 2


class Governor(Protocol):
    def slot(self) -> contextlib.AbstractContextManager[None]:
        """Hold one concurrency slot for the duration of the ``with`` block."""


class LocalGovernor:
    """In-process limit: a bounded semaphore shared by the threads of one process."""

    def __init__(self, limit: int):
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.limit = limit
        self._semaphore = threading.BoundedSemaphore(limit)

    @contextlib.contextmanager
    def slot(self) -> Iterator[None]:
        with self._semaphore:
            yield


# KEYS[1] = lease set; ARGV = limit, lease seconds, lease id. Server time, so clocks of
# different hosts never disagree about which leases are stale.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
  redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2])) + 60)
  return 1
end
return 0
"""

# ARGV = lease seconds, lease ids... Only leases still present are extended (XX).
_RENEW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local renewed = 0
for i = 2, #ARGV do
  renewed = renewed + redis.call('ZADD', KEYS[1], 'XX', 'CH', now + tonumber(ARGV[1]), ARGV[i])
end
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[1])) + 60)
return renewed
"""


class RedisGovernor:
    """Account-wide semaphore in Redis: a sorted set of lease ids scored by expiry.

    A holder that dies stops renewing, so its lease lapses after ``lease_seconds`` and the
    slot returns to the pool. Live holders are renewed by one daemon thread per governor
    every ``lease_seconds / 3``, so a slow NetSuite write never loses its slot.
    """

    def __init__(
        self,
        redis_client: Any,
        account_id: str,
        limit: int,
        lease_seconds: float = 30.0,
        poll_interval: float = 0.05,
        acquire_timeout: float | None = 900.0,
    ):
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.limit = limit
        self.key = f"netsuite:governor:{account_id}"
        self.lease_seconds = lease_seconds
        self.poll_interval = poll_interval
        self.acquire_timeout = acquire_timeout
        self._redis = redis_client
        self._acquire = redis_client.register_script(_ACQUIRE)
        self._renew = redis_client.register_script(_RENEW)
        self._held: set[str] = set()
        self._lock = threading.Lock()
        self._renewer: threading.Thread | None = None

    def try_acquire(self) -> str | None:
        """Take a slot without waiting; returns the lease id, or None when the pool is full."""
        lease = uuid.uuid4().hex
        if self._acquire(keys=[self.key], args=[self.limit, self.lease_seconds, lease]):
            with self._lock:
                self._held.add(lease)
                self._start_renewer()
            return lease
        return None

    def acquire(self) -> str:
        """Wait for a slot (short randomised sleeps) up to ``acquire_timeout`` seconds."""
        deadline = None if self.acquire_timeout is None else time.monotonic() + self.acquire_timeout
        while (lease := self.try_acquire()) is None:
            if deadline is not None and time.monotonic() >= deadline:
                raise GovernorTimeout(f"no NetSuite concurrency slot free within {self.acquire_timeout:g} s")
            time.sleep(self.poll_interval * random.uniform(0.5, 1.5))
        return lease

    def release(self, lease: str) -> None:
        with self._lock:
            self._held.discard(lease)
        self._redis.zrem(self.key, lease)

    @contextlib.contextmanager
    def slot(self) -> Iterator[None]:
        lease = self.acquire()
        try:
            yield
        finally:
            self.release(lease)

    def in_use(self) -> int:
        """Live leases right now (expired ones are not counted)."""
        now = self._redis.time()
        return int(self._redis.zcount(self.key, now[0] + now[1] / 1_000_000, "+inf"))

    def _start_renewer(self) -> None:
        if self._renewer is None or not self._renewer.is_alive():
            # A weak reference lets an unused governor be collected; the thread then exits.
            self._renewer = threading.Thread(
                target=_renew_forever, args=(weakref.ref(self),), name="netsuite-lease-renewer", daemon=True
            )
            self._renewer.start()

    def _renew_held(self) -> bool:
        with self._lock:
            held = list(self._held)
        if held:
            self._renew(keys=[self.key], args=[self.lease_seconds, *held])
        return bool(held)


def _renew_forever(ref: weakref.ref) -> None:
    while True:
        governor = ref()
        if governor is None:
            return
        interval = governor.lease_seconds / 3
        with contextlib.suppress(Exception):  # a Redis blip must not kill the renewer
            governor._renew_held()
        del governor
        time.sleep(interval)


def default_limit_from_governance(limits: dict | None) -> int:
    """Slots this integration should use, from ``NetSuiteClient.governance_limits()``.

    A limit allocated to this integration is ours alone. Otherwise the unallocated pool is
    shared with every other integration, so leave one slot for them (min 1) (docs/netsuite-rest.md §8;
    Salto does the same). ``None`` (role may not read the limits) gives ``DEFAULT_LIMIT``.
    """
    if not limits:
        return DEFAULT_LIMIT
    if limits.get("integrationLimitType") == "integrationSpecific" and limits.get(
        "integrationConcurrencyLimit"
    ):
        return max(1, int(limits["integrationConcurrencyLimit"]))
    pool = limits.get("accountUnallocatedConcurrencyLimit") or limits.get("accountConcurrencyLimit")
    if not pool:
        return DEFAULT_LIMIT
    return max(1, int(pool) - 1)
