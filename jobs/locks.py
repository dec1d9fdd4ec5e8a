"""Run locks in Redis: one key per operation, shared by every worker on every host.

A run holds ``netsuite-sync:lock:<operation>`` (SET NX PX, value ``<run id>:<token>``)
while it lives; a daemon thread renews the expiry every third of it, so a
worker killed with SIGKILL stops renewing and its lock vanishes within one TTL.
Taking a lock also checks the keys of the conflicting operations in the same
Lua script, so 'reset accounting' and any export can never both hold theirs.

A lock can outlive its run when Redis went away before the run could release
it (the renewer stops, but the key keeps its TTL). Whoever wants the lock
then asks whether the holder's run is still alive; if its row says it is
over, the stale lock is deleted only while it still holds that very value,
and taken.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable

log = logging.getLogger(__name__)

KEY_PREFIX = "netsuite-sync:lock:"

# KEYS[1] = our lock, KEYS[2..] = conflicting locks; ARGV = value, ttl ms.
# Returns nil when taken, else {key, value} of the lock in the way.
_ACQUIRE = """
for i = 1, #KEYS do
  local holder = redis.call('GET', KEYS[i])
  if holder then return {KEYS[i], holder} end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return false
"""

# Renew or delete only while the key still holds our value: a lock that
# expired and was taken by someone else is theirs.
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def lock_key(operation: str) -> str:
    return KEY_PREFIX + operation


class LockHeld(Exception):
    """Another run holds this operation's lock or a conflicting one."""

    def __init__(self, holder_run_id: int | None):
        super().__init__(f"held by run {holder_run_id}")
        self.holder_run_id = holder_run_id


def holder_run_id(value: bytes | str | None) -> int | None:
    """The run id stored in a lock value (``<run id>:<token>``)."""
    if value is None:
        return None
    head = _text(value).partition(":")[0]
    return int(head) if head.isdigit() else None


def lock_holder(connection, operation: str) -> int | None:
    """The run currently holding ``operation``'s lock, if any."""
    return holder_run_id(connection.get(lock_key(operation)))


class RunLock:
    """The lock of one run; use as a context manager around the run.

    ``holder_alive(run_id)`` says whether the run holding a lock in the way is
    still queued or running; when it says no, that lock is stale and is taken
    over. Without it every lock in the way counts as alive.
    """

    def __init__(
        self,
        connection,
        operation: str,
        run_id: int,
        conflicts: set[str],
        ttl_seconds: float,
        holder_alive: Callable[[int], bool] | None = None,
    ):
        self.connection = connection
        self.key = lock_key(operation)
        self.others = [lock_key(name) for name in sorted(conflicts - {operation})]
        self.run_id = run_id
        self.holder_alive = holder_alive
        self.value = f"{run_id}:{uuid.uuid4().hex}"
        self.ttl_ms = max(1000, int(ttl_seconds * 1000))
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None
        self.lost = False

    def acquire(self) -> None:
        """Take the lock or raise ``LockHeld`` naming the live run in the way."""
        # Each pass clears at most one stale lock, so one pass per key plus the final take.
        for _ in range(2 + len(self.others)):
            blocking = self.connection.eval(
                _ACQUIRE, 1 + len(self.others), self.key, *self.others, self.value, self.ttl_ms
            )
            if blocking is None:
                break
            key, value = blocking
            holder = holder_run_id(value)
            if not self._stale(holder):
                raise LockHeld(holder)
            if self.connection.eval(_RELEASE, 1, key, value):
                log.warning("cleared %s left by run %s, which is no longer running", _text(key), holder)
        else:
            raise LockHeld(holder)
        self._renewer = threading.Thread(target=self._renew_forever, name=f"renew {self.key}", daemon=True)
        self._renewer.start()

    def _stale(self, holder: int | None) -> bool:
        # An earlier attempt of this very run (an RQ retry after Redis came back) is over:
        # this process is the one running it now.
        if holder == self.run_id:
            return True
        return holder is not None and self.holder_alive is not None and not self.holder_alive(holder)

    def _renew_forever(self) -> None:
        while not self._stop.wait(self.ttl_ms / 3000):
            try:
                if not self.connection.eval(_RENEW, 1, self.key, self.value, self.ttl_ms):
                    # Only if the process stalled longer than the TTL: say so, the run itself goes on.
                    self.lost = True
                    log.warning("lost %s before the run finished", self.key)
                    return
            except Exception:  # a Redis blip: try again at the next tick, the TTL covers us
                log.warning("could not renew %s", self.key, exc_info=True)

    def release(self) -> None:
        """Give the lock back; if Redis is away, leave it to expire or to be found stale."""
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join(timeout=5)
        try:
            self.connection.eval(_RELEASE, 1, self.key, self.value)
        except Exception:  # the run's outcome is already written: a lost release must not change it
            log.warning("could not release %s; the next run will find it stale", self.key, exc_info=True)

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()
