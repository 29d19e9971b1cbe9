"""Chaos: the production profile (HAProxy, two Rasa, action and web servers, PostgreSQL,
Redis, RabbitMQ) under a steady load of 20 conversations, while one thing goes wrong at
a time: a Rasa server is killed (SIGKILL) mid-turn, Redis restarts, RabbitMQ restarts,
PostgreSQL restarts. The servers on this machine are shared, so a restart is played by a
proxy in front of each (`tests.chaos.proxy`): every connection drops at once and new ones
are refused for a few seconds, as when the server restarts; Redis also loses its locks.

After each: every conversation's user messages are in the tracker store once and in the
order sent (the ones answered all of them); every message got a reply or a clear "send
it again"; every stored event reached the conversation facts through RabbitMQ once (by
its event id). The counts are printed (`-s` shows them)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from bot.bench_load import SUPPORT_SCRIPTS
from bot.production import ProductionStack
from bot.rasa_server import session_headers
from core.constants import RETRY_PROMPT
from insights.broker import delete_queue
from privacy import redact_text
from tests.chaos.proxy import CuttableProxy
from tests.conftest import free_port, listening, postgres_databases, run_async, stack_settings

pytestmark = [pytest.mark.chaos, pytest.mark.integration, pytest.mark.slow]

CONVERSATIONS = 20
STEADY_SECONDS = 4.0  # load before the fault
AFTER_SECONDS = 8.0  # load after it
CUT_SECONDS = 3.0
RESENDS = 5  # how often a client sends a message again when told to
REPLY, RETRY, DROPPED, ERROR = "reply", "retry", "dropped", "error"


@dataclass
class Profile:
    stack: ProductionStack
    pg: CuttableProxy
    redis: CuttableProxy
    rabbit: CuttableProxy
    tracker_url: str  # straight to PostgreSQL, not through the proxy
    store_url: str


@pytest.fixture(scope="module")
def profile(tmp_path_factory: pytest.TempPathFactory):
    if not (listening(6379) and listening(5672)):
        pytest.skip("the chaos tests need Redis (6379) and RabbitMQ (5672) here")
    if shutil.which("haproxy") is None and not Path("/usr/sbin/haproxy").exists():
        pytest.skip("HAProxy is not installed (./scripts/ensure-haproxy.sh)")
    pg, redis, rabbit = (CuttableProxy(p).start() for p in (5432, 6379, 5672))
    queue = f"chaos-{uuid.uuid4().hex[:8]}"
    with postgres_databases("bb_chaos", 2) as (tracker_url, store_url):

        def via_proxy(url: str) -> str:
            return sa.engine.make_url(url).set(port=pg.port).render_as_string(hide_password=False)

        settings = stack_settings(
            tmp_path_factory.mktemp("chaos"),
            DATABASE_URL=via_proxy(tracker_url),
            STORE_URL=via_proxy(store_url),
            LOCK_STORE_URL=f"redis://127.0.0.1:{redis.port}/12",
            EVENT_BROKER_URL=f"amqp://guest:guest@127.0.0.1:{rabbit.port}/",
            EVENT_BROKER_QUEUE=queue,
        )
        ports = {kind: [free_port(), free_port()] for kind in ("rasa", "action", "web")}
        stack = ProductionStack(settings, replicas=2, ports=ports)
        try:
            stack.start(timeout=240)
            yield Profile(stack, pg, redis, rabbit, tracker_url, store_url)
        finally:
            stack.stop()
            for proxy in (pg, redis, rabbit):
                proxy.stop()
            run_async(delete_queue("amqp://guest:guest@127.0.0.1:5672/", queue))


@dataclass
class Load:
    """`CONVERSATIONS` customers, each sending a support conversation's messages one
    after another (a new conversation after each), until stopped."""

    url: str
    secret: str
    tag: str
    sent: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # text, outcome
    errors: Counter[str] = field(default_factory=Counter)  # what the errors were
    resent: Counter[str] = field(default_factory=Counter)  # by sender: sent again
    dropped: Counter[str] = field(default_factory=Counter)  # why no answer came
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> None:
        self._threads = [
            threading.Thread(target=self._customer, args=(n,), daemon=True)
            for n in range(CONVERSATIONS)
        ]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(120)

    def _customer(self, n: int) -> None:
        with httpx.Client(timeout=60.0) as client:
            k = 0
            while not self._stop.is_set():
                sender = f"chaos-{self.tag}-{n}-{k}"
                k += 1
                script = SUPPORT_SCRIPTS[(n + k) % len(SUPPORT_SCRIPTS)]
                said = self.sent.setdefault(sender, [])
                for text in script:
                    if self._stop.is_set():
                        break
                    said.append((text, self._send(client, sender, text)))

    def _send(self, client: httpx.Client, sender: str, text: str) -> str:
        """Send `text` as a customer's client does: when told to send it again, again
        after the Retry-After seconds, with the same message id (answered once however
        often it arrives), up to `RESENDS` times."""
        message_id = uuid.uuid4().hex
        for attempt in range(RESENDS + 1):
            outcome, retry_after = self._post(client, sender, text, message_id)
            if outcome != RETRY or attempt == RESENDS:
                return outcome
            self.resent[sender] += 1
            time.sleep(retry_after)
        return RETRY

    def _post(
        self, client: httpx.Client, sender: str, text: str, message_id: str
    ) -> tuple[str, float]:
        try:
            reply = client.post(
                self.url,
                json={"sender": sender, "message": text, "message_id": message_id},
                headers=session_headers(self.secret, sender),
            )
        except (httpx.RemoteProtocolError, httpx.ReadTimeout) as e:
            # No answer at all (HAProxy retries a message whose server died under it on
            # the other one, deploy/haproxy.cfg, so none should go unanswered).
            self.dropped[f"{type(e).__name__}: {e}"] += 1
            return DROPPED, 0.0
        except httpx.HTTPError as e:
            self.errors[type(e).__name__] += 1
            return ERROR, 0.0
        if reply.status_code == 200:
            body = reply.json()
            if isinstance(body, list) and body:
                return REPLY, 0.0
            self.errors["HTTP 200, no reply"] += 1
            return ERROR, 0.0
        try:
            message = str(reply.json().get("message", ""))
        except (ValueError, AttributeError):
            message = ""
        if reply.status_code in (502, 503, 504) and message == RETRY_PROMPT:
            return RETRY, float(reply.headers.get("retry-after") or 1)
        self.errors[f"HTTP {reply.status_code}: {reply.text[:80]}"] += 1
        return ERROR, 0.0


def kill_a_rasa_server(profile: Profile) -> None:
    rasa = profile.stack.service("rasa-1")
    assert rasa.process is not None
    os.killpg(rasa.process.pid, signal.SIGKILL)  # mid-turn: 20 conversations are talking
    rasa.process.wait(10)
    time.sleep(1.0)
    rasa.start(profile.stack.stack.environ())  # what a supervisor does
    deadline = time.monotonic() + 90
    while not rasa.is_ready() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert rasa.is_ready(), rasa.log_tail()


def restart_redis(profile: Profile) -> None:
    import redis

    redis.Redis(port=6379, db=12).flushdb()  # a restart without persistence: locks gone
    profile.redis.cut(CUT_SECONDS)


def restart_rabbitmq(profile: Profile) -> None:
    profile.rabbit.cut(CUT_SECONDS)


def restart_postgresql(profile: Profile) -> None:
    profile.pg.cut(CUT_SECONDS)


FAULTS = {
    "kill a Rasa server": kill_a_rasa_server,
    "restart Redis": restart_redis,
    "restart RabbitMQ": restart_rabbitmq,
    "restart PostgreSQL": restart_postgresql,
}


@dataclass
class Counts:
    messages: int
    replied: int
    retry: int
    resent: int
    dropped: int
    errors: int
    events_stored: int
    events_published: int
    events_consumed: int
    lost: int
    duplicated: int
    out_of_order: list[str]

    def line(self, fault: str) -> str:
        return (
            f"{fault:<20} messages {self.messages:4d}: replied {self.replied}, "
            f"still 'send it again' {self.retry} (sent again {self.resent}), dropped "
            f"{self.dropped}, errors {self.errors} | "
            f"events stored {self.events_stored}, published {self.events_published}, "
            f"consumed {self.events_consumed}, lost {self.lost}, "
            f"duplicated {self.duplicated} | out of order {len(self.out_of_order)}"
        )


def settle(profile: Profile, senders: list[str], timeout: float = 90.0) -> tuple[list, int, set]:
    """Wait until the outbox is empty and the facts hold every stored event id; the
    stored rows of `senders`, how many of their events are still in the outbox (not yet
    published to RabbitMQ), and the consumed ids."""
    tracker, store = sa.create_engine(profile.tracker_url), sa.create_engine(profile.store_url)
    deadline = time.monotonic() + timeout
    try:
        while True:
            with tracker.connect() as c:
                rows = c.execute(
                    sa.text(
                        "SELECT sender_id, data FROM events WHERE sender_id = ANY(:s) ORDER BY id"
                    ),
                    {"s": senders},
                ).all()
                waiting = c.execute(
                    sa.text("SELECT count(*) FROM event_outbox WHERE sender_id = ANY(:s)"),
                    {"s": senders},
                ).scalar()
            ids = {json.loads(r.data).get("event_id") for r in rows} - {None}
            with store.connect() as c:
                consumed = {
                    r.event_id
                    for r in c.execute(
                        sa.text("SELECT event_id FROM consumed_events WHERE event_id = ANY(:i)"),
                        {"i": sorted(ids)},
                    )
                }
            if (not waiting and consumed == ids) or time.monotonic() > deadline:
                return rows, int(waiting or 0), consumed
            time.sleep(1.0)
    finally:
        tracker.dispose()
        store.dispose()


def facts_turns(profile: Profile, senders: list[str]) -> dict[str, int]:
    store = sa.create_engine(profile.store_url)
    try:
        with store.connect() as c:
            return {
                r.sender_id: int(r.turns)
                for r in c.execute(
                    sa.text(
                        "SELECT sender_id, sum(turns) AS turns FROM conversation_facts "
                        "WHERE sender_id = ANY(:s) GROUP BY sender_id"
                    ),
                    {"s": senders},
                )
            }
    finally:
        store.dispose()


def check(profile: Profile, load: Load) -> Counts:
    senders = sorted(load.sent)
    rows, unpublished, consumed = settle(profile, senders)
    stored: dict[str, list[str]] = {s: [] for s in senders}
    ids = set()
    for row in rows:
        data = json.loads(row.data)
        if data.get("event_id"):
            ids.add(data["event_id"])
        if data.get("event") == "user":
            stored[row.sender_id].append(data.get("text"))
    outcomes = Counter(outcome for said in load.sent.values() for _, outcome in said)
    out_of_order = []
    for sender, said in load.sent.items():
        typed = [text for text, _ in said]
        kept = stored[sender]
        # The stored messages: the sent ones, in order, each once (redacted as stored).
        position = 0
        for text in kept:
            while position < len(typed) and text not in (
                typed[position],
                redact_text(typed[position]),
            ):
                position += 1
            if position == len(typed):
                out_of_order.append(f"{sender}: sent {typed}, stored {kept}")
                break
            position += 1
        answered = [t for t, outcome in said if outcome == REPLY]
        if len(kept) < len(answered):
            out_of_order.append(f"{sender}: answered {answered}, stored {kept}")
    turns = facts_turns(profile, senders)
    duplicated = sum(max(0, turns.get(s, 0) - len(stored[s])) for s in senders)
    return Counts(
        messages=sum(outcomes.values()),
        replied=outcomes[REPLY],
        retry=outcomes[RETRY],
        resent=sum(load.resent.values()),
        dropped=outcomes[DROPPED],
        errors=outcomes[ERROR],
        events_stored=len(ids),
        events_published=len(ids) - unpublished,
        events_consumed=len(consumed),
        lost=len(ids - consumed),
        duplicated=duplicated,
        out_of_order=out_of_order,
    )


@pytest.mark.parametrize("fault", list(FAULTS))
def test_nothing_lost_nothing_doubled(profile: Profile, fault: str) -> None:
    settings = profile.stack.settings
    load = Load(
        f"{settings.rasa_url}/webhooks/rest/webhook", settings.session_secret, uuid.uuid4().hex[:6]
    )
    load.start()
    time.sleep(STEADY_SECONDS)
    FAULTS[fault](profile)
    time.sleep(AFTER_SECONDS)
    load.stop()
    counts = check(profile, load)
    print("\n" + counts.line(fault), flush=True)
    assert counts.messages > CONVERSATIONS
    assert counts.errors == 0, (counts.line(fault), load.errors)
    # Every message is answered, even those the killed server was handling (HAProxy
    # retries them on the other one) and those sent during an outage (the client sends
    # them again when told to): each once (bot.replayed_turns).
    assert counts.dropped == 0 and counts.retry == 0, (counts.line(fault), load.dropped)
    assert counts.out_of_order == [], counts.out_of_order[:3]
    assert counts.lost == 0 and counts.duplicated == 0, counts.line(fault)
    assert counts.events_consumed == counts.events_published == counts.events_stored > 0
