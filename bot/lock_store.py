"""`AtomicRedisLockStore`: one turn at a time per conversation, across Rasa servers.

Several Rasa servers share conversations through a lock store; Rasa 3.6's own
`RedisLockStore` reads a ticket lock, changes it in Python and writes it back (two
servers can take the same ticket), and lets a ticket expire after 60 s even while its
turn still runs. This one:

- **takes tickets with INCR**, atomic in Redis: messages are served in the order any
  server received them;
- **decides whose turn it is in one Lua script** (drop lapsed tickets; is mine the
  lowest?), atomic too, using Redis's own clock, so the servers' clocks do not matter;
- **leases, renewed**: each ticket, waiting or served, is renewed every `LEASE_SECONDS`
  / 3 while its server lives, so a long turn keeps its lock, and the ticket of a server
  that died (killed mid-turn) lapses within `LEASE_SECONDS`, letting the next message in;
- **says when Redis is down** (`LockStoreUnavailable`, naming the URL and the fix)
  instead of falling back to a lock in one server's memory, which would let two servers
  run turns of one conversation at once.

endpoints.yml of the production profile:

    lock_store:
      type: bot.lock_store.AtomicRedisLockStore
      url: redis://127.0.0.1:6379/0
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LockError, LockStore
from rasa.utils.endpoints import EndpointConfig

from core.database import redact

logger = logging.getLogger(__name__)

LEASE_SECONDS = 10.0  # a ticket lapses this long after its server last renewed it
WAIT_LIMIT_SECONDS = 120.0  # a message waiting longer for its turn fails with LockError
KEY_PREFIX = "brightbasket:lock:"
IDLE_EXPIRY_MS = 24 * 3600 * 1000  # keys of a conversation with no new ticket go after a day
POLL_SECONDS = (0.005, 0.1)  # from the first wait for a turn to the longest
RENEWER_STOP_SECONDS = 1.0  # how long a finished turn waits for its renewer to stop

# KEYS: counter, queue (ticket -> ticket, ordered), leases (ticket -> end, ms of Redis's
# clock). ARGV: lease ms. Returns the new ticket.
ENQUEUE = """
local ticket = redis.call('INCR', KEYS[1])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[2], ticket, ticket)
redis.call('HSET', KEYS[3], ticket, now + tonumber(ARGV[1]))
for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], tonumber(ARGV[2])) end
return ticket
"""
# KEYS: queue, leases. ARGV: ticket. Returns 1 (its turn), 0 (wait), -1 (it lapsed).
TURN = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
while true do
  local first = redis.call('ZRANGE', KEYS[1], 0, 0)[1]
  if not first then break end
  local ends = tonumber(redis.call('HGET', KEYS[2], first) or '0')
  if ends >= now then break end
  redis.call('ZREM', KEYS[1], first)
  redis.call('HDEL', KEYS[2], first)
end
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return -1 end
if redis.call('ZRANGE', KEYS[1], 0, 0)[1] == ARGV[1] then return 1 end
return 0
"""
# KEYS: queue, leases. ARGV: ticket, lease ms. Returns 1, or 0 when it had lapsed.
RENEW = """
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSET', KEYS[2], ARGV[1], now + tonumber(ARGV[2]))
return 1
"""


class LockStoreUnavailable(LockError):
    """Redis cannot be reached: the turn cannot be run safely on any server."""


class TicketLapsed(LockError):
    """A ticket lapsed before its turn came (its server stalled longer than the lease)."""


