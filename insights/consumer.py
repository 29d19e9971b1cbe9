"""Consumers: events from Rasa's event broker into the conversation facts.

- `OutboxConsumer`: the embedded broker's table (`insights.broker`). Each batch is
  applied and deleted in one transaction, so every event counts exactly once, however
  many consumers run (the web front runs one in a thread; the report drains it first).
- `RabbitConsumer`: Rasa's RabbitMQ broker (`type: pika` in endpoints.yml), read with
  `aio_pika` as Rasa's broker writes it. Messages are acknowledged after their batch is
  committed: at least once (a crash between the two applies that batch again).

    python -m insights.consumer                      # drain the embedded broker once
    python -m insights.consumer --follow             # and keep following it
    python -m insights.consumer --rabbitmq amqp://guest:guest@127.0.0.1:5672/ \
        [--queue rasa_core_events]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from core.deadline import within
from insights.facts import FactsStore
from insights.schema import broker_events

logger = logging.getLogger(__name__)

BATCH = 1_000
POLL_SECONDS = 0.5
GET_TIMEOUT_SECONDS = 10.0  # RabbitMQ answers a basic.get at once, even "empty"
CALL_TIMEOUT_SECONDS = 10.0  # any other call to RabbitMQ (connect, ack, close)
APPLY_TIMEOUT_SECONDS = 120.0  # a batch's database work; longer: reconnect, redeliver
RABBIT_QUEUE = "rasa_core_events"  # Rasa's pika broker's default queue
MAX_EVENT_BYTES = 1_000_000  # a bigger message is not Rasa's: logged and dropped
ADVISORY_LOCK = 0x1A5B16  # PostgreSQL's lock key of the outbox consumers


def decode(body: bytes | str) -> dict[str, Any] | None:
    """One published event, or None (logged) when it is not an event."""
    if len(body) > MAX_EVENT_BYTES:
        logger.warning(
            "Dropped a broker message of %d bytes (limit %d).", len(body), MAX_EVENT_BYTES
        )
        return None
    try:
        event = json.loads(body)
    except (ValueError, UnicodeDecodeError) as e:
        logger.warning("Dropped a broker message that is not JSON: %s", e)
        return None
    if not isinstance(event, dict) or not isinstance(event.get("sender_id"), str):
        logger.warning("Dropped a broker message without a sender_id.")
        return None
    return event


class OutboxConsumer:
    def __init__(self, facts: FactsStore) -> None:
        self.facts = facts

    def run_once(self, limit: int = BATCH) -> int:
        """Apply (and delete) up to `limit` waiting events; how many were taken.

        A batch that fails for a reason other than the database being unreachable is
        applied again one event at a time, and an event that fails alone is logged and
        dropped, so one bad event cannot hold up the facts."""
        try:
            return self._take(limit)
        except sa.exc.OperationalError:
            raise  # the database is down or locked: every event waits for the next try
        except Exception:
            if limit > 1:
                logger.warning("A batch of broker events failed; applying them one by one.")
                return sum(self.run_once(1) for _ in range(limit))
            logger.exception("Dropped the broker event that fails on its own.")
            with self.facts.db.begin() as c:
                first = c.execute(sa.select(sa.func.min(broker_events.c.id))).scalar()
                if first is None:
                    return 0
                c.execute(sa.delete(broker_events).where(broker_events.c.id == first))
            return 1

    def _take(self, limit: int) -> int:
        with self.facts.db.begin() as c:
            # Claim the queue first, so two consumers never read the same batch: the
            # second waits, then reads what the first left. PostgreSQL: a transaction
            # advisory lock; SQLite: a write, which takes the database's write lock.
            if c.dialect.name == "postgresql":
                c.execute(sa.select(sa.func.pg_advisory_xact_lock(ADVISORY_LOCK)))
            else:
                first = sa.select(sa.func.min(broker_events.c.id)).scalar_subquery()
                c.execute(
                    sa.update(broker_events)
                    .where(broker_events.c.id == first)
                    .values(created_at=broker_events.c.created_at)
                )
            rows = c.execute(
                sa.select(broker_events.c.id, broker_events.c.body)
                .order_by(broker_events.c.id)
                .limit(limit)
            ).all()
            if not rows:
                return 0
            events = [e for e in (decode(r.body) for r in rows) if e is not None]
            self.facts.apply(events, c)
            # The rows read, not a range: another writer's row committed meanwhile with a
            # lower id stays for the next batch.
            c.execute(sa.delete(broker_events).where(broker_events.c.id.in_([r.id for r in rows])))
        return len(rows)

    def drain(self) -> int:
        """Apply everything waiting now."""
        total = 0
        while taken := self.run_once():
            total += taken
        return total

    def run_forever(self, stop: threading.Event, poll: float = POLL_SECONDS) -> None:
        while not stop.is_set():
            try:
                taken = self.drain()
            except Exception:  # a bad batch must not stop the insights; it is retried
                logger.exception("Applying broker events failed; retrying in 5 s.")
                stop.wait(5.0)
                continue
            if not taken:
                stop.wait(poll)

    def start(self) -> Callable[[], None]:
        """Follow the outbox in a daemon thread; returns the function that stops it."""
        stop = threading.Event()
        thread = threading.Thread(
            target=self.run_forever, args=(stop,), name="insights", daemon=True
        )
        thread.start()

        def stopper() -> None:
            stop.set()
            thread.join(10)

        return stopper


class RabbitConsumer:
    """Consumes Rasa's RabbitMQ queue with `aio_pika` (what Rasa's own broker uses)."""

    def __init__(self, facts: FactsStore, url: str, queue: str = RABBIT_QUEUE) -> None:
        self.facts = facts
        self.url = url
        self.queue = queue

    def run(self, stop: threading.Event | None = None, idle_seconds: float | None = None) -> int:
        """Consume until `stop` is set (or, with `idle_seconds`, until the queue has been
        empty that long); returns how many events were applied."""
        return asyncio.run(self.consume(stop or threading.Event(), idle_seconds))

    def _apply(self, events: list[dict[str, Any]]) -> int:
        """Apply a batch; when it fails for another reason than the database, one event
        at a time, logging and skipping one that fails alone (it would come back forever)."""
        try:
            return self.facts.apply(events)
        except sa.exc.OperationalError:
            raise
        except Exception:
            logger.warning("A batch of %d events failed; applying them one by one.", len(events))
        applied = 0
        for event in events:
            try:
                applied += self.facts.apply([event])
            except sa.exc.OperationalError:
                raise
            except Exception:
                logger.exception("Dropped the RabbitMQ event that fails on its own.")
        return applied

    async def consume(self, stop: threading.Event, idle_seconds: float | None = None) -> int:
        """`run` inside an event loop of the caller's. A lost connection to RabbitMQ or
        to the database (a restart) does not end it: what was taken and not yet
        acknowledged goes back to the queue, and it connects again, waiting longer each
        time (the facts skip an event applied before, so a second delivery counts once)."""
        applied = 0
        pause = 0.5
        while not stop.is_set():
            try:
                applied += await self._consume_once(stop, idle_seconds)
                return applied
            except Exception as e:  # RabbitMQ or the database went away: start again
                logger.warning("Consuming RabbitMQ failed (%s); reconnecting in %.1f s.", e, pause)
                await asyncio.sleep(pause)
                pause = min(pause * 2, 10.0)
        return applied

    async def _consume_once(self, stop: threading.Event, idle_seconds: float | None) -> int:
        import aio_pika

        # Every call to RabbitMQ has a deadline, and one that misses it is left behind
        # rather than waited for: a connection that died without a word (no reset) can
        # leave a call that never returns and ignores its cancellation, and the
        # consumer would stall there, silently, for good (a chaos run saw it).
        connection = await within(aio_pika.connect(self.url, timeout=10), CALL_TIMEOUT_SECONDS)
        applied = 0
        idle_since = time.monotonic()
        try:
            channel = await within(connection.channel(), CALL_TIMEOUT_SECONDS)
            await within(channel.set_qos(prefetch_count=BATCH), CALL_TIMEOUT_SECONDS)
            queue = await within(
                channel.declare_queue(self.queue, durable=True), CALL_TIMEOUT_SECONDS
            )
            while not stop.is_set():
                batch: list[Any] = []
                while len(batch) < BATCH:
                    message = await within(queue.get(no_ack=False, fail=False), GET_TIMEOUT_SECONDS)
                    if message is None:
                        break
                    batch.append(message)
                if batch:
                    events = [e for e in (decode(m.body) for m in batch) if e is not None]
                    applied += await within(
                        asyncio.to_thread(self._apply, events), APPLY_TIMEOUT_SECONDS
                    )
                    await within(batch[-1].ack(multiple=True), CALL_TIMEOUT_SECONDS)
                    idle_since = time.monotonic()
                    continue
                if idle_seconds is not None and time.monotonic() - idle_since >= idle_seconds:
                    break
                await asyncio.sleep(POLL_SECONDS)
        finally:
            with contextlib.suppress(Exception):
                await within(connection.close(), CALL_TIMEOUT_SECONDS)
        return applied


def main(argv: list[str] | None = None) -> int:
    from core.settings import Settings

    parser = argparse.ArgumentParser(
        prog="python -m insights.consumer",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--follow", action="store_true", help="keep following the embedded broker")
    parser.add_argument("--rabbitmq", metavar="URL", help="consume Rasa's RabbitMQ queue instead")
    parser.add_argument("--queue", default=RABBIT_QUEUE)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    settings = Settings.load()
    facts = FactsStore(settings.store_url, settings.identity_secret.encode())
    try:
        if args.rabbitmq:
            stop = threading.Event()
            try:
                RabbitConsumer(facts, args.rabbitmq, args.queue).run(stop)
            except KeyboardInterrupt:
                stop.set()
            return 0
        consumer = OutboxConsumer(facts)
        print(f"applied {consumer.drain()} events")
        if args.follow:
            stop = threading.Event()
            try:
                consumer.run_forever(stop)
            except KeyboardInterrupt:
                stop.set()
        return 0
    finally:
        facts.close()


if __name__ == "__main__":
    sys.exit(main())
