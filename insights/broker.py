"""`OutboxBroker`: Rasa's event broker without a server, for the default run.

Rasa hands every new tracker event to its event broker (`endpoints.yml`, `event_broker`).
This one appends them to the `broker_events` table of the store database (SQLite in
DATA_DIR by default, or STORE_URL), in order, from a background thread that writes in
batches, so the Rasa server's event loop never waits for the disk. A consumer
(`insights.consumer.OutboxConsumer`) applies them to the conversation facts and deletes
what it applied.

In production, use Rasa's RabbitMQ broker instead (`type: pika`) and
`python -m insights.consumer --rabbitmq URL`: the events are the same JSON.

    event_broker:
      type: insights.broker.OutboxBroker
      # url: postgresql://…   (default: STORE_URL, else DATA_DIR/store.db)

Events published in the last `FLUSH_SECONDS` before a crash of the Rasa server are lost
(a clean stop flushes them); the facts of those conversations then miss them.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import logging
import queue
import threading
import time
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker

from core.database import Database
from core.deadline import within
from insights.schema import broker_events, metadata

logger = logging.getLogger(__name__)

FLUSH_SECONDS = 0.05
MAX_BATCH = 500
MAX_PENDING = 100_000  # events waiting in memory while the database refuses them
MAX_BACKOFF = 5.0
RABBIT_QUEUE = "rasa_core_events"  # Rasa's pika broker's default queue
CALL_TIMEOUT_SECONDS = 10.0  # a call to RabbitMQ (connect, open a channel, publish)
_STOP = object()


class OutboxWriter:
    """Appends events to `broker_events` from a thread of its own.

    While the database refuses them (down, locked, not migrated yet) the thread keeps
    the batch and tries again, waiting longer each time (up to `MAX_BACKOFF` seconds);
    at most `MAX_PENDING` events wait in memory, and newer ones beyond that are dropped
    and counted in `dropped` (with an error in the log), so a long outage costs events,
    not the Rasa server's memory. A thread that died is started again by the next event.
    """

    def __init__(self, url: str) -> None:
        self.db = Database(url, metadata)
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=MAX_PENDING)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self.written = 0
        self.dropped = 0

    def put(self, event: dict[str, Any]) -> None:
        try:
            self._queue.put_nowait(json.dumps(event, separators=(",", ":"), default=str))
        except queue.Full:
            self.dropped += 1
            if self.dropped % 1_000 == 1:
                logger.error(
                    "The event broker holds %d unwritten events and drops new ones (%d so "
                    "far): the store database has refused them for a while.",
                    MAX_PENDING,
                    self.dropped,
                )
        thread = self._thread
        if thread is None or not thread.is_alive():
            with self._lock:
                if self._thread is None or not self._thread.is_alive():
                    self._stopping.clear()
                    self._thread = threading.Thread(
                        target=self._run, name="outbox-broker", daemon=True
                    )
                    self._thread.start()

    def _run(self) -> None:
        stopping = False
        while not stopping:
            batch: list[str] = []
            item = self._queue.get()
            deadline = time.monotonic() + FLUSH_SECONDS
            while True:
                if item is _STOP:
                    stopping = True
                else:
                    batch.append(item)
                if stopping or len(batch) >= MAX_BATCH:
                    break
                try:
                    item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
            if batch:
                self._write(batch)

    def _write(self, batch: list[str]) -> None:
        wait = 0.1
        while True:
            try:
                with self.db.begin() as c:
                    c.execute(
                        sa.insert(broker_events),
                        [{"body": b, "created_at": time.time()} for b in batch],
                    )
                self.written += len(batch)
                return
            except Exception as e:  # down, locked, not migrated: keep the batch, try again
                if self._stopping.is_set():
                    logger.error("Dropped %d broker events at shutdown: %s", len(batch), e)
                    self.dropped += len(batch)
                    return
                logger.warning(
                    "Could not store %d broker events (%s); retrying in %.1f s.",
                    len(batch),
                    e,
                    wait,
                )
                self._stopping.wait(wait)
                wait = min(wait * 2, MAX_BACKOFF)

    def flush(self, timeout: float = 10.0) -> None:
        """Write what is queued and stop the thread (a later `put` starts it again)."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None and thread.is_alive():
            self._queue.put(_STOP)
            thread.join(timeout)
            if thread.is_alive():  # the database still refuses: give up on what is left
                self._stopping.set()
                thread.join(1.0)

    def close(self) -> None:
        self.flush()
        self.db.close()


class OutboxBroker(EventBroker):  # type: ignore[misc]
    """Rasa's `EventBroker` interface (`rasa.core.brokers.broker`) over `OutboxWriter`."""

    def __init__(self, url: str) -> None:
        self.writer = OutboxWriter(url)

    @classmethod
    async def from_endpoint_config(
        cls, broker_config: Any, event_loop: asyncio.AbstractEventLoop | None = None
    ) -> OutboxBroker:
        url = (getattr(broker_config, "kwargs", None) or {}).get("url") or getattr(
            broker_config, "url", None
        )
        if not url:
            from core.settings import Settings

            url = Settings.load().store_url
        return cls(str(url))

    def publish(self, event: dict[str, Any]) -> None:
        self.writer.put(event)

    def deliver(self, bodies: Sequence[str]) -> None:
        """Append already-stored events (JSON) to the queue, committed before it returns
        (`bot.event_relay`: the tracker store's outbox hands them over this way)."""
        with self.writer.db.begin() as c:
            c.execute(
                sa.insert(broker_events),
                [{"body": body, "created_at": time.time()} for body in bodies],
            )

    def is_ready(self) -> bool:
        return True

    async def close(self) -> None:
        await asyncio.to_thread(self.writer.close)


