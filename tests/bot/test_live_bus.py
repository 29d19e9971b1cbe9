"""The console's live updates across web fronts: a change published on one front reaches
the streams of another through PostgreSQL LISTEN/NOTIFY, once; one too big for a
notification reaches it as a reload (`resync`)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid

import pytest

from bot.web.live import LiveFeed
from bot.web.live_bus import PostgresBus, libpq_url
from tests.conftest import postgres_admin_url, run_async

pytestmark = pytest.mark.postgres


def test_a_sqlalchemy_url_becomes_one_libpq_reads() -> None:
    assert libpq_url("postgresql+psycopg2://u:p@h:5432/db") == "postgresql://u:p@h:5432/db"
    assert libpq_url("postgres://h/db") == "postgresql://h/db"


async def events_of(stream, count: int, timeout: float) -> list[str]:
    """The event names of the next `count` frames (skipping the retry line)."""
    names: list[str] = []

    async def read() -> None:
        async for chunk in stream:
            if chunk.startswith("event: "):
                names.append(chunk.split("\n", 1)[0][len("event: ") :])
                if len(names) == count:
                    return

    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(read(), timeout)
    return names


def test_a_change_on_one_front_reaches_the_others_once() -> None:
    url = postgres_admin_url()
    channel = f"test_live_{uuid.uuid4().hex[:8]}"

    async def scenario() -> tuple[list[str], list[str], int]:
        front_a, front_b = LiveFeed(), LiveFeed()
        front_a.connect(PostgresBus(url, channel))
        front_b.connect(PostgresBus(url, channel))
        await asyncio.sleep(1.0)  # both LISTEN
        on_a, on_b = front_a.stream(), front_b.stream()
        await on_a.__anext__(), await on_b.__anext__()  # subscribed
        front_a.publish("queue", {"delta": True, "handoffs": [{"id": 7}], "removed": []})
        front_a.publish("handoff", {"id": 7, "status": "claimed", "agent": "x" * 9000})
        seen_b = await events_of(on_b, 2, 10.0)
        seen_a = await events_of(on_a, 3, 2.0)  # its own, once each (not again via the bus)
        received = front_b._bus.received
        await on_a.aclose(), await on_b.aclose()
        front_a.disconnect()
        front_b.disconnect()
        return seen_a, seen_b, received

    seen_a, seen_b, received = run_async(scenario())
    assert seen_b == ["queue", "resync"]  # the big one: "load the queue again"
    assert seen_a == ["queue", "handoff"]
    assert received == 2
