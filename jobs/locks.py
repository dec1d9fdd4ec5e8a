"""Run locks in Redis: one key per operation, shared by every worker on every host.

A run holds ``netsuite-sync:lock:<operation>`` (SET NX PX, value ``<run id>:<token>``)
while it lives; a daemon thread renews the expiry every third of it, so a
worker killed with SIGKILL stops renewing and its lock vanishes within one TTL.
Taking a lock also checks the keys of the conflicting operations in the same
Lua script, so 'reset accounting' and any export can never both hold theirs.
"""

from __future__ import annotations

import logging
import threading
import uuid

log = logging.getLogger(__name__)

KEY_PREFIX = "netsuite-sync:lock:"

# KEYS[1] = our lock, KEYS[2..] = conflicting locks; ARGV = value, ttl ms.
# Returns nil when taken, else the value of the lock in the way.
_ACQUIRE = """
for i = 1, #KEYS do
  local holder = redis.call('GET', KEYS[i])
  if holder then return holder end
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
    text = value.decode() if isinstance(value, bytes) else value
    head = text.partition(":")[0]
    return int(head) if head.isdigit() else None


def lock_holder(connection, operation: str) -> int | None:
    """The run currently holding ``operation``'s lock, if any."""
    return holder_run_id(connection.get(lock_key(operation)))


class RunLock:
    """The lock of one run; use as a context manager around the run."""

    def __init__(self, connection, operation: str, run_id: int, conflicts: set[str], ttl_seconds: float):
        self.connection = connection
        self.key = lock_key(operation)
        self.others = [lock_key(name) for name in sorted(conflicts - {operation})]
        self.value = f"{run_id}:{uuid.uuid4().hex}"
        self.ttl_ms = max(1000, int(ttl_seconds * 1000))
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None
        self.lost = False

    def acquire(self) -> None:
        """Take the lock or raise ``LockHeld`` naming the run in the way."""
        holder = self.connection.eval(
            _ACQUIRE, 1 + len(self.others), self.key, *self.others, self.value, self.ttl_ms
        )
        if holder is not None:
            raise LockHeld(holder_run_id(holder))
        self._renewer = threading.Thread(target=self._renew_forever, name=f"renew {self.key}", daemon=True)
        self._renewer.start()

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
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join(timeout=5)
        self.connection.eval(_RELEASE, 1, self.key, self.value)

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()