class RabbitBroker(EventBroker):  # type: ignore[misc]
    """RabbitMQ for several Rasa servers: the same JSON events as Rasa's `pika` broker,
    to a durable queue, as persistent messages, each confirmed by RabbitMQ before
    `deliver` returns (publisher confirms), so the outbox deletes only what RabbitMQ has.

        event_broker:
          type: insights.broker.RabbitBroker
          url: ${EVENT_BROKER_URL}      # amqp://user:password@host:5672/
          queue: rasa_core_events
    """

    def __init__(self, url: str, queue: str = RABBIT_QUEUE) -> None:
        self.url = url
        self.queue = queue
        self._connection: Any = None
        self._channel: Any = None
        self._publishing: asyncio.Lock | None = None  # made on the broker's own loop
        self._event_loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()

    @classmethod
    async def from_endpoint_config(
        cls, broker_config: Any, event_loop: asyncio.AbstractEventLoop | None = None
    ) -> RabbitBroker:
        kwargs = getattr(broker_config, "kwargs", None) or {}
        url = getattr(broker_config, "url", None) or kwargs.get("url")
        if not url:
            from core.settings import Settings

            url = Settings.load().event_broker_url
        return cls(str(url), str(kwargs.get("queue") or RABBIT_QUEUE))

    def _loop(self) -> asyncio.AbstractEventLoop:
        """The broker's own event loop, in a thread of its own (aio-pika, what Rasa's
        `pika` broker uses, is asyncio; `deliver` is called from the relay's thread)."""
        with self._lock:
            if self._event_loop is None or not self._event_loop.is_running():
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, name="rabbit-broker", daemon=True).start()
                self._event_loop = loop
                self._publishing = None  # a lock of the loop before would not serve
            return self._event_loop

    async def _publish(self, bodies: Sequence[str]) -> None:
        # One publish at a time: one left behind by `deliver` (stalled) must not share
        # or reset the channel of the next.
        if self._publishing is None:
            self._publishing = asyncio.Lock()
        async with self._publishing:
            await self._publish_now(bodies)

    async def _publish_now(self, bodies: Sequence[str]) -> None:
        import aio_pika

        if self._channel is None or self._channel.is_closed:
            if self._connection is not None and not self._connection.is_closed:
                with contextlib.suppress(Exception):  # a dead one is left behind
                    await within(self._connection.close(), CALL_TIMEOUT_SECONDS)
            self._connection = await within(aio_pika.connect(self.url, timeout=5), 10)
            self._channel = await within(
                self._connection.channel(publisher_confirms=True), CALL_TIMEOUT_SECONDS
            )
            await within(self._channel.declare_queue(self.queue, durable=True), 10)
        try:
            for body in bodies:
                # Returns once RabbitMQ confirmed the message (publisher confirms).
                await within(
                    self._channel.default_exchange.publish(
                        aio_pika.Message(
                            body.encode(),
                            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                            content_type="application/json",
                        ),
                        routing_key=self.queue,
                        mandatory=True,
                    ),
                    CALL_TIMEOUT_SECONDS,
                )
        except Exception:
            self._channel = None  # opened again at the next try
            raise

    def deliver(self, bodies: Sequence[str]) -> None:
        """Publish the events; returns once RabbitMQ confirmed each, else raises."""
        future = asyncio.run_coroutine_threadsafe(self._publish(bodies), self._loop())
        try:
            future.result(timeout=30 + len(bodies))
        except concurrent.futures.TimeoutError:
            # Each call has a deadline (`within`), so this is a batch too slow to
            # confirm: the next try opens a new connection rather than wait on this one.
            future.cancel()
            self._loop().call_soon_threadsafe(self._forget_channel)
            raise

    def _forget_channel(self) -> None:
        self._channel = None

    def publish(self, event: dict[str, Any]) -> None:
        self.deliver([json.dumps(event, separators=(",", ":"), default=str)])

    def is_ready(self) -> bool:
        return True

    async def close(self) -> None:
        loop, connection = self._event_loop, self._connection
        if loop is not None and connection is not None and not connection.is_closed:
            asyncio.run_coroutine_threadsafe(connection.close(), loop).result(timeout=10)
        if loop is not None:
            loop.call_soon_threadsafe(loop.stop)
        self._connection = self._channel = self._event_loop = None


async def delete_queue(url: str, name: str) -> None:
    """Delete a RabbitMQ queue (a test's or a benchmark's own, afterwards)."""
    import aio_pika

    connection = await aio_pika.connect(url)
    try:
        await (await connection.channel()).queue_delete(name)
    finally:
        await connection.close()
