"""`LiveFeed`: server-sent events for the agent console (queue changes, new messages).

One in-process hub per web server: every console tab subscribes, every change is
published once and reaches each subscriber's queue. A slow tab never blocks the others:
its queue is bounded and, when full, it is told to reload (`resync`).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

Allowed = Callable[[str, dict[str, Any]], bool]
KEEPALIVE_SECONDS = 15.0
SUBSCRIBER_BUFFER = 500


class LiveFeed:
    def __init__(self) -> None:
        self._subscribers: dict[asyncio.Queue[tuple[str, str]], Allowed] = {}

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    def publish(self, event: str, data: dict[str, Any]) -> None:
        payload = json.dumps(data, separators=(",", ":"))
        for queue, allowed in list(self._subscribers.items()):
            if not allowed(event, data):
                continue
            try:
                queue.put_nowait((event, payload))
            except asyncio.QueueFull:
                while not queue.empty():
                    queue.get_nowait()
                queue.put_nowait(("resync", "{}"))

    async def stream(
        self,
        first: tuple[str, dict[str, Any]] | None = None,
        allowed: Allowed | None = None,
    ) -> AsyncIterator[str]:
        """SSE frames for one subscriber: `first` (a snapshot), then every change it is
        `allowed` to see (default: all)."""
        queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue(SUBSCRIBER_BUFFER)
        self._subscribers[queue] = allowed or (lambda event, data: True)
        try:
            yield "retry: 2000\n\n"
            if first is not None:
                yield frame(first[0], json.dumps(first[1], separators=(",", ":")))
            while True:
                try:
                    event, payload = await asyncio.wait_for(queue.get(), KEEPALIVE_SECONDS)
                except asyncio.TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                yield frame(event, payload)
        finally:
            self._subscribers.pop(queue, None)


def frame(event: str, payload: str) -> str:
    return f"event: {event}\ndata: {payload}\n\n"
