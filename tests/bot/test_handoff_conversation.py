"""Emotion-aware routing and human handoff, through the real Rasa, action and web servers.

Customers talk over REST (and the web chat's socket.io channel), agents over the
console's HTTP API, exactly as the browser pages do.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from typing import Any

import httpx
import pytest
import socketio
from rasa.shared.core.constants import ACTION_LISTEN_NAME

from bot.rasa_server import api_headers
from core.constants import ACTION_RELAY_TO_AGENT, SLOT_TONE, TONE_EMPATHETIC
from core.tokens import SessionTokens
from routing.accounts import AGENT, Accounts
from tests.conftest import RestChat, open_handoff_id, run_async, tracker_of

pytestmark = [pytest.mark.integration, pytest.mark.slow]
PASSWORD = "password123"


@pytest.fixture(scope="module")
def agents(stack) -> list[str]:
    accounts = Accounts(stack.settings.store_url)
    names = []
    for name in ("ava", "ben"):
        if accounts.authenticate(name, PASSWORD) is None:
            accounts.add_user(name, PASSWORD, AGENT, name.capitalize())
        names.append(name)
    accounts.close()
    return names


def agent_client(stack, username: str) -> httpx.Client:
    client = httpx.Client(base_url=stack.settings.web_url, timeout=30.0)
    reply = client.post("/api/console/login", json={"username": username, "password": PASSWORD})
    assert reply.status_code == 200, reply.text
    return client


def handoff_of(stack, agent: httpx.Client, conversation_id: str) -> dict[str, Any]:
    handoff_id = open_handoff_id(stack, conversation_id)
    entries = agent.get("/api/console/queue").json()["handoffs"]
    found = [e for e in entries if e["id"] == handoff_id]
    assert found, f"{conversation_id} is not in the console queue: {entries}"
    assert "conversation_id" not in found[0] and "customer_key" not in found[0]
    return found[0]


def new_chat(stack, customer: str | None = None) -> RestChat:
    """A new conversation; `customer`: a store customer id, signed in by the website."""
    ident = uuid.uuid4().hex[:10]
    return RestChat(stack.settings, f"h-{ident}", signed_in_as=customer)


def test_a_customer_growing_frustrated_is_escalated_with_reason_queue_and_priority(
    stack, agents
) -> None:
    chat = new_chat(stack)
    chat.say("where is my order")
    chat.say("10234")
    assert "8 days late" in chat.say("dana.whitfield@example.com")
    chat.say("this is so annoying, it was supposed to be here last week")
    handed = chat.say("This is the THIRD time I'm asking, where is my order??")

    assert "bringing in a person from our orders & shipping team" in handed
    assert "in line" in handed and "estimated wait" in handed
    slots = tracker_of(stack, chat.sender)["slots"]
    decision = slots["routing_decision"]
    assert decision["action"] == "escalate"
    assert decision["explanation"].startswith("distress")
    assert "frustration" in decision["explanation"]
    assert (decision["queue"], decision["priority"]) == ("orders_shipping", "high")  # plus tier
    assert slots["handoff_status"] == "waiting"

    agent = agent_client(stack, agents[0])
    entry = handoff_of(stack, agent, chat.sender)
    assert (entry["queue"], entry["priority"]) == ("orders_shipping", "high")
    assert "10234" in entry["issue"]
    summary = agent.get(f"/api/console/handoffs/{entry['id']}").json()["handoff"]["summary"]
    assert summary["facts"]["order_status"].endswith("days late")  # from the store
    assert "This is the THIRD time I'm asking, where is my order??" in summary["quotes"]
    assert summary["next_step"] and len(summary["emotion_timeline"]) == 5


def test_elevated_distress_changes_the_tone_before_escalating(stack) -> None:
    chat = new_chat(stack)
    chat.say("where is my order")
    chat.say("10234")
    chat.say("dana.whitfield@example.com")
    reply = chat.send("ugh this is really annoying, why is it always late with you people")
    slots = tracker_of(stack, chat.sender)["slots"]
    if slots["routing_decision"]["action"] == "escalate":
        pytest.fail(f"escalated on the first annoyed line: {slots['routing_decision']}")
    assert slots[SLOT_TONE] == TONE_EMPATHETIC, slots["routing_decision"]
    # The late order is reported at once ("I'm sorry — your order … is 8 days late. I've
    # opened a trace …"): an apology that is due, said once, not stacked with another.
    texts = " ".join(m.get("text", "") for m in reply).lower()
    assert "late" in texts and texts.count("sorry") == 1, reply
    buttons = [b["payload"] for m in reply for b in m.get("buttons", [])]
    assert "/request_human" in buttons  # a person is offered proactively


def test_a_calm_customer_with_one_negative_word_is_not_escalated(stack) -> None:
    chat = new_chat(stack)
    chat.say("hi there")
    reply = chat.say("ugh, my package is late")
    assert "order number" in reply
    chat.say("it's order 10234")
    slots = tracker_of(stack, chat.sender)["slots"]
    assert slots["routing_decision"]["action"] != "escalate"
    assert slots["handoff_status"] is None


def test_a_calm_but_urgent_message_is_escalated_at_once_with_urgent_priority(stack, agents) -> None:
    chat = new_chat(stack)
    reply = chat.say("someone just took money out of my account")
    assert "bringing in a person" in reply and "urgent" in reply
    decision = tracker_of(stack, chat.sender)["slots"]["routing_decision"]
    assert decision["priority"] == "urgent" and decision["explanation"].startswith("urgent")
    entry = handoff_of(stack, agent_client(stack, agents[0]), chat.sender)
    assert entry["priority"] == "urgent" and entry["wait_target_seconds"] == 60
    assert entry["queue"] == "billing" and "possible fraud" in entry["issue"], entry


def test_a_duplicate_charge_stays_with_the_bot(stack) -> None:
    chat = new_chat(stack)
    reply = chat.say("I was charged twice for my order")
    assert "bringing in a person" not in reply
    assert tracker_of(stack, chat.sender)["slots"]["handoff_status"] is None


def test_asking_for_a_human_is_escalated_at_once_and_the_bot_then_stays_silent(
    stack, agents
) -> None:
    chat = new_chat(stack)
    assert "bringing in a person" in chat.say("I want to talk to a human")
    decision = tracker_of(stack, chat.sender)["slots"]["routing_decision"]
    assert decision["explanation"].startswith("asked for a person")
    assert chat.send("hello? is anyone there") == []  # silent while waiting
    agent = agent_client(stack, agents[0])
    entry = handoff_of(stack, agent, chat.sender)
    view = agent.get(f"/api/console/handoffs/{entry['id']}").json()
    relayed = [m["text"] for m in view["messages"] if m["sender"] == "customer"]
    assert relayed == ["hello? is anyone there"]  # nothing written while waiting is lost
    assert view["handoff"]["summary"]["reason"].startswith("asked for a person")


def test_two_agents_claiming_at_the_same_instant_exactly_one_wins(stack, agents) -> None:
    chat = new_chat(stack)
    chat.say("I need a human please")
    clients = [agent_client(stack, name) for name in agents]
    handoff_id = handoff_of(stack, clients[0], chat.sender)["id"]
    barrier = threading.Barrier(len(clients))
    statuses: list[int] = []

    def claim(client: httpx.Client) -> None:
        barrier.wait()
        statuses.append(client.post(f"/api/console/handoffs/{handoff_id}/claim").status_code)

    threads = [threading.Thread(target=claim, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200, 409]


async def actions_after(stack, sender: str, text: str, timeout: float = 30.0) -> list[str]:
    """The actions Rasa ran for the customer's message `text`, once its turn is complete:
    polls the tracker until that message is followed by an `action_listen`."""
    deadline = time.monotonic() + timeout
    url = f"{stack.settings.rasa_url}/conversations/{sender}/tracker"
    async with httpx.AsyncClient(timeout=30) as rasa:
        while True:
            reply = await rasa.get(url, headers=api_headers(stack.settings.rasa_api_token))
            assert reply.status_code == 200, reply.text
            events = reply.json()["events"]
            said = [i for i, e in enumerate(events) if e["event"] == "user" and e["text"] == text]
            if said:
                actions = [e["name"] for e in events[said[-1] + 1 :] if e["event"] == "action"]
                if ACTION_LISTEN_NAME in actions:
                    return actions
            if time.monotonic() > deadline:
                raise AssertionError(f"the turn of {text!r} did not end within {timeout} s")
            await asyncio.sleep(0.1)


async def web_chat_session(stack, agents: list[str]) -> dict[str, Any]:
    """A web chat customer (socket.io) escalates; an agent claims, replies, hands back."""
    received: list[dict[str, Any]] = []
    arrived = asyncio.Event()
    confirmed = asyncio.Event()
    session_id, token = SessionTokens(stack.settings.session_secret).issue()
    client = socketio.AsyncClient()

    @client.on("bot_uttered")
    async def on_message(data: dict[str, Any]) -> None:
        received.append(data)
        arrived.set()

    @client.on("session_confirm")
    async def on_confirm(_session_id: str) -> None:
        confirmed.set()

    async def request_session() -> None:
        """Ask for the session and wait for Rasa's `session_confirm`. The server answers on
        this connection in order, so every message it sent before has arrived by then."""
        confirmed.clear()
        await client.emit("session_request", {"session_id": session_id})
        await asyncio.wait_for(confirmed.wait(), timeout=30)

    async def say(text: str) -> None:
        await client.emit(
            "user_uttered",
            {"message": text, "session_id": session_id, "customData": {}},
        )

    cursor = 0

    statuses: list[str] = []

    async def next_message(timeout: float = 30.0) -> dict[str, Any]:
        """The next message with text not read yet (messages are read in the order they
        came); the handoff status payloads passed on the way are kept in `statuses`."""
        nonlocal cursor
        deadline = time.monotonic() + timeout
        while True:
            while len(received) <= cursor:
                arrived.clear()
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"no message within {timeout} s; got {received}")
                try:
                    await asyncio.wait_for(arrived.wait(), remaining)
                except asyncio.TimeoutError:
                    continue
            cursor += 1
            message = received[cursor - 1]
            if "text" in message:
                return message
            statuses.append(message.get("handoff_status", "?"))

    await client.connect(stack.settings.rasa_url, transports=["websocket"], auth={"token": token})
    await request_session()
    await say("can I talk to a real person")
    handed = await next_message()
    assert "bringing in a person" in handed["text"]

    async with httpx.AsyncClient(base_url=stack.settings.web_url, timeout=30) as agent:
        await agent.post("/api/console/login", json={"username": agents[0], "password": PASSWORD})
        entries = (await agent.get("/api/console/queue")).json()["handoffs"]
        handoff_id = open_handoff_id(stack, session_id)
        assert handoff_id in [e["id"] for e in entries]
        assert (await agent.post(f"/api/console/handoffs/{handoff_id}/claim")).status_code == 200
        joined = await next_message()
        assert "Ava from our support team has joined" in joined["text"]

        sent = await agent.post(
            f"/api/console/handoffs/{handoff_id}/messages",
            json={"text": "Hi, I'm Ava. I can see your order — let me fix this."},
        )
        assert sent.status_code == 201
        reply = await next_message()
        assert reply.get("sender") == "agent" and reply.get("agent_name") == "Ava"
        assert reply["text"].startswith("Hi, I'm Ava")

        await say("thank you, where is order 10234?")
        # The turn is over once Rasa listens again; the session round trip then brings
        # in anything the bot said during it. Only then is "nothing arrived" silence.
        held_turn = await actions_after(stack, session_id, "thank you, where is order 10234?")
        await request_session()
        silent = [m for m in received[cursor:] if "text" in m]  # the bot says nothing
        view = (await agent.get(f"/api/console/handoffs/{handoff_id}")).json()
        relayed = [m["text"] for m in view["messages"] if m["sender"] == "customer"]

        assert (await agent.post(f"/api/console/handoffs/{handoff_id}/handback")).status_code == 200
        back = await next_message()
        assert "handed our conversation back" in back["text"]
    await say("where is my order")
    answered = await next_message()
    await client.disconnect()
    return {
        "silent": silent,
        "held_turn": held_turn,
        "relayed": relayed,
        "answered": answered,
        "statuses": statuses,
    }


def test_agent_reply_reaches_the_web_chat_and_the_bot_resumes_after_hand_back(
    stack, agents
) -> None:
    outcome = run_async(web_chat_session(stack, agents))
    assert outcome["held_turn"] == [ACTION_RELAY_TO_AGENT, ACTION_LISTEN_NAME]
    assert outcome["silent"] == []
    assert outcome["relayed"] == ["thank you, where is order 10234?"]
    # The web chat learns each change of the handoff from a status payload, not the text.
    assert outcome["statuses"] == ["waiting", "claimed", "handed_back"]
    # The bot answers again, with the context: the order number the customer gave the
    # agent is known, so it goes straight to checking who they are.
    assert "email address" in outcome["answered"]["text"]


def test_a_handoff_appears_on_the_live_stream(stack, agents) -> None:
    chat = new_chat(stack)
    agent = agent_client(stack, agents[1])
    events: list[tuple[str, dict]] = []
    ready = threading.Event()

    before: set[int] = set()

    def listen() -> None:
        with agent.stream("GET", "/api/console/stream", timeout=30) as stream:
            event = None
            for line in stream.iter_lines():
                if line.startswith("event:"):
                    event = line.split(":", 1)[1].strip()
                elif line.startswith("data:") and event:
                    data = json.loads(line.split(":", 1)[1])
                    events.append((event, data))
                    if not ready.is_set():
                        before.update(e["id"] for e in data["handoffs"])
                    ready.set()
                    if event == "queue" and any(e["id"] not in before for e in data["handoffs"]):
                        return

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    assert ready.wait(10), "no snapshot on the stream"
    chat.say("let me speak to an agent")
    listener.join(15)
    kinds = [kind for kind, _ in events]
    assert kinds[0] == "queue" and "handoff" in kinds, kinds
    queue_updates = [data for kind, data in events if kind == "queue"]
    handoff_id = open_handoff_id(stack, chat.sender)
    assert any(e["id"] == handoff_id for data in queue_updates for e in data["handoffs"])
