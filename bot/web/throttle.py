"""`SignInThrottle`: exponential backoff after failed console sign-ins.

Two counters, as OWASP's Authentication Cheat Sheet suggests: one per account (guessing
one agent's password from anywhere) and one per client address (trying a few passwords
on many accounts). Each allows a few failures, then locks for 2 s, 4 s, 8 s … up to 15
minutes per further failure; a sign-in while locked is answered 429 with Retry-After,
without checking the password (so it costs no scrypt either, and does not count). A
successful sign-in clears its account's counter; the address counter only fades, so one
good account of an attacker's own cannot wash out its guesses at others. A counter is
forgotten a day after its last failure.

In memory, per web front process: the console's live stream already assumes one web
front (docs/architecture.md). A restart forgets the counters.

    >>> throttle = SignInThrottle(clock=lambda: 0.0)
    >>> for _ in range(5):
    ...     throttle.failed("dana", "203.0.113.9")
    >>> throttle.retry_after("dana", "198.51.100.1")  # the account, from anywhere
    2.0
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

ACCOUNT_FREE_FAILURES = 5
ADDRESS_FREE_FAILURES = 20
BASE_DELAY_SECONDS = 2.0
MAX_DELAY_SECONDS = 15 * 60.0
FORGET_AFTER_SECONDS = 24 * 3600.0
MAX_TRACKED = 100_000  # per table; the least recently failed are dropped beyond it


@dataclass
class _Failures:
    count: int = 0
    last: float = 0.0
    locked_until: float = 0.0


class _Counter:
    """Failures per key with exponential lockout; bounded in size."""

    def __init__(self, free: int, base: float, cap: float, forget: float, size: int) -> None:
        self.free, self.base, self.cap, self.forget, self.size = free, base, cap, forget, size
        self.entries: OrderedDict[str, _Failures] = OrderedDict()

    def retry_after(self, key: str, now: float) -> float:
        entry = self.entries.get(key)
        if entry is None:
            return 0.0
        if now - entry.last > self.forget:
            del self.entries[key]
            return 0.0
        return max(0.0, entry.locked_until - now)

    def failed(self, key: str, now: float) -> None:
        entry = self.entries.pop(key, None)
        if entry is None or now - entry.last > self.forget:
            entry = _Failures()
        entry.count += 1
        entry.last = now
        if entry.count >= self.free:
            delay = min(self.cap, self.base * 2 ** min(entry.count - self.free, 32))
            entry.locked_until = now + delay
        self.entries[key] = entry  # most recent last
        while len(self.entries) > self.size:
            self.entries.popitem(last=False)

    def clear(self, key: str) -> None:
        self.entries.pop(key, None)


class SignInThrottle:
    """Whether a sign-in may be tried now, per account and per client address."""

    def __init__(
        self,
        account_free: int = ACCOUNT_FREE_FAILURES,
        address_free: int = ADDRESS_FREE_FAILURES,
        base_delay: float = BASE_DELAY_SECONDS,
        max_delay: float = MAX_DELAY_SECONDS,
        forget_after: float = FORGET_AFTER_SECONDS,
        max_tracked: int = MAX_TRACKED,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.accounts = _Counter(account_free, base_delay, max_delay, forget_after, max_tracked)
        self.addresses = _Counter(address_free, base_delay, max_delay, forget_after, max_tracked)
        self.clock = clock

    @staticmethod
    def account_key(username: str) -> str:
        return username.strip().lower()

    def retry_after(self, username: str, address: str) -> float:
        """Seconds until a sign-in to `username` from `address` may be tried (0: now)."""
        now = self.clock()
        return max(
            self.accounts.retry_after(self.account_key(username), now),
            self.addresses.retry_after(address, now),
        )

    def failed(self, username: str, address: str) -> None:
        now = self.clock()
        self.accounts.failed(self.account_key(username), now)
        self.addresses.failed(address, now)

    def succeeded(self, username: str) -> None:
        self.accounts.clear(self.account_key(username))
