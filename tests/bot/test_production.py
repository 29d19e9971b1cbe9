"""The production profile on this machine's servers: HAProxy, two Rasa servers, two
action servers and two web fronts on PostgreSQL, Redis and RabbitMQ. Conversations
spread over both Rasa servers keep every turn, in order, once; every event reaches the
conversation facts through RabbitMQ, once."""

from __future__ import annotations

import concurrent.futures
import json
import shutil
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.production import ProductionStack, missing
from insights.broker import delete_queue
from tests.conftest import (
    RestChat,
    free_port,
    listening,
    postgres_databases,
    run_async,
    stack_settings,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CONVERSATIONS = 10
MESSAGES = ("hi", "where is my order?", "10234", "dana.whitfield@example.com")


@pytest.fixture(scope="module")
def production(tmp_path_factory: pytest.TempPathFactory):
    if not (listening(6379) and listening(5672)):
        pytest.skip("the production profile needs Redis (6379) and RabbitMQ (5672) here")
    if shutil.which("haproxy") is None and not Path("/usr/sbin/haproxy").exists():
        pytest.skip("HAProxy is not installed (./scripts/ensure-haproxy.sh)")
    with postgres_databases("bb_prod", 2) as (tracker_url, store_url):
        settings = stack_settings(
            tmp_path_factory.mktemp("production"),
            DATABASE_URL=tracker_url,
            STORE_URL=store_url,
            LOCK_STORE_URL="redis://127.0.0.1:6379/13",
            EVENT_BROKER_URL="amqp://guest:guest@127.0.0.1:5672/",
            EVENT_BROKER_QUEUE=f"test-events-{uuid.uuid4().hex[:8]}",  # this stack's own
        )
        assert missing(settings) == []
        ports = {kind: [free_port(), free_port()] for kind in ("rasa", "action", "web")}
        stack = ProductionStack(settings, replicas=2, ports=ports)
        try:
            stack.start(timeout=240)
            yield stack
        finally:
            stack.stop()
            run_async(delete_queue(settings.event_broker_url, settings.event_broker_queue))


def test_the_profile_says_what_it_lacks(tmp_path: Path) -> None:
    problems = missing(stack_settings(tmp_path))
    assert any("DATABASE_URL must be a PostgreSQL URL" in p for p in problems)
    assert any("LOCK_STORE_URL" in p for p in problems)
    assert any("EVENT_BROKER_URL" in p for p in problems)


def test_conversations_over_two_rasa_servers_keep_every_turn_in_order(production) -> None:
    settings = production.settings
    senders = [f"prod-{uuid.uuid4().hex[:8]}" for _ in range(CONVERSATIONS)]

    def converse(sender: str) -> list[str]:
        chat = RestChat(settings, sender)
        return [chat.say(text) for text in MESSAGES]

    with concurrent.futures.ThreadPoolExecutor(CONVERSATIONS) as pool:
        replies = list(pool.map(converse, senders))
    assert all(all(r.strip() for r in conversation) for conversation in replies), replies
    assert all("8 days late" in conversation[-1] for conversation in replies)

    # Both Rasa servers answered (HAProxy's log names the server of each request).
    log = (settings.data_dir / "logs" / "haproxy.log").read_text(errors="replace")
    assert "rasa_rest/rasa-1" in log and "rasa_rest/rasa-2" in log

    engine = sa.create_engine(settings.database_url)
    with engine.connect() as c:
        for sender in senders:
            rows = c.execute(
                sa.text("SELECT data FROM events WHERE sender_id = :s ORDER BY id"), {"s": sender}
            ).all()
            texts = [json.loads(r.data).get("text") for r in rows]
            users = [
                json.loads(r.data)["text"] for r in rows if json.loads(r.data)["event"] == "user"
            ]
            assert users == ["hi", "where is my order?", "10234", "[EMAIL]"], users
            assert len(texts) == len(rows)
        total = c.execute(
            sa.text("SELECT count(*) FROM events WHERE sender_id = ANY(:s)"), {"s": senders}
        ).scalar()
    engine.dispose()

    # Every event reaches the facts through RabbitMQ, once: the outbox empties, and each
    # conversation's facts count its four turns.
    store = sa.create_engine(settings.store_url)
    deadline = time.monotonic() + 60
    turns: dict[str, int] = {}
    while time.monotonic() < deadline:
        with store.connect() as c:
            turns = dict(
                c.execute(
                    sa.text(
                        "SELECT sender_id, sum(turns) FROM conversation_facts "
                        "WHERE sender_id = ANY(:s) GROUP BY sender_id"
                    ),
                    {"s": senders},
                ).all()
            )
        if len(turns) == CONVERSATIONS and all(v == len(MESSAGES) for v in turns.values()):
            break
        time.sleep(1.0)
    store.dispose()
    assert turns == {s: len(MESSAGES) for s in senders}
    tracker = sa.create_engine(settings.database_url)
    with tracker.connect() as c:
        waiting = c.execute(sa.text("SELECT count(*) FROM event_outbox")).scalar()
    tracker.dispose()
    assert waiting == 0
    assert total > CONVERSATIONS * len(MESSAGES)


def test_an_agent_on_either_web_front_sees_a_new_handoff(production) -> None:
    """Live console updates cross web fronts (PostgreSQL LISTEN/NOTIFY): the handoff
    opened through one front reaches an agent's stream on each."""
    import threading

    import httpx

    from routing.accounts import AGENT, Accounts

    settings = production.settings
    accounts = Accounts(settings.store_url)
    if accounts.authenticate("prod-agent", "password123") is None:
        accounts.add_user("prod-agent", "password123", AGENT, "Prod Agent")
    accounts.close()
    lb = f"127.0.0.1:{settings.web_port}"
    client = httpx.Client(base_url=f"http://{lb}", timeout=30.0)
    reply = client.post(
        "/api/console/login", json={"username": "prod-agent", "password": "password123"}
    )
    assert reply.status_code == 200, reply.text
    seen: dict[int, list[str]] = {1: [], 2: []}
    ready = threading.Barrier(3)

    def follow(n: int) -> None:
        port = production.ports["web"][n - 1]
        with (
            httpx.Client(timeout=httpx.Timeout(5.0, read=30.0)) as front,
            front.stream(
                "GET",
                f"http://127.0.0.1:{port}/api/console/stream",
                headers={"Host": lb},
                cookies=client.cookies,
            ) as stream,
        ):
            assert stream.status_code == 200
            ready.wait(30)
            for line in stream.iter_lines():
                seen[n].append(line)
                if sender in line or '"delta":true' in line:
                    return  # (else it reads on until the stack stops under it)

    sender = f"prod-human-{uuid.uuid4().hex[:8]}"
    threads = [threading.Thread(target=follow, args=(n,), daemon=True) for n in (1, 2)]
    for t in threads:
        t.start()
    ready.wait(30)
    time.sleep(0.5)
    RestChat(settings, sender).say("I want to talk to a human")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not all(
        any('"delta":true' in line for line in seen[n]) for n in (1, 2)
    ):
        time.sleep(0.2)
    for n in (1, 2):
        assert any('"delta":true' in line for line in seen[n]), (n, seen[n][-5:])
