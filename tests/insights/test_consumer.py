"""The embedded broker's queue into the facts: in order, each event once, bad ones dropped."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from insights.broker import OutboxBroker, OutboxWriter
from insights.consumer import OutboxConsumer, decode
from insights.facts import FactsStore
from insights.schema import broker_events
from tests.conftest import run_async
from tests.insights.test_facts import KEY, T0, escalate, session, user


def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store.db'}"


def test_the_writer_keeps_the_order_and_the_consumer_applies_each_event_once(
    tmp_path: Path,
) -> None:
    writer = OutboxWriter(url(tmp_path))
    events = [*session("c1", T0), user("c1", T0 + 1, "help!!", "request_human", 0.9)]
    events += escalate("c1", T0 + 2)
    for event in events:
        writer.put(event)
    writer.close()
    facts = FactsStore(url(tmp_path), KEY)
    consumer = OutboxConsumer(facts)
    with facts.db.begin() as c:
        bodies = [json.loads(b) for (b,) in c.execute(sa.select(broker_events.c.body))]
    assert bodies == events
    assert consumer.drain() == len(events)
    assert consumer.drain() == 0  # applied and deleted in one transaction
    (f,) = facts.for_sender("c1")
    assert f.turns == 1 and f.escalated
    facts.close()


def test_a_batch_the_database_refuses_is_kept_for_the_next_try(tmp_path: Path, monkeypatch) -> None:
    writer = OutboxWriter(url(tmp_path))
    writer.put(user("c2", T0, "hi", "greet"))
    writer.close()
    facts = FactsStore(url(tmp_path), KEY)
    consumer = OutboxConsumer(facts)

    def broken(events, connection=None):
        raise sa.exc.OperationalError("INSERT", {}, Exception("database is locked"))

    monkeypatch.setattr(facts, "apply", broken)
    with pytest.raises(sa.exc.OperationalError, match="locked"):
        consumer.run_once()
    monkeypatch.undo()
    assert consumer.drain() == 1 and facts.for_sender("c2")[0].turns == 1
    facts.close()


def test_what_is_not_an_event_is_dropped() -> None:
    assert decode(b"not json") is None
    assert decode(b"[1, 2]") is None
    assert decode(json.dumps({"event": "user"})) is None  # no sender
    assert decode(b"x" * 2_000_000) is None
    assert decode(json.dumps({"sender_id": "a", "event": "user"})) == {
        "sender_id": "a",
        "event": "user",
    }


def test_the_broker_is_rasas_and_flushes_on_close(tmp_path: Path) -> None:
    from rasa.core.brokers.broker import EventBroker
    from rasa.utils.endpoints import EndpointConfig

    config = EndpointConfig(type="insights.broker.OutboxBroker", url=url(tmp_path))
    broker = run_async(EventBroker.create(config))
    assert isinstance(broker, OutboxBroker) and broker.is_ready()
    broker.publish(user("c3", T0, "hello", "greet"))
    run_async(broker.close())
    facts = FactsStore(url(tmp_path), KEY)
    assert OutboxConsumer(facts).drain() == 1
    facts.close()


def test_a_following_consumer_stops_when_asked(tmp_path: Path) -> None:
    facts = FactsStore(url(tmp_path), KEY)
    stop = OutboxConsumer(facts).start()
    writer = OutboxWriter(url(tmp_path))
    writer.put(user("c4", T0, "hello", "greet"))
    writer.close()
    done = threading.Event()
    for _ in range(100):
        if facts.for_sender("c4"):
            done.set()
            break
        threading.Event().wait(0.05)
    stop()
    assert done.is_set()
    facts.close()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_url(request, tmp_path: Path):
    if request.param == "sqlite":
        yield url(tmp_path)
        return
    import uuid

    from tests.conftest import postgres_admin_url

    admin = sa.engine.make_url(postgres_admin_url())  # skips when there is no server
    engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
    name = f"bb_insights_{uuid.uuid4().hex[:8]}"
    with engine.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield admin.set(database=name).render_as_string(hide_password=False)
    with engine.connect() as c:
        c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def test_two_consumers_never_apply_an_event_twice(any_url: str) -> None:
    writer = OutboxWriter(any_url)
    for i in range(600):
        writer.put(user(f"u{i % 20}", T0 + i, f"message {i}", "order_status"))
    writer.close()
    stores = [FactsStore(any_url, KEY) for _ in range(2)]
    taken = [0, 0]

    failures: list[BaseException] = []

    def drain(n: int) -> None:
        consumer = OutboxConsumer(stores[n])
        try:
            while batch := consumer.run_once(limit=7):
                taken[n] += batch
        except BaseException as e:  # a deadlock, say: the test must see it
            failures.append(e)

    threads = [threading.Thread(target=drain, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert failures == [] and sum(taken) == 600
    assert sum(f.turns for i in range(20) for f in stores[0].for_sender(f"u{i}")) == 600
    for store in stores:
        store.close()


def test_one_bad_event_is_dropped_and_the_others_are_applied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = OutboxWriter(url(tmp_path))
    for i in range(5):
        writer.put(user("c6", T0 + i, f"message {i}", "order_status"))
    writer.close()
    facts = FactsStore(url(tmp_path), KEY)
    real = facts.apply

    def picky(events, connection=None):
        if any(e.get("text") == "message 2" for e in events):
            raise ValueError("a value this code cannot store")
        return real(events, connection)

    monkeypatch.setattr(facts, "apply", picky)
    assert OutboxConsumer(facts).drain() == 5
    assert facts.for_sender("c6")[0].customer_text.split("\n") == [
        "message 0",
        "message 1",
        "message 3",
        "message 4",
    ]
    facts.close()


def test_the_writer_keeps_events_while_the_database_refuses_them(tmp_path: Path) -> None:
    later = tmp_path / "not-yet"
    later.write_text("a file where the database's folder should be")
    writer = OutboxWriter(f"sqlite:///{later / 'store.db'}")
    for i in range(3):
        writer.put(user("w1", T0 + i, f"message {i}", "order_status"))
    threading.Event().wait(0.5)  # the writer fails and waits to try again
    assert writer.written == 0 and writer.dropped == 0
    later.unlink()
    later.mkdir()
    writer.close()
    assert writer.written == 3
    facts = FactsStore(f"sqlite:///{later / 'store.db'}", KEY)
    assert OutboxConsumer(facts).drain() == 3
    facts.close()


def test_a_writer_thread_that_died_is_started_again(tmp_path: Path) -> None:
    writer = OutboxWriter(url(tmp_path))
    writer.put(user("w2", T0, "first", "greet"))
    writer.flush()
    dead = threading.Thread(target=lambda: None)
    dead.start()
    dead.join()
    writer._thread = dead  # as if it had died
    writer.put(user("w2", T0 + 1, "second", "greet"))
    writer.close()
    assert writer.written == 2
