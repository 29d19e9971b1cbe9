"""Tracker events reach the broker only once stored, survive a broker that is down, and
count once in the conversation facts however often they are delivered."""

from __future__ import annotations

import json
import threading
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered

from bot.event_relay import EventRelay
from bot.tracker_store import UrlTrackerStore
from insights.broker import RabbitBroker
from insights.facts import FactsStore
from tests.conftest import listening, postgres_databases, run_async


class Broker:
    """A broker that refuses `failures` deliveries first, then keeps what it gets."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.bodies: list[str] = []
        self.lock = threading.Lock()

    def deliver(self, bodies) -> None:
        with self.lock:
            if self.failures:
                self.failures -= 1
                raise ConnectionError("the broker is down")
            self.bodies.extend(bodies)

    def publish(self, event) -> None:  # Rasa's interface: never used with `deliver`
        raise AssertionError("published around the outbox")


def one_turn(store: UrlTrackerStore, sender: str) -> None:
    tracker = run_async(store.get_or_create_tracker(sender))
    tracker.update(UserUttered("where is my order 10234?", {"name": "order_status"}))
    tracker.update(ActionExecuted("utter_on_it"))
    tracker.update(BotUttered("On it."))
    tracker.update(ActionExecuted("action_listen"))
    run_async(store.save(tracker))


def stored(engine: sa.engine.Engine, table: str) -> int:
    with engine.connect() as c:
        return int(c.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar())


def test_a_broker_that_is_down_loses_nothing_and_gets_each_event_once(tmp_path: Path) -> None:
    broker = Broker(failures=2)
    store = UrlTrackerStore(host=f"sqlite:///{tmp_path / 'tracker.db'}", event_broker=broker)
    relay = store.relay
    assert relay is not None
    relay.stop()  # the test drives it
    one_turn(store, "c1")
    events = stored(store.engine, "events")
    assert stored(store.engine, "event_outbox") == events  # in the same transaction
    for _ in range(2):
        with pytest.raises(ConnectionError):
            relay.relay_once()
    assert stored(store.engine, "event_outbox") == events and broker.bodies == []
    assert relay.drain() == events
    assert stored(store.engine, "event_outbox") == 0
    delivered = [json.loads(b) for b in broker.bodies]
    assert len({e["event_id"] for e in delivered}) == events
    assert [e["event"] for e in delivered][-4:] == ["user", "action", "bot", "action"]
    assert all(e["sender_id"] == "c1" for e in delivered)


def test_the_relay_thread_retries_until_the_broker_is_back(tmp_path: Path) -> None:
    broker = Broker(failures=3)
    store = UrlTrackerStore(host=f"sqlite:///{tmp_path / 'tracker.db'}", event_broker=broker)
    one_turn(store, "c1")
    deadline = time.monotonic() + 20
    while store.relay.pending() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert store.relay.pending() == 0
    assert len(broker.bodies) == stored(store.engine, "events")
    assert store.relay.failures >= 3
    store.relay.stop()


def test_an_event_delivered_twice_counts_once_in_the_facts(tmp_path: Path) -> None:
    """A relay killed after the broker took a batch and before it deleted the rows
    delivers that batch again at its next start."""
    broker = Broker()
    store = UrlTrackerStore(host=f"sqlite:///{tmp_path / 'tracker.db'}", event_broker=broker)
    store.relay.stop()
    one_turn(store, "c1")
    store.relay.drain()
    events = [json.loads(b) for b in broker.bodies]
    facts = FactsStore(f"sqlite:///{tmp_path / 'store.db'}", b"k" * 32)
    assert facts.apply(events) == len(events)
    assert facts.apply(events) == 0  # the second delivery
    assert facts.apply(events[:2] + events[:2]) == 0
    with facts.db.begin() as c:
        turns = c.execute(sa.text("SELECT turns FROM conversation_facts")).scalar()
    assert turns == 1
    facts.close()


@pytest.mark.postgres
def test_two_rasa_servers_relay_each_event_exactly_once_in_order() -> None:
    with postgres_databases("bb_relay", 1) as (url,):
        broker = Broker()
        servers = [UrlTrackerStore(host=url, event_broker=broker) for _ in range(2)]
        for server in servers:
            server.relay.stop()
        for n in range(20):
            one_turn(servers[n % 2], f"c{n}")
        relays = [EventRelay(s.engine, broker.deliver, batch=7) for s in servers]

        def drain(relay: EventRelay) -> None:
            while relay.pending():
                relay.relay_once()

        threads = [threading.Thread(target=drain, args=(r,)) for r in relays]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        ids = [json.loads(b)["event_id"] for b in broker.bodies]
        with servers[0].engine.connect() as c:
            total = c.execute(sa.text("SELECT count(*) FROM events")).scalar()
        assert len(ids) == len(set(ids)) == total
        senders = [json.loads(b)["sender_id"] for b in broker.bodies]
        # Each conversation's events arrive in the order they were stored.
        for n in range(20):
            mine = [e["event"] for e in map(json.loads, broker.bodies) if e["sender_id"] == f"c{n}"]
            assert mine[-4:] == ["user", "action", "bot", "action"]
        assert set(senders) == {f"c{n}" for n in range(20)}
        for server in servers:
            server.engine.dispose()


@pytest.mark.skipif(not listening(5672), reason="no RabbitMQ on 127.0.0.1:5672")
def test_rabbitmq_has_every_event_once_confirmed() -> None:
    import aio_pika

    queue = f"test-events-{uuid.uuid4().hex[:8]}"
    url = "amqp://guest:guest@127.0.0.1:5672/"
    broker = RabbitBroker(url, queue)
    bodies = [
        json.dumps({"sender_id": "c1", "event_id": uuid.uuid4().hex, "n": n}) for n in range(50)
    ]
    broker.deliver(bodies)

    async def read_back() -> list[str]:
        connection = await aio_pika.connect(url)
        channel = await connection.channel()
        q = await channel.declare_queue(queue, durable=True)
        got = []
        while (message := await q.get(fail=False, timeout=5)) is not None:
            got.append(message.body.decode())
            await message.ack()
        await q.delete(if_unused=False, if_empty=False)
        await connection.close()
        return got

    assert run_async(read_back()) == bodies
    run_async(broker.close())
