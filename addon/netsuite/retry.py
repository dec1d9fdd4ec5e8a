"""Retry budget: exponential backoff with full jitter, bounded by attempts and total time.

NetSuite sends no ``Retry-After`` on 429 (docs/netsuite-rest.md §8), so backoff is the only signal;
a ``Retry-After`` from a proxy in front of it is still honoured.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class RetryBudget:
    """Tracks one logical call's attempts; ``next_delay`` says how long to wait, or None to stop."""

    max_attempts: int
    max_seconds: float
    base: float
    cap: float
    clock: Callable[[], float] = time.monotonic
    rng: random.Random = field(default_factory=random.Random)
    attempts: int = 0
    started: float | None = None

    def start_attempt(self) -> None:
        if self.started is None:
            self.started = self.clock()
        self.attempts += 1

    def next_delay(self, retry_after: float | None = None) -> float | None:
        """Delay before the next attempt, or None when attempts or time are used up."""
        if self.attempts >= self.max_attempts:
            return None
        ceiling = min(self.cap, self.base * 2 ** (self.attempts - 1))
        delay = retry_after if retry_after is not None else self.rng.uniform(0, ceiling)
        elapsed = self.clock() - (self.started or self.clock())
        if elapsed + delay > self.max_seconds:
            return None
        return delay
