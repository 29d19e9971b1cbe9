"""`LiveFeed`: server-sent events for the agent console (queue changes, new messages).

One in-process hub per web server: every console tab subscribes, every change is
published once and reaches each subscriber's queue; with several web fronts on one
PostgreSQL store, `connect(PostgresBus(...))` shares the changes between them
(`bot.web.live_bus`). A slow tab never blocks the others:
its queue is bounded and, when full, it is told to reload (`resync`).

A stream belongs to a signed-in session and lasts only as long as it: it ends with a
`signed_out` event at once when that session signs out (`end_session`), and when a
periodic re-check (`alive`, at most `recheck_seconds` apart, before an event is sent and
while the stream is idle) finds the session expired or deleted (a password change ends
every session of the user, from any process).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

Allowed = Callable[[str, dict[str, Any]], bool]
Alive = Callable[[], Awaitable[bool]]
Snapshot = Callable[[], Awaitable[tuple[str, dict[str, Any]]]]
KEEPALIVE_SECONDS = 15.0
SESSION_RECHECK_SECONDS = 5.0
SUBSCRIBER_BUFFER = 500
SIGNED_OUT = "signed_out"  # the last event of a stream whose session ended
RESYNC = "resync"


@dataclass(eq=False)
class _Subscriber:
    allowed: Allowed
    session: str | None
    queue: asyncio.Queue[tuple[str, str]] = field(
        default_factory=lambda: asyncio.Queue(SUBSCRIBER_BUFFER)
    )

    def put(self, event: str, payload: str) -> None:
        try:
            self.queue.put_nowait((event, payload))
        except asyncio.QueueFull:
            while not self.queue.empty():
                self.queue.get_nowait()
            # What it missed is gone: a session end must still arrive, anything else
            # becomes "reload".
            self.queue.put_nowait((event, payload) if event == SIGNED_OUT else (RESYNC, "{}"))


class LiveFeed:
    def __init__(
        self,
        recheck_seconds: float = SESSION_RECHECK_SECONDS,
        keepalive_seconds: float = KEEPALIVE_SECONDS,
    ) -> None:
        self._subscribers: set[_Subscriber] = set()
        self.recheck_seconds = recheck_seconds
        self.keepalive_seconds = keepalive_seconds
        self._bus: Any = None

    def connect(self, bus: Any) -> None:
        """Share changes with the other web fronts through `bus` (`bot.web.live_bus`),
        from the running event loop: what they publish reaches this front's streams."""
        loop = asyncio.get_running_loop()

        def deliver(event: str, payload: str) -> None:
            loop.call_soon_threadsafe(self._deliver, event, payload)

        bus.start(deliver)
        self._bus = bus

    def disconnect(self) -> None:
        bus, self._bus = self._bus, None
        if bus is not None:
            bus.stop()

    def _deliver(self, event: str, payload: str) -> None:
        """A change another front published: to the streams allowed to see it."""
        try:
            data = json.loads(payload)
        except ValueError:
            return
        if not isinstance(data, dict):
            return
        for subscriber in list(self._subscribers):
            if event == RESYNC or subscriber.allowed(event, data):
                subscriber.put(event, payload)

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    def publish(self, event: str, data: dict[str, Any]) -> None:
        payload = _json(data)
        for subscriber in list(self._subscribers):
            if subscriber.allowed(event, data):
                subscriber.put(event, payload)
        if self._bus is not None:
            self._bus.send(event, payload)

    def end_session(self, session: str, reason: str = "signed out") -> int:
        """End every stream of `session` now; returns how many there were."""
        ended = [s for s in self._subscribers if s.session == session]
        for subscriber in ended:
            subscriber.put(SIGNED_OUT, _json({"reason": reason}))
        return len(ended)

    async def stream(
        self,
        snapshot: Snapshot | None = None,
        allowed: Allowed | None = None,
        session: str | None = None,
        alive: Alive | None = None,
    ) -> AsyncIterator[str]:
        """SSE frames for one subscriber: the `snapshot` event (taken after subscribing,
        so no change falls between it and the stream), then every change it is `allowed`
        to see (default: all), until its `session` ends or `alive()` says it has."""
        subscriber = _Subscriber(allowed or (lambda event, data: True), session)
        self._subscribers.add(subscriber)
        try:
            yield "retry: 2000\n\n"
            if snapshot is not None:
                event, data = await snapshot()
                yield frame(event, _json(data))
            last_sent = next_check = time.monotonic()
            next_check += self.recheck_seconds
            while True:
                now = time.monotonic()
                wait = self.keepalive_seconds - (now - last_sent)
                if alive is not None:
                    wait = min(wait, next_check - now)
                try:
                    event, payload = await asyncio.wait_for(subscriber.queue.get(), max(wait, 0))
                except asyncio.TimeoutError:
                    event, payload = "", ""
                if alive is not None and time.monotonic() >= next_check:
                    if not await alive():
                        yield frame(SIGNED_OUT, _json({"reason": "session expired"}))
                        return
                    next_check = time.monotonic() + self.recheck_seconds
                if event == SIGNED_OUT:
                    yield frame(event, payload)
                    return
                if event:
                    yield frame(event, payload)
                    last_sent = time.monotonic()
                elif time.monotonic() - last_sent >= self.keepalive_seconds:
                    yield ": keep-alive\n\n"
                    last_sent = time.monotonic()
        finally:
            self._subscribers.discard(subscriber)


def _json(data: dict[str, Any]) -> str:
    return json.dumps(data, separators=(",", ":"))


def frame(event: str, payload: str) -> str:
    return f"event: {event}\ndata: {payload}\n\n"
