"""`AtomicRedisLockStore` against a real Redis (127.0.0.1:6379, or REDIS_URL): one turn
at a time per conversation across stores (servers), in arrival order; a long turn keeps
its lock; a dead server's ticket lapses; Redis down is an error, not a silent fallback."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
import uuid

import pytest

from bot.lock_store import AtomicRedisLockStore, LockStoreUnavailable
from tests.conftest import listening, run_async

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")


requires_redis = pytest.mark.skipif(not listening(6379), reason="no Redis on 127.0.0.1:6379")


def store(**kwargs) -> AtomicRedisLockStore:
    return AtomicRedisLockStore(url=REDIS_URL, key_prefix=f"test:{uuid.uuid4().hex}:", **kwargs)


@requires_redis
def test_turns_of_one_conversation_never_overlap_across_servers_and_keep_arrival_order() -> None:
    async def scenario() -> tuple[int, list[int]]:
        prefix = f"test:{uuid.uuid4().hex}:"
        servers = [AtomicRedisLockStore(url=REDIS_URL, key_prefix=prefix) for _ in range(3)]
        inside, most, served = 0, 0, []

        async def turn(n: int) -> None:
            nonlocal inside, most
            async with servers[n % 3].lock("c1"):
                inside += 1
                most = max(most, inside)
                served.append(n)
                await asyncio.sleep(0.01)  # the turn's awaits: where another could slip in
                inside -= 1

        tasks = []
        for n in range(20):
            tasks.append(asyncio.create_task(turn(n)))
            await asyncio.sleep(0.002)  # each message arrives after the one before
        await asyncio.gather(*tasks)
        for s in servers:
            await s.close()
        return most, served

    most, served = run_async(scenario())
    assert most == 1
    assert served == list(range(20))


@requires_redis
def test_other_conversations_do_not_wait() -> None:
    async def scenario() -> float:
        locks = store()
        async with locks.lock("busy"):
            started = time.monotonic()
            async with locks.lock("other"):
                waited = time.monotonic() - started
        await locks.close()
        return waited

    assert run_async(scenario()) < 0.5


@requires_redis
def test_a_turn_longer_than_the_lease_keeps_its_lock() -> None:
    async def scenario() -> list[str]:
        locks = store(lease_seconds=0.3)
        order: list[str] = []

        async def long_turn() -> None:
            async with locks.lock("c1"):
                order.append("long starts")
                await asyncio.sleep(1.2)  # four leases
                order.append("long ends")

        async def next_message() -> None:
            await asyncio.sleep(0.1)
            async with locks.lock("c1"):
                order.append("next")

        await asyncio.gather(long_turn(), next_message())
        await locks.close()
        return order

    assert run_async(scenario()) == ["long starts", "long ends", "next"]


@requires_redis
def test_the_ticket_of_a_dead_server_lapses_and_the_next_message_goes_on() -> None:
    async def scenario() -> float:
        prefix = f"test:{uuid.uuid4().hex}:"
        dead = AtomicRedisLockStore(url=REDIS_URL, key_prefix=prefix, lease_seconds=0.5)
        counter, queue, leases = dead.keys("c1")
        # A server took a ticket and died: nobody renews or releases it.
        await dead._call("enqueue", [counter, queue, leases], [dead.lease_ms, 60_000])
        alive = AtomicRedisLockStore(url=REDIS_URL, key_prefix=prefix, lease_seconds=0.5)
        started = time.monotonic()
        async with alive.lock("c1"):
            waited = time.monotonic() - started
        assert await alive.waiting("c1") == 0
        await dead.close()
        await alive.close()
        return waited

    waited = run_async(scenario())
    assert 0.3 < waited < 3.0


def test_redis_down_is_a_clear_error_not_a_lock_in_memory() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once closed

    async def scenario() -> None:
        locks = AtomicRedisLockStore(url=f"redis://:secret@127.0.0.1:{port}/0")
        async with locks.lock("c1"):
            pass

    with pytest.raises(LockStoreUnavailable) as raised:
        run_async(scenario())
    message = str(raised.value)
    assert f"127.0.0.1:{port}" in message and "start Redis" in message
    assert "secret" not in message


@requires_redis
def test_a_turn_ends_and_lets_the_next_in_even_when_its_renewer_ignores_cancellation() -> None:
    # A chaos run: redis-py lost the cancellation of a renewal under way; the renewer
    # renewed on, the turn waited for it forever and held its conversation.
    class Stubborn(AtomicRedisLockStore):
        async def _call(self, name, keys, args):  # type: ignore[no-untyped-def]
            if name != "renew":
                return await super()._call(name, keys, args)
            with contextlib.suppress(asyncio.CancelledError):  # swallowed, as it was
                await asyncio.sleep(0.2)  # a renewal under way when the turn ends
            return await super()._call(name, keys, args)

    async def scenario() -> tuple[float, float]:
        prefix = f"test:{uuid.uuid4().hex}:"
        first = Stubborn(url=REDIS_URL, key_prefix=prefix, lease_seconds=0.6)
        second = AtomicRedisLockStore(url=REDIS_URL, key_prefix=prefix)
        async with first.lock("c1"):
            await asyncio.sleep(0.25)  # the renewer (every 0.2 s) is inside its call
        started = time.monotonic()
        async with second.lock("c1"):
            waited = time.monotonic() - started
        ended = time.monotonic() - started
        await asyncio.sleep(0.3)  # the stubborn renewer finds the turn over and stops
        leases = await second.client.hgetall(first.keys("c1")[2])
        for s in (first, second):
            await s.close()
        return waited, ended if not leases else -1.0

    # Before: the turn never ended (this timed out).
    waited, ended = run_async(asyncio.wait_for(scenario(), 10))
    assert waited < 0.3  # the ticket was released, not left to lapse
    assert ended >= 0  # and the renewer did not put it back