class AtomicRedisLockStore(LockStore):
    """Conversation locks in Redis (see the module's docstring). Cheap to construct: it
    connects on the first lock."""

    def __init__(
        self,
        endpoint_config: EndpointConfig | None = None,
        url: str | None = None,
        lease_seconds: float = LEASE_SECONDS,
        wait_limit_seconds: float = WAIT_LIMIT_SECONDS,
        key_prefix: str = KEY_PREFIX,
    ) -> None:
        config_url = endpoint_config.url if endpoint_config is not None else None
        self.url = url or config_url or "redis://127.0.0.1:6379/0"
        if "://" not in self.url:  # Rasa's style: a host name only
            self.url = f"redis://{self.url}:6379/0"
        self.lease_ms = int(lease_seconds * 1000)
        self.wait_limit_seconds = wait_limit_seconds
        self.key_prefix = key_prefix
        self._client: Any = None
        self._scripts: dict[str, Any] = {}

    # -- Redis ------------------------------------------------------------------------------
    @property
    def client(self) -> Any:
        if self._client is None:
            import redis.asyncio

            self._client = redis.asyncio.Redis.from_url(
                self.url, socket_connect_timeout=2.0, socket_timeout=5.0
            )
            for name, source in (("enqueue", ENQUEUE), ("turn", TURN), ("renew", RENEW)):
                self._scripts[name] = self._client.register_script(source)
        return self._client

    def keys(self, conversation_id: str) -> list[str]:
        base = f"{self.key_prefix}{conversation_id}"
        return [f"{base}:counter", f"{base}:queue", f"{base}:leases"]

    async def _call(self, name: str, keys: list[str], args: list[Any]) -> int:
        import redis.exceptions

        client = self.client
        try:
            return int(await self._scripts[name](keys=keys, args=args, client=client))
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError) as e:
            raise LockStoreUnavailable(
                f"The lock store at {redact(self.url)} cannot be reached ({e}). No message "
                "is handled without it, so that two servers never run one conversation at "
                "once: start Redis, or point LOCK_STORE_URL at a running one."
            ) from e

    # -- the lock ------------------------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def lock(
        self,
        conversation_id: str,
        lock_lifetime: float = LEASE_SECONDS,
        wait_time_in_seconds: float = POLL_SECONDS[1],
    ) -> AsyncIterator[TicketLock]:
        """Hold the conversation's lock for the block: wait for this message's turn (in
        arrival order), keep the lease while the block runs, then let the next in."""
        counter, queue, leases = self.keys(conversation_id)
        ticket = await self._call(
            "enqueue", [counter, queue, leases], [self.lease_ms, IDLE_EXPIRY_MS]
        )
        done = asyncio.Event()
        renewing = asyncio.create_task(self._renew(conversation_id, ticket, done))
        try:
            await self._wait_for_turn(conversation_id, ticket)
            yield TicketLock(conversation_id)
        finally:
            # The renewer stops at `done` by itself: a cancellation alone can be lost
            # inside redis-py's command (it then renewed on, and the turn waited for it
            # forever, holding the conversation). The turn never waits on it long.
            done.set()
            renewing.cancel()
            await asyncio.wait({renewing}, timeout=RENEWER_STOP_SECONDS)
            await self._release(conversation_id, ticket)

    async def _wait_for_turn(self, conversation_id: str, ticket: int) -> None:
        _, queue, leases = self.keys(conversation_id)
        started = time.monotonic()
        pause = POLL_SECONDS[0]
        while True:
            turn = await self._call("turn", [queue, leases], [ticket])
            if turn == 1:
                return
            if turn == -1:
                raise TicketLapsed(
                    f"The turn for conversation {conversation_id!r} lapsed before it came "
                    f"(not renewed for {self.lease_ms / 1000:.0f} s: was this server stalled?)."
                )
            if time.monotonic() - started > self.wait_limit_seconds:
                raise LockError(
                    f"Conversation {conversation_id!r} was busy for more than "
                    f"{self.wait_limit_seconds:.0f} s; the message was not handled."
                )
            await asyncio.sleep(pause)
            pause = min(pause * 2, POLL_SECONDS[1])

    async def _renew(self, conversation_id: str, ticket: int, done: asyncio.Event) -> None:
        _, queue, leases = self.keys(conversation_id)
        while not done.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(done.wait(), self.lease_ms / 3000)
            if done.is_set():
                return
            try:
                if not await self._call("renew", [queue, leases], [ticket, self.lease_ms]):
                    logger.error(
                        "the lock of conversation %s lapsed while its turn ran", conversation_id
                    )
                    return
            except LockStoreUnavailable:
                logger.exception(
                    "the lock of conversation %s could not be renewed", conversation_id
                )

    async def _release(self, conversation_id: str, ticket: int) -> None:
        _, queue, leases = self.keys(conversation_id)
        try:
            async with self.client.pipeline(transaction=True) as pipe:
                pipe.zrem(queue, ticket)
                pipe.hdel(leases, ticket)
                await pipe.execute()
        except Exception:  # the lease lapses by itself
            logger.exception("the lock of conversation %s could not be released", conversation_id)

    async def waiting(self, conversation_id: str) -> int:
        """How many messages of the conversation hold or wait for its lock."""
        return int(await self.client.zcard(self.keys(conversation_id)[1]))

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose() if hasattr(
                self._client, "aclose"
            ) else await self._client.close()
            self._client = None

    # -- Rasa's ticket-lock interface: replaced by `lock` above ---------------------------------
    def get_lock(self, conversation_id: str) -> TicketLock | None:
        raise NotImplementedError(
            "AtomicRedisLockStore keeps its tickets in Redis scripts; use `lock()`."
        )

    def delete_lock(self, conversation_id: str) -> None:
        raise NotImplementedError(
            "AtomicRedisLockStore keeps its tickets in Redis scripts; use `lock()`."
        )

    def save_lock(self, lock: TicketLock) -> None:
        raise NotImplementedError(
            "AtomicRedisLockStore keeps its tickets in Redis scripts; use `lock()`."
        )
