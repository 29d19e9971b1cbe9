"""`RateLimiter`: a token bucket per key (a client address, a conversation), in memory.

Each key may spend `burst` at once and earns `rate` per second back. Memory is bounded:
beyond `max_keys` the least recently seen keys are forgotten (a forgotten key starts
full again, which errs on the customer's side).

    >>> now = [0.0]
    >>> limiter = RateLimiter(rate=1.0, burst=2, clock=lambda: now[0])
    >>> [limiter.allow("203.0.113.9") for _ in range(3)]
    [True, True, False]
    >>> now[0] = 1.0
    >>> limiter.allow("203.0.113.9")
    True

Per process: with several processes behind a load balancer each holds its own buckets,
so the effective limit is the sum (SECURITY.md says so).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

MAX_KEYS = 100_000


class RateLimiter:
    def __init__(
        self,
        rate: float,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = MAX_KEYS,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("a rate limit needs rate > 0 and burst >= 1")
        self.rate, self.burst, self.clock, self.max_keys = rate, float(burst), clock, max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # tokens, at

    def allow(self, key: str, cost: float = 1.0) -> bool:
        """Spend `cost` from `key`'s bucket if it holds that much; whether it did."""
        now = self.clock()
        tokens, at = self._buckets.pop(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - at) * self.rate)
        allowed = tokens >= cost
        self._buckets[key] = (tokens - cost if allowed else tokens, now)
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return allowed

    def retry_after(self, key: str, cost: float = 1.0) -> float:
        """Seconds until `key` may spend `cost` (0: now)."""
        tokens, at = self._buckets.get(key, (self.burst, self.clock()))
        tokens = min(self.burst, tokens + (self.clock() - at) * self.rate)
        return max(0.0, (cost - tokens) / self.rate)
